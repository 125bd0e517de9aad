package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// seedDeployments stores three deployments, deliberately out of order.
func seedDeployments(f *fakeOrion) (daily, weekly, other *orionv1.Deployment) {
	other = f.addDeployment(&orionv1.Deployment{FlowName: "zeta", Name: "adhoc", WorkQueueName: "default"})
	weekly = f.addDeployment(&orionv1.Deployment{FlowName: "hello", Name: "weekly", WorkQueueName: "batch", IsScheduleActive: true,
		Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "0 9 * * 1"}}}})
	daily = f.addDeployment(&orionv1.Deployment{FlowName: "hello", Name: "daily", WorkQueueName: "default", IsScheduleActive: true,
		Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(time.Hour)}}}})
	return daily, weekly, other
}

func TestDeploymentList(t *testing.T) {
	f := newFakeOrion()
	f.pageSize = 1 // every deployment on its own page
	daily, weekly, other := seedDeployments(f)
	env := newEnv(t, f)

	r := env.mustRun(0, "deployment", "ls")
	equalLines(t, r.stdout,
		"NAME           ID                                     WORK QUEUE   SCHEDULE",
		"hello/daily    "+daily.Id+"   default      every 1h",
		"hello/weekly   "+weekly.Id+"   batch        cron 0 9 * * 1",
		"zeta/adhoc     "+other.Id+"   default      -",
	)

	r = env.mustRun(0, "deployment", "ls", "--flow-name", "zeta", "-o", "json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("-o json is not one JSON document: %v\n%s", err, r.stdout)
	}
	if len(got) != 1 || got[0]["name"] != "adhoc" || got[0]["flow_name"] != "zeta" || got[0]["schedule"] != nil {
		t.Errorf("json = %v", got)
	}
	if _, ok := got[0]["retries"]; !ok {
		t.Error("-o json must include unpopulated fields")
	}

	r = env.mustRun(1, "deployment", "ls", "-o", "yaml")
	equalLines(t, r.stderr, "Error: invalid output format 'yaml': expected 'table' or 'json'")
}

func TestDeploymentInspect(t *testing.T) {
	f := newFakeOrion()
	daily, _, _ := seedDeployments(f)
	env := newEnv(t, f)

	byName := env.mustRun(0, "deployment", "inspect", "hello/daily")
	byID := env.mustRun(0, "deployment", "inspect", daily.Id)
	if byName.stdout != byID.stdout {
		t.Errorf("by name and by id differ:\n%s\n%s", byName.stdout, byID.stdout)
	}
	if !strings.HasPrefix(byName.stdout, "{\n  \"id\": \""+daily.Id+"\",\n  \"name\": \"daily\",") {
		t.Errorf("not indented JSON with proto names:\n%s", byName.stdout)
	}
	if strings.Contains(byName.stdout, `"retries"`) {
		t.Error("the default view leaves out unset fields")
	}
	full := env.mustRun(0, "deployment", "inspect", "hello/daily", "-o", "json")
	var m map[string]any
	if err := json.Unmarshal([]byte(full.stdout), &m); err != nil {
		t.Fatal(err)
	}
	if m["retries"] != 0.0 || m["work_queue_name"] != "default" {
		t.Errorf("-o json = %v", m)
	}

	r := env.mustRun(1, "deployment", "inspect", "hello/nope")
	equalLines(t, r.stderr, "Error: Deployment 'hello/nope' not found!")
	r = env.mustRun(1, "deployment", "inspect", "00000000-0000-4000-8000-999999999999")
	equalLines(t, r.stderr, "Error: Deployment '00000000-0000-4000-8000-999999999999' not found!")
	r = env.mustRun(1, "deployment", "inspect", "hello")
	equalLines(t, r.stderr, "Error: Invalid deployment name. Expected '<flow-name>/<deployment-name>'")
}

func TestDeploymentRun(t *testing.T) {
	f := newFakeOrion()
	seedDeployments(f)
	env := newEnv(t, f)

	r := env.mustRun(0, "deployment", "run", "hello/daily",
		"--params", `{"name": "Arthur", "count": 1}`, "--param", "count=3", "--param", "label=a,b",
		"--tag", "manual", "--tag", "x", "--scheduled-time", "2024-05-02T10:00:00+02:00")
	run := f.runs[len(f.runs)-1]
	equalLines(t, r.stdout, fmt.Sprintf("Created flow run 'messy-petrel' (%s)", run.Id))
	req := f.runReqs[0]
	if want := map[string]any{"name": "Arthur", "count": 3.0, "label": "a,b"}; !reflect.DeepEqual(req.Parameters.AsMap(), want) {
		t.Errorf("parameters = %v, want %v", req.Parameters.AsMap(), want)
	}
	if !reflect.DeepEqual(req.Tags, []string{"manual", "x"}) {
		t.Errorf("tags = %v", req.Tags)
	}
	if got := req.ScheduledTime.AsTime(); !got.Equal(time.Date(2024, 5, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled_time = %v", got)
	}
	if req.State != nil {
		t.Error("run must leave the initial state to the server (SCHEDULED)")
	}

	r = env.mustRun(1, "deployment", "run", "hello/daily", "--param", "unknown=1")
	equalLines(t, r.stderr, "Error: unknown parameter 'unknown'")
	r = env.mustRun(1, "deployment", "run", "hello/daily", "--param", "oops")
	equalLines(t, r.stderr, "Error: invalid --param 'oops': expected KEY=VALUE")
	r = env.mustRun(1, "deployment", "run", "hello/daily", "--scheduled-time", "soon")
	if !strings.HasPrefix(r.stderr, "Error: invalid --scheduled-time: invalid date 'soon'") {
		t.Errorf("stderr = %q", r.stderr)
	}
	r = env.mustRun(1, "deployment", "run", "nope/nope")
	equalLines(t, r.stderr, "Error: Deployment 'nope/nope' not found!")

	// Infrastructure overrides are validated against the merged result
	// before the run is created.
	env.mustRun(0, "deployment", "run", "hello/daily", "--infra-override", "type=docker",
		"--infra-override", "image=python:3.12-slim", "--infra-override", "env.MODE=fast", "--infra-override", "resources.limits.memory=1Gi")
	ov := f.runReqs[len(f.runReqs)-1].GetInfrastructure()
	if ov.GetType() != "docker" || ov.GetEnv()["MODE"] != "fast" || ov.GetConfig().AsMap()["image"] != "python:3.12-slim" ||
		!reflect.DeepEqual(ov.GetConfig().AsMap()["resources"], map[string]any{"limits": map[string]any{"memory": "1Gi"}}) {
		t.Errorf("infrastructure override = %v", ov)
	}
	r = env.mustRun(1, "deployment", "run", "hello/daily", "--infra-override", "image=x")
	equalLines(t, r.stderr, "Error: invalid --infra-override: infrastructure.config.image: unknown field for subprocess infrastructure; valid fields: condaenv, stream_output, virtualenv")
	r = env.mustRun(1, "deployment", "run", "hello/daily", "--infra-override", "image")
	if !strings.HasPrefix(r.stderr, `Error: invalid --infra-override "image": expected key=value`) {
		t.Errorf("stderr = %q", r.stderr)
	}
	if len(f.runReqs) != 3 {
		t.Errorf("%d runs requested; local argument errors must not reach the server", len(f.runReqs))
	}
}

// Scripted states used by the watch tests.
var (
	pending   = st(orionv1.StateType_STATE_TYPE_PENDING, "", "", time.Second)
	running   = st(orionv1.StateType_STATE_TYPE_RUNNING, "", "", 2*time.Second)
	completed = st(orionv1.StateType_STATE_TYPE_COMPLETED, "", "", 3*time.Second)
)

func TestDeploymentRun_WatchCoalesced(t *testing.T) {
	f := newFakeOrion()
	seedDeployments(f)
	// The run went through every state before the watch could report them:
	// one message, already terminal.
	f.watch = func(_ int, req *orionv1.WatchFlowRunRequest, send func(*orionv1.FlowRun) error) error {
		f.setState(req.Id, pending)
		f.setState(req.Id, running)
		return send(f.setState(req.Id, completed))
	}
	env := newEnv(t, f)
	r := env.mustRun(0, "deployment", "run", "hello/daily", "--watch")
	equalLines(t, r.stdout,
		fmt.Sprintf("Created flow run 'messy-petrel' (%s)", f.runs[0].Id),
		"18:01:02 Scheduled",
		"18:01:03 Pending",
		"18:01:04 Running",
		"18:01:05 Completed",
	)
	equalLines(t, r.stderr)
}

func TestDeploymentRun_WatchReconnects(t *testing.T) {
	f := newFakeOrion()
	seedDeployments(f)
	f.watch = func(attempt int, req *orionv1.WatchFlowRunRequest, send func(*orionv1.FlowRun) error) error {
		switch attempt {
		case 1: // one update, then the server closes the stream early
			return send(f.setState(req.Id, pending))
		case 2: // the connection breaks
			if err := send(f.run(req.Id)); err != nil {
				return err
			}
			f.setState(req.Id, running)
			return status.Error(codes.Unavailable, "connection reset")
		default:
			return send(f.setState(req.Id, st(orionv1.StateType_STATE_TYPE_FAILED, "", "Process exited with code 1", 4*time.Second)))
		}
	}
	env := newEnv(t, f)
	r := env.mustRun(1, "deployment", "run", "hello/daily", "--watch")
	equalLines(t, r.stdout,
		fmt.Sprintf("Created flow run 'messy-petrel' (%s)", f.runs[0].Id),
		"18:01:02 Scheduled",
		"18:01:03 Pending",
		"18:01:04 Running",
		"18:01:06 Failed - Process exited with code 1",
	)
	equalLines(t, r.stderr, "Error: Flow run 'messy-petrel' finished in state Failed: Process exited with code 1")
	if f.watchAttempts != 3 {
		t.Errorf("%d watch attempts, want 3", f.watchAttempts)
	}
}

func TestDeploymentRun_WatchGivesUp(t *testing.T) {
	f := newFakeOrion()
	seedDeployments(f)
	f.watch = func(int, *orionv1.WatchFlowRunRequest, func(*orionv1.FlowRun) error) error {
		return status.Error(codes.Unavailable, "server shutting down")
	}
	env := newEnv(t, f)
	r := env.mustRun(1, "deployment", "run", "hello/daily", "--watch")
	id := f.runs[0].Id
	equalLines(t, r.stderr, fmt.Sprintf("Error: lost track of flow run 'messy-petrel' (%s) after 6 attempts: server shutting down", id))
	if f.watchAttempts != maxStreamRetries+1 {
		t.Errorf("%d watch attempts, want %d", f.watchAttempts, maxStreamRetries+1)
	}
}

func TestDeploymentRun_WatchCancelledAndCrashed(t *testing.T) {
	for _, tt := range []struct {
		state *orionv1.State
		err   string
	}{
		{st(orionv1.StateType_STATE_TYPE_CANCELLED, "", "", time.Second), "Error: Flow run 'messy-petrel' finished in state Cancelled"},
		{st(orionv1.StateType_STATE_TYPE_CRASHED, "", "Infrastructure died", time.Second), "Error: Flow run 'messy-petrel' finished in state Crashed: Infrastructure died"},
		{st(orionv1.StateType_STATE_TYPE_FAILED, "TimedOut", "too slow", time.Second), "Error: Flow run 'messy-petrel' finished in state TimedOut: too slow"},
	} {
		f := newFakeOrion()
		seedDeployments(f)
		f.watch = func(_ int, req *orionv1.WatchFlowRunRequest, send func(*orionv1.FlowRun) error) error {
			return send(f.setState(req.Id, tt.state))
		}
		r := newEnv(t, f).mustRun(1, "deployment", "run", "hello/daily", "--watch")
		equalLines(t, r.stderr, tt.err)
	}
}

func TestDeploymentExecute(t *testing.T) {
	f := newFakeOrion()
	daily, _, _ := seedDeployments(f)
	env := newEnv(t, f)

	var gotDep *orionv1.Deployment
	var gotRun *orionv1.FlowRun
	env.ext.Execute = func(ctx context.Context, c *client.Client, dep *orionv1.Deployment, run *orionv1.FlowRun, out io.Writer) (*orionv1.FlowRun, error) {
		gotDep, gotRun = dep, run
		fmt.Fprintln(out, "Hello Marvin!")
		return f.setState(run.Id, completed), nil
	}
	r := env.mustRun(0, "deployment", "execute", "hello/daily", "--param", "name=Marvin")
	equalLines(t, r.stdout, fmt.Sprintf("Created flow run 'messy-petrel' (%s)", f.runs[0].Id), "Hello Marvin!")
	if gotDep.GetId() != daily.Id || gotRun.GetState().GetType() != orionv1.StateType_STATE_TYPE_PENDING {
		t.Errorf("Execute got dep %v, run %v", gotDep, gotRun)
	}
	req := f.runReqs[0]
	if req.State.GetType() != orionv1.StateType_STATE_TYPE_PENDING || req.State.GetMessage() != "Executing locally" {
		t.Errorf("initial state = %v", req.State)
	}
	if req.Parameters.AsMap()["name"] != "Marvin" {
		t.Errorf("parameters = %v", req.Parameters)
	}

	env.ext.Execute = func(_ context.Context, _ *client.Client, _ *orionv1.Deployment, run *orionv1.FlowRun, _ io.Writer) (*orionv1.FlowRun, error) {
		return f.setState(run.Id, st(orionv1.StateType_STATE_TYPE_FAILED, "", "ZeroDivisionError: division by zero", time.Second)), nil
	}
	r = env.mustRun(1, "deployment", "execute", "hello/daily")
	equalLines(t, r.stderr, "Error: Flow run 'messy-petrel' finished in state Failed: ZeroDivisionError: division by zero")

	env.ext.Execute = func(context.Context, *client.Client, *orionv1.Deployment, *orionv1.FlowRun, io.Writer) (*orionv1.FlowRun, error) {
		return nil, fmt.Errorf("python3 not found: install Python 3.9+ or set ORION_PYTHON")
	}
	r = env.mustRun(1, "deployment", "execute", "hello/daily")
	equalLines(t, r.stderr, "Error: python3 not found: install Python 3.9+ or set ORION_PYTHON")

	env.ext.Execute = nil
	r = env.mustRun(1, "deployment", "execute", "hello/daily")
	equalLines(t, r.stderr, "Error: local execution is not available in this build of orion")
}

func TestDeploymentDelete(t *testing.T) {
	f := newFakeOrion()
	daily, weekly, _ := seedDeployments(f)
	env := newEnv(t, f)
	r := env.mustRun(0, "deployment", "delete", "hello/daily")
	equalLines(t, r.stdout, "Deleted deployment 'hello/daily'")
	r = env.mustRun(0, "deployment", "delete", weekly.Id)
	equalLines(t, r.stdout, "Deleted deployment 'hello/weekly'")
	if !reflect.DeepEqual(f.deleted, []string{daily.Id, weekly.Id}) {
		t.Errorf("deleted %v", f.deleted)
	}
	r = env.mustRun(1, "deployment", "delete", "hello/daily")
	equalLines(t, r.stderr, "Error: Deployment 'hello/daily' not found!")
}
