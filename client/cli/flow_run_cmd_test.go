package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func TestFlowRunList(t *testing.T) {
	f := newFakeOrion()
	f.pageSize = 7
	daily, _, _ := seedDeployments(f)
	for i := range 25 {
		r := &orionv1.FlowRun{Name: fmt.Sprintf("run-%02d", i), FlowName: "hello", ExpectedStartTime: ts(time.Duration(i) * time.Minute)}
		state := st(orionv1.StateType_STATE_TYPE_COMPLETED, "", "", 0)
		if i%5 == 0 {
			r.DeploymentId, r.DeploymentName = daily.Id, daily.Name
			state = st(orionv1.StateType_STATE_TYPE_FAILED, "", "", 0)
		}
		f.addRun(r, state)
	}
	env := newEnv(t, f)

	r := env.mustRun(0, "flow-run", "ls")
	out := lines(r.stdout)
	if len(out) != 1+defaultRunLimit {
		t.Fatalf("%d lines, want header + %d:\n%s", len(out), defaultRunLimit, r.stdout)
	}
	if !strings.HasPrefix(out[0], "ID ") || !strings.Contains(out[0], "EXPECTED START") {
		t.Errorf("header = %q", out[0])
	}
	if !strings.Contains(out[1], "run-24") || !strings.Contains(out[20], "run-05") {
		t.Errorf("not newest first:\n%s", r.stdout)
	}
	if !strings.Contains(out[20], "hello   daily        Failed ") {
		t.Errorf("row = %q", out[20])
	}

	r = env.mustRun(0, "flow-run", "ls", "--limit", "0", "-o", "json")
	var all []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 25 {
		t.Errorf("--limit 0 gave %d runs, want 25", len(all))
	}

	r = env.mustRun(0, "flow-run", "ls", "--deployment", "hello/daily", "--state", "failed", "--state", "STATE_TYPE_CRASHED,Completed", "--limit", "3")
	if got := len(lines(r.stdout)); got != 4 {
		t.Errorf("%d lines, want 4:\n%s", got, r.stdout)
	}
	req := f.listRunReqs[len(f.listRunReqs)-1]
	want := []orionv1.StateType{orionv1.StateType_STATE_TYPE_FAILED, orionv1.StateType_STATE_TYPE_CRASHED, orionv1.StateType_STATE_TYPE_COMPLETED}
	if req.DeploymentId != daily.Id || fmt.Sprint(req.StateTypes) != fmt.Sprint(want) || req.PageSize != 3 {
		t.Errorf("request = %v", req)
	}

	r = env.mustRun(1, "flow-run", "ls", "--state", "done")
	equalLines(t, r.stderr, "Error: invalid state type 'done': expected one of scheduled, pending, running, completed, failed, cancelled, crashed, paused, cancelling")
	r = env.mustRun(1, "flow-run", "ls", "--deployment", "nope/nope")
	equalLines(t, r.stderr, "Error: Deployment 'nope/nope' not found!")
}

func TestFlowRunInspect(t *testing.T) {
	f := newFakeOrion()
	daily, _, _ := seedDeployments(f)
	params, _ := structpb.NewStruct(map[string]any{"name": "world"})
	run := f.addRun(&orionv1.FlowRun{
		Name: "messy-petrel", FlowName: "hello", DeploymentId: daily.Id, DeploymentName: "daily",
		WorkQueueName: "default", Parameters: params, Tags: []string{"a", "b"}, RunCount: 1,
		ExpectedStartTime: ts(0), StartTime: ts(2 * time.Second), EndTime: ts(5 * time.Second),
		TotalRunTime: durationpb.New(3 * time.Second), InfrastructurePid: "4242",
	},
		st(orionv1.StateType_STATE_TYPE_SCHEDULED, "", "", 0),
		st(orionv1.StateType_STATE_TYPE_SCHEDULED, "Late", "", time.Second),
		st(orionv1.StateType_STATE_TYPE_RUNNING, "", "", 2*time.Second),
		st(orionv1.StateType_STATE_TYPE_FAILED, "", "Process exited with code 1", 5*time.Second),
	)
	env := newEnv(t, f)

	r := env.mustRun(0, "flow-run", "inspect", run.Id)
	equalLines(t, r.stdout,
		"ID                   "+run.Id,
		"Name                 messy-petrel",
		"Flow                 hello",
		"Deployment           hello/daily ("+daily.Id+")",
		"Work queue           default",
		"State                Failed - Process exited with code 1",
		`Parameters           {"name":"world"}`,
		"Tags                 a, b",
		"Expected start       2024-05-01 18:01:02",
		"Start                2024-05-01 18:01:04",
		"End                  2024-05-01 18:01:07",
		"Total run time       3s",
		"Run count            1",
		"Retries              0",
		"Agent                -",
		"Infrastructure PID   4242",
		"",
		"STATE HISTORY",
		"TIME                  TYPE        NAME        MESSAGE",
		"2024-05-01 18:01:02   SCHEDULED   Scheduled   -",
		"2024-05-01 18:01:03   SCHEDULED   Late        -",
		"2024-05-01 18:01:04   RUNNING     Running     -",
		"2024-05-01 18:01:07   FAILED      Failed      Process exited with code 1",
	)

	r = env.mustRun(0, "flow-run", "inspect", run.Id, "-o", "json")
	var doc struct {
		FlowRun map[string]any   `json:"flow_run"`
		States  []map[string]any `json:"states"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if doc.FlowRun["id"] != run.Id || len(doc.States) != 4 || doc.States[1]["name"] != "Late" || doc.States[3]["type"] != "STATE_TYPE_FAILED" {
		t.Errorf("json = %+v", doc)
	}
	if !strings.HasPrefix(r.stdout, "{\n  \"flow_run\": {") {
		t.Errorf("flow_run must come first:\n%s", r.stdout)
	}

	r = env.mustRun(1, "flow-run", "inspect", "missing")
	equalLines(t, r.stderr, "Error: Flow run 'missing' not found!")
}

func TestFlowRunLogs(t *testing.T) {
	f := newFakeOrion()
	f.pageSize = 2
	run := f.addRun(&orionv1.FlowRun{Name: "r", FlowName: "hello"}, completed)
	for i := range 5 {
		f.addLogs(run.Id, &orionv1.Log{Level: 20, Name: "stdout", Message: fmt.Sprintf("line %d", i+1), Timestamp: ts(time.Duration(i) * time.Millisecond)})
	}
	env := newEnv(t, f)

	r := env.mustRun(0, "flow-run", "logs", run.Id)
	equalLines(t, r.stdout,
		"2024-05-01 18:01:02.000 | INFO    | stdout - line 1",
		"2024-05-01 18:01:02.001 | INFO    | stdout - line 2",
		"2024-05-01 18:01:02.002 | INFO    | stdout - line 3",
		"2024-05-01 18:01:02.003 | INFO    | stdout - line 4",
		"2024-05-01 18:01:02.004 | INFO    | stdout - line 5",
	)

	r = env.mustRun(0, "flow-run", "logs", run.Id, "-o", "json")
	var logs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &logs); err != nil {
		t.Fatal(err)
	}
	if len(logs) != 5 || logs[4]["message"] != "line 5" || logs[4]["seq"] != "5" {
		t.Errorf("json = %v", logs)
	}

	r = env.mustRun(1, "flow-run", "logs", "missing")
	equalLines(t, r.stderr, "Error: Flow run 'missing' not found!")
	r = env.mustRun(1, "flow-run", "logs", "missing", "--follow")
	equalLines(t, r.stderr, "Error: Flow run 'missing' not found!")
}

func TestFlowRunLogs_FollowReconnects(t *testing.T) {
	f := newFakeOrion()
	run := f.addRun(&orionv1.FlowRun{Name: "r", FlowName: "hello"}, running)
	logAt := func(seq uint64) *orionv1.Log {
		return &orionv1.Log{Seq: seq, Level: 20, Name: "stdout", Message: fmt.Sprintf("line %d", seq), Timestamp: ts(time.Duration(seq) * time.Second)}
	}
	var afters []uint64
	f.follow = func(call int, req *orionv1.FollowLogsRequest, send func(*orionv1.Log) error) error {
		afters = append(afters, req.AfterSeq)
		if call == 1 {
			for seq := uint64(1); seq <= 2; seq++ {
				if err := send(logAt(seq)); err != nil {
					return err
				}
			}
			return status.Error(codes.Unavailable, "connection reset")
		}
		// A repeat of line 2 must not print twice.
		for seq := uint64(2); seq <= 3; seq++ {
			if err := send(logAt(seq)); err != nil {
				return err
			}
		}
		return nil // the run finished: the stream ends
	}
	env := newEnv(t, f)
	r := env.mustRun(0, "flow-run", "logs", run.Id, "--follow")
	equalLines(t, r.stdout,
		"2024-05-01 18:01:03.000 | INFO    | stdout - line 1",
		"2024-05-01 18:01:04.000 | INFO    | stdout - line 2",
		"2024-05-01 18:01:05.000 | INFO    | stdout - line 3",
	)
	if fmt.Sprint(afters) != "[0 2]" {
		t.Errorf("after_seq per call = %v, want [0 2]", afters)
	}

	f.mu.Lock()
	f.follow = nil // serve stored logs, then end
	f.mu.Unlock()
	f.addLogs(run.Id, logAt(1), logAt(2), logAt(3))
	r = env.mustRun(0, "flow-run", "logs", run.Id, "-f", "-o", "json")
	if got := lines(r.stdout); len(got) != 3 || !strings.HasPrefix(got[0], `{"flow_run_id":`) {
		t.Errorf("--follow -o json must print one object per line:\n%s", r.stdout)
	}
}

func TestFlowRunCancel(t *testing.T) {
	f := newFakeOrion()
	scheduled := f.addRun(&orionv1.FlowRun{Name: "early-bird"}, st(orionv1.StateType_STATE_TYPE_SCHEDULED, "", "", 0))
	active := f.addRun(&orionv1.FlowRun{Name: "busy-bee"}, running)
	done := f.addRun(&orionv1.FlowRun{Name: "old-owl"}, completed)
	env := newEnv(t, f)

	r := env.mustRun(0, "flow-run", "cancel", scheduled.Id)
	equalLines(t, r.stdout, fmt.Sprintf("Cancelled flow run 'early-bird' (%s)", scheduled.Id))

	f.mu.Lock()
	f.cancelTo = orionv1.StateType_STATE_TYPE_CANCELLING
	f.mu.Unlock()
	r = env.mustRun(0, "flow-run", "cancel", active.Id)
	equalLines(t, r.stdout, fmt.Sprintf("Cancelling flow run 'busy-bee' (%s)", active.Id))

	r = env.mustRun(1, "flow-run", "cancel", done.Id)
	equalLines(t, r.stderr, fmt.Sprintf("Error: flow run %s already finished in state Completed", done.Id))
	r = env.mustRun(1, "flow-run", "cancel", "missing")
	equalLines(t, r.stderr, "Error: Flow run 'missing' not found!")
}
