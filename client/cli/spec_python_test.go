package cli

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/sdk/python"
)

func TestFromPythonSpec(t *testing.T) {
	secs := 5400.0
	retries := 2
	delay := 10.0
	anchor := time.Date(2022, 1, 1, 9, 30, 0, 0, time.FixedZone("", 3600))
	p := &python.Spec{
		Name: "interval", FlowName: "hello-world", FlowLocation: "/src/flow.py", PushToServer: true,
		Parameters:      map[string]any{"name": "x"},
		ParameterSchema: map[string]any{"type": "object"},
		Schedule:        &python.Schedule{Interval: &secs, AnchorDate: &anchor, Timezone: "UTC"},
		Tags:            []string{"t"},
		FlowRunner:      &python.FlowRunner{Type: "universal", Env: map[string]string{"X": "y"}, Config: map[string]any{"stream_output": true}},
		Description:     "d", WorkQueueName: "q", Retries: &retries, RetryDelaySeconds: &delay,
	}
	got, err := fromPythonSpec(p).toProto("sha256:1")
	if err != nil {
		t.Fatal(err)
	}
	want := &orionv1.Deployment{
		Name: "interval", FlowName: "hello-world", FlowKind: orionv1.FlowKind_FLOW_KIND_PYTHON,
		FlowLocation: "/src/flow.py", PushToServer: true, FlowSourceDigest: "sha256:1",
		Parameters: mustStruct(t, p.Parameters), ParameterSchema: mustStruct(t, p.ParameterSchema),
		Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{
			Interval: durationpb.New(90 * time.Minute), AnchorDate: timestamppb.New(anchor), Timezone: "UTC",
		}}},
		IsScheduleActive: true, Tags: []string{"t"},
		Infrastructure: &orionv1.Infrastructure{Type: "subprocess", Env: map[string]string{"X": "y"},
			Config: mustStruct(t, map[string]any{"stream_output": true})},
		WorkQueueName: "q", Retries: 2, RetryDelay: durationpb.New(10 * time.Second), Description: "d",
	}
	if !proto.Equal(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}

	// Unset optional values take the defaults.
	got, err = fromPythonSpec(&python.Spec{Name: "n", FlowName: "f", FlowLocation: "/f.py"}).toProto("")
	if err != nil {
		t.Fatal(err)
	}
	if got.Schedule != nil || got.Infrastructure != nil || got.Retries != 0 || got.RetryDelay != nil || got.WorkQueueName != "default" {
		t.Errorf("defaults: %v", got)
	}
}

func TestFromScriptError(t *testing.T) {
	err := fromScriptError(&python.ScriptError{Path: "/a.py", Message: "Script at '/a.py' encountered an exception: ValueError: x", Traceback: "tb"})
	se, ok := err.(*pyScriptError)
	if !ok || se.Path != "/a.py" || se.Traceback != "tb" || se.Error() != "Script at '/a.py' encountered an exception: ValueError: x" {
		t.Fatalf("got %#v", err)
	}
	if other := fromScriptError(python.ErrPythonNotFound); other != python.ErrPythonNotFound {
		t.Fatalf("other errors must pass through, got %v", other)
	}
}

// TestDeploymentCreate_RealPython runs the real Python runtime (when python3
// is installed) against the test double server.
func TestDeploymentCreate_RealPython(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3")
	}
	if _, err := python.LookInterpreter(); err != nil {
		t.Skip(err)
	}
	f := newFakeOrion()
	env := newEnv(t, f)
	env.realPython = true
	dir := t.TempDir()
	flowPath := writeFile(t, dir, "flow.py", `
from datetime import datetime, timedelta, timezone
from prefect import flow
from prefect.deployments import DeploymentSpec
from prefect.orion.schemas.schedules import IntervalSchedule

@flow
def hello_world(name="world"):
    print(f"Hello {name}!")

print("loading specs")
DeploymentSpec(
    flow=hello_world,
    name="hourly",
    parameters={"name": "Marvin"},
    schedule=IntervalSchedule(interval=timedelta(hours=1), anchor_date=datetime(2022, 1, 1, tzinfo=timezone.utc)),
    tags=["demo"],
)
`)
	r := env.mustRun(0, "deployment", "create", flowPath)
	equalLines(t, r.stdout,
		"Loading deployments from python script at '"+flowPath+"'...",
		"Created deployment 'hourly' for flow 'hello-world'",
	)
	if !strings.Contains(r.stderr, "loading specs") {
		t.Errorf("the script's output should be shown on stderr: %q", r.stderr)
	}
	d := f.createReqs[0].Deployment
	if d.FlowLocation != flowPath || d.FlowSourceDigest == "" || d.Parameters.AsMap()["name"] != "Marvin" ||
		d.GetSchedule().GetInterval().GetInterval().AsDuration() != time.Hour ||
		!d.GetSchedule().GetInterval().GetAnchorDate().AsTime().Equal(time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		!reflect.DeepEqual(d.Tags, []string{"demo"}) {
		t.Errorf("deployment = %v", d)
	}
	if props, _ := d.ParameterSchema.AsMap()["properties"].(map[string]any); props["name"] == nil {
		t.Errorf("parameter schema = %v", d.ParameterSchema.AsMap())
	}

	// The same flow through YAML: InspectFlow finds name and schema.
	yamlPath := writeFile(t, dir, "deploy.yaml", "name: from-yaml\nflow_location: flow.py\npush_to_server: false\n")
	r = env.mustRun(0, "deployment", "create", yamlPath)
	equalLines(t, r.stdout,
		"Loading deployments from yaml file at '"+yamlPath+"'...",
		"Created deployment 'from-yaml' for flow 'hello-world'",
	)
	if d := f.createReqs[1].Deployment; d.FlowLocation != filepath.Join(dir, "flow.py") || d.PushToServer || d.ParameterSchema == nil {
		t.Errorf("yaml deployment = %v", d)
	}

	// A script that raises.
	bad := writeFile(t, dir, "bad.py", "raise ValueError('nope')\n")
	r = env.mustRun(1, "deployment", "create", bad)
	errLines := lines(r.stderr)
	if len(errLines) < 2 || !strings.Contains(r.stderr, "ValueError: nope") ||
		!strings.HasPrefix(errLines[len(errLines)-1], "Error: ") {
		t.Errorf("stderr = %q", r.stderr)
	}
}
