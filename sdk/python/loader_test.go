package python

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// seedHelloWorld is the second code block of the seed's deployments.md,
// verbatim; testdata/hello_world.py must stay identical to it.
const seedHelloWorld = `from prefect import flow

@flow
def hello_world(name="world"):
    print(f"Hello {name}!")

# Note: a deployment does not need a command to explicitly
# run the flow. The API handles this for you.
# hello_world()

from prefect.deployments import DeploymentSpec

DeploymentSpec(
    flow=hello_world,
    name="hello-world-daily",
)
`

func loadSpecs(t *testing.T, name string) *LoadResult {
	t.Helper()
	requirePython(t)
	res, err := LoadSpecs(context.Background(), testHome, testdata(t, name))
	if err != nil {
		t.Fatalf("LoadSpecs(%s): %v", name, err)
	}
	return res
}

func loadScriptError(t *testing.T, name string) *ScriptError {
	t.Helper()
	requirePython(t)
	_, err := LoadSpecs(context.Background(), testHome, testdata(t, name))
	var se *ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("LoadSpecs(%s) err = %v (%T), want *ScriptError", name, err, err)
	}
	return se
}

func specByName(t *testing.T, res *LoadResult, name string) Spec {
	t.Helper()
	for _, d := range res.Deployments {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no deployment %q in %+v (errors %+v)", name, res.Deployments, res.Errors)
	return Spec{}
}

func errorByName(t *testing.T, res *LoadResult, name string) SpecError {
	t.Helper()
	for _, e := range res.Errors {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no error for %q in %+v", name, res.Errors)
	return SpecError{}
}

func TestSeedHelloWorldIsVerbatim(t *testing.T) {
	got, err := os.ReadFile(testdata(t, "hello_world.py"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != seedHelloWorld {
		t.Fatalf("testdata/hello_world.py differs from the seed example:\n%s", got)
	}
}

func TestLoadSpecs_SeedHelloWorld(t *testing.T) {
	res := loadSpecs(t, "hello_world.py")
	if len(res.Errors) != 0 || len(res.Deployments) != 1 {
		t.Fatalf("got %d deployments, errors %+v", len(res.Deployments), res.Errors)
	}
	d := res.Deployments[0]
	want := Spec{
		Name:         "hello-world-daily",
		FlowName:     "hello-world",
		FlowLocation: testdata(t, "hello_world.py"),
		PushToServer: true,
		Parameters:   map[string]any{},
		ParameterSchema: map[string]any{
			"type":       "object",
			"properties": map[string]any{"name": map[string]any{"default": "world"}},
			"required":   []any{},
		},
		Tags:        []string{},
		FlowVersion: d.FlowVersion,
		Source:      SourcePos{File: testdata(t, "hello_world.py"), Line: d.Source.Line},
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("spec =\n%#v\nwant\n%#v", d, want)
	}
	if len(d.FlowVersion) != 32 {
		t.Errorf("FlowVersion = %q, want an MD5 of the file", d.FlowVersion)
	}
	if d.Source.Line < 13 || d.Source.Line > 16 {
		t.Errorf("Source.Line = %d, want the DeploymentSpec( call (13-16)", d.Source.Line)
	}
	if res.Output != "" {
		t.Errorf("Output = %q, want nothing: the flow must not run during load", res.Output)
	}
}

func TestLoadSpecs_SeparateFileRelativeLocation(t *testing.T) {
	// The working directory (the package dir) has no flow.py: the relative
	// flow_location must resolve against the spec file's directory.
	res := loadSpecs(t, "separate/flow_deployment.py")
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %+v", res.Errors)
	}
	d := specByName(t, res, "flow-deployment")
	if d.FlowLocation != testdata(t, "separate/flow.py") || d.FlowName != "hello-world" {
		t.Fatalf("spec = %+v", d)
	}
	if d.Source.File != testdata(t, "separate/flow_deployment.py") {
		t.Errorf("Source = %+v", d.Source)
	}
}

func TestLoadSpecs_OrionImportPath(t *testing.T) {
	res := loadSpecs(t, "orion_import.py")
	if len(res.Errors) != 0 || len(res.Deployments) != 2 {
		t.Fatalf("deployments %+v errors %+v", res.Deployments, res.Errors)
	}
	etl := specByName(t, res, "etl-hourly")
	if etl.FlowName != "etl" || etl.FlowVersion != "1.2" || etl.Description != "Moves data." {
		t.Errorf("flow metadata: %+v", etl)
	}
	if etl.Retries == nil || *etl.Retries != 2 || etl.RetryDelaySeconds == nil || *etl.RetryDelaySeconds != 5 {
		t.Errorf("retries from the flow: %v %v", etl.Retries, etl.RetryDelaySeconds)
	}
	if etl.WorkQueueName != "etl-queue" || !reflect.DeepEqual(etl.Tags, []string{"etl", "hourly"}) {
		t.Errorf("queue/tags: %q %q", etl.WorkQueueName, etl.Tags)
	}
	wantParams := map[string]any{"source": "s3://bucket", "when": "2022-03-15T12:00:00", "wait": 60.0}
	if !reflect.DeepEqual(etl.Parameters, wantParams) {
		t.Errorf("Parameters = %#v", etl.Parameters)
	}
	wantSchema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"source":  map[string]any{"type": "string"},
			"limit":   map[string]any{"default": 10.0, "type": "integer"},
			"ratio":   map[string]any{"default": 0.5, "type": "number"},
			"dry_run": map[string]any{"default": false, "type": "boolean"},
			"columns": map[string]any{"default": []any{"a", "b"}, "type": "array"},
			"options": map[string]any{"default": nil, "type": "object"},
			"started": map[string]any{}, // datetime default: not JSON, omitted
		},
		"required":             []any{"source"},
		"additionalProperties": true,
	}
	if !reflect.DeepEqual(etl.ParameterSchema, wantSchema) {
		t.Errorf("ParameterSchema =\n%#v\nwant\n%#v", etl.ParameterSchema, wantSchema)
	}
	if etl.Schedule.Kind() != "interval" || etl.Schedule.IntervalDuration() != time.Hour || etl.Schedule.AnchorDate != nil {
		t.Errorf("Schedule = %+v", etl.Schedule)
	}
	wantRunner := &FlowRunner{Type: "subprocess", Env: map[string]string{"A": "1", "N": "2"}, Config: map[string]any{"stream_output": true}}
	if !reflect.DeepEqual(etl.FlowRunner, wantRunner) {
		t.Errorf("FlowRunner = %+v", etl.FlowRunner)
	}

	plain := specByName(t, res, "plain")
	if plain.FlowName != "plain-flow" || plain.PushToServer || plain.Description != "Spec description wins." {
		t.Errorf("plain = %+v", plain)
	}
	if plain.Retries == nil || *plain.Retries != 1 || plain.RetryDelaySeconds != nil {
		t.Errorf("plain retries = %v %v", plain.Retries, plain.RetryDelaySeconds)
	}
	wantPlainSchema := map[string]any{
		"type":                 "object",
		"properties":           map[string]any{"x": map[string]any{}, "y": map[string]any{"default": 3.0, "type": "integer"}},
		"required":             []any{"x"},
		"additionalProperties": true,
	}
	if !reflect.DeepEqual(plain.ParameterSchema, wantPlainSchema) {
		t.Errorf("plain schema = %#v", plain.ParameterSchema)
	}
}

func TestLoadSpecs_FlowLocationErrors(t *testing.T) {
	res := loadSpecs(t, "multi/deploy.py")
	flows := testdata(t, "multi/flows.py")

	picked := specByName(t, res, "picked")
	if picked.FlowName != "beta" || picked.FlowLocation != flows || !reflect.DeepEqual(picked.Parameters, map[string]any{"n": 3.0}) {
		t.Errorf("picked = %+v", picked)
	}
	if len(res.Deployments) != 1 {
		t.Errorf("deployments = %+v, want only 'picked'", res.Deployments)
	}

	for name, want := range map[string]string{
		"ambiguous":    "Found 2 flows at '" + flows + "': alpha, beta. Specify a flow name to select a flow to deploy.",
		"unknown-flow": "Flow 'gamma' not found at path '" + flows + "'. Found the following flows: alpha, beta",
		"no-flows":     "No flows found at path '" + testdata(t, "multi/empty.py") + "'.",
		"missing-file": "File not found at path '" + testdata(t, "multi/missing.py") + "'.",
		"broken": "Script at '" + testdata(t, "multi/broken.py") +
			"' encountered an exception: RuntimeError: broken flow script",
		"bad-params": "Flow 'beta' does not accept the parameter(s) 'm', 'k' given by deployment 'bad-params'. " +
			"Accepted parameters: n",
	} {
		e := errorByName(t, res, name)
		if e.Message != want {
			t.Errorf("%s: message\n %q\nwant\n %q", name, e.Message, want)
		}
		if e.Error() != e.Message {
			t.Errorf("%s: Error() = %q", name, e.Error())
		}
	}
	if e := errorByName(t, res, "unknown-flow"); e.FlowName != "gamma" || e.FlowLocation != flows {
		t.Errorf("unknown-flow error = %+v", e)
	}
	broken := errorByName(t, res, "broken")
	for _, frag := range []string{"Traceback (most recent call last):", "broken.py\", line 13", "in explode", "RuntimeError: broken flow script"} {
		if !strings.Contains(broken.Traceback, frag) {
			t.Errorf("broken traceback lacks %q:\n%s", frag, broken.Traceback)
		}
	}
	if strings.Contains(broken.Traceback, "runpy") || strings.Contains(broken.Traceback, "orion/runtime") {
		t.Errorf("broken traceback shows runtime frames:\n%s", broken.Traceback)
	}
}

func TestLoadSpecs_FlowNameMismatch(t *testing.T) {
	se := loadScriptError(t, "mismatch.py")
	path := testdata(t, "mismatch.py")
	want := "Script at '" + path + "' encountered an exception: ValueError: " +
		"`flow.name` and `flow_name` must match. Got 'hello-world' and 'other'."
	if se.Error() != want || se.Message != want || se.Path != path {
		t.Fatalf("ScriptError = %+v\nwant message %q", se, want)
	}
	if !strings.Contains(se.Traceback, `DeploymentSpec(flow=hello_world, flow_name="other", name="mismatched")`) {
		t.Errorf("traceback does not show the user's line:\n%s", se.Traceback)
	}
	if strings.Contains(se.Traceback, "deployments.py") {
		t.Errorf("traceback shows runtime frames:\n%s", se.Traceback)
	}
}

func TestLoadSpecs_ScriptRaises(t *testing.T) {
	se := loadScriptError(t, "raises.py")
	path := testdata(t, "raises.py")
	if want := "Script at '" + path + "' encountered an exception: ValueError: boom at load time"; se.Message != want {
		t.Fatalf("Message = %q, want %q", se.Message, want)
	}
	if !strings.HasPrefix(se.Traceback, "Traceback (most recent call last):\n  File \""+path+"\", line 13, in <module>") {
		t.Errorf("traceback must start at the user's frame:\n%s", se.Traceback)
	}
	for _, frag := range []string{"in helper", `raise ValueError("boom at load time")`, "ValueError: boom at load time"} {
		if !strings.Contains(se.Traceback, frag) {
			t.Errorf("traceback lacks %q:\n%s", frag, se.Traceback)
		}
	}
	if strings.Contains(se.Traceback, "runpy") || strings.Contains(se.Traceback, "orion") {
		t.Errorf("traceback shows runtime frames:\n%s", se.Traceback)
	}
}

func TestLoadSpecs_SyntaxError(t *testing.T) {
	se := loadScriptError(t, "syntax_error.py")
	if !strings.HasPrefix(se.Message, "Script at '"+testdata(t, "syntax_error.py")+"' encountered an exception: SyntaxError: ") {
		t.Fatalf("Message = %q", se.Message)
	}
	if !strings.Contains(se.Traceback, "def broken(:") {
		t.Errorf("traceback lacks the offending line:\n%s", se.Traceback)
	}
}

func TestLoadSpecs_MissingFile(t *testing.T) {
	se := loadScriptError(t, "does_not_exist.py")
	if want := "File not found at path '" + testdata(t, "does_not_exist.py") + "'."; se.Message != want {
		t.Fatalf("Message = %q, want %q", se.Message, want)
	}
}

func TestLoadSpecs_InvalidValuesNameTheField(t *testing.T) {
	for file, frag := range map[string]string{
		"invalid_cron.py":         "ValueError: Invalid `cron`: '* * *' has 3 field(s)",
		"unknown_runner_field.py": "TypeError: SubprocessFlowRunner got unexpected field(s): 'cpu'",
	} {
		se := loadScriptError(t, file)
		if !strings.Contains(se.Message, frag) {
			t.Errorf("%s: Message = %q, want it to contain %q", file, se.Message, frag)
		}
	}
}

func TestLoadSpecs_StdoutDuringLoad(t *testing.T) {
	res := loadSpecs(t, "prints.py")
	if len(res.Deployments) != 1 || res.Deployments[0].Name != "chatty" {
		t.Fatalf("deployments = %+v errors %+v", res.Deployments, res.Errors)
	}
	for _, frag := range []string{"chatty print to stdout", "{not json", "raw write to fd 1", "to stderr"} {
		if !strings.Contains(res.Output, frag) {
			t.Errorf("Output lacks %q: %q", frag, res.Output)
		}
	}
	if strings.Contains(res.Output, "never called during load") {
		t.Error("the flow ran during load")
	}
}

func TestLoadSpecs_SameIdentityLastWins(t *testing.T) {
	res := loadSpecs(t, "dupes.py")
	if len(res.Deployments) != 2 {
		t.Fatalf("deployments = %+v", res.Deployments)
	}
	if d := specByName(t, res, "dup"); !reflect.DeepEqual(d.Tags, []string{"second"}) {
		t.Fatalf("dup tags = %q, want the later spec's", d.Tags)
	}
	specByName(t, res, "other")
}

func TestLoadSpecs_SchedulesAndRunners(t *testing.T) {
	res := loadSpecs(t, "schedules_runners.py")
	if len(res.Errors) != 0 || len(res.Deployments) != 5 {
		t.Fatalf("deployments %d errors %+v", len(res.Deployments), res.Errors)
	}
	ptr := func(b bool) *bool { return &b }

	iv := specByName(t, res, "interval")
	if iv.Schedule.Kind() != "interval" || iv.Schedule.IntervalDuration() != 90*time.Minute || iv.Schedule.Timezone != "" {
		t.Errorf("interval schedule = %+v", iv.Schedule)
	}
	if want := time.Date(2022, 1, 1, 9, 30, 0, 0, time.UTC); iv.Schedule.AnchorDate == nil || !iv.Schedule.AnchorDate.Equal(want) {
		t.Errorf("anchor = %v, want %v", iv.Schedule.AnchorDate, want)
	}
	if want := (&FlowRunner{Type: "subprocess", Env: map[string]string{"FOO": "bar"}, Config: map[string]any{"stream_output": true}}); !reflect.DeepEqual(iv.FlowRunner, want) {
		t.Errorf("subprocess runner = %+v", iv.FlowRunner)
	}

	tz := specByName(t, res, "interval-seconds-tz")
	if tz.Schedule.IntervalDuration() != time.Hour || tz.Schedule.Timezone != "America/New_York" {
		t.Errorf("tz schedule = %+v", tz.Schedule)
	}
	// A naive anchor is read in the schedule's zone: 09:00 EDT = 13:00 UTC.
	if want := time.Date(2022, 7, 1, 13, 0, 0, 0, time.UTC); tz.Schedule.AnchorDate == nil || !tz.Schedule.AnchorDate.Equal(want) {
		t.Errorf("tz anchor = %v, want %v", tz.Schedule.AnchorDate, want)
	}
	if want := (&FlowRunner{Type: "universal", Env: map[string]string{"X": "y"}, Config: map[string]any{}}); !reflect.DeepEqual(tz.FlowRunner, want) {
		t.Errorf("universal runner = %+v", tz.FlowRunner)
	}

	cron := specByName(t, res, "cron")
	if want := (&Schedule{Cron: "0 9 * * MON-FRI", Timezone: "Europe/Paris", DayOr: ptr(false)}); !reflect.DeepEqual(cron.Schedule, want) || cron.Schedule.Kind() != "cron" {
		t.Errorf("cron schedule = %+v", cron.Schedule)
	}
	wantDocker := &FlowRunner{Type: "docker", Env: map[string]string{}, Config: map[string]any{
		"image": "python:3.11", "image_pull_policy": "ALWAYS", "networks": []any{"net1"},
		"labels": map[string]any{"team": "data"}, "volumes": []any{"/data:/data"},
		"stream_output": true, "resources": map[string]any{"limits": map[string]any{"memory": "512Mi", "cpu": "1"}},
	}}
	if !reflect.DeepEqual(cron.FlowRunner, wantDocker) {
		t.Errorf("docker runner = %#v", cron.FlowRunner)
	}

	rr := specByName(t, res, "rrule")
	if want := (&Schedule{RRule: "DTSTART:20220101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE"}); !reflect.DeepEqual(rr.Schedule, want) || rr.Schedule.Kind() != "rrule" {
		t.Errorf("rrule schedule = %+v", rr.Schedule)
	}
	wantK8s := &FlowRunner{Type: "kubernetes", Env: map[string]string{}, Config: map[string]any{
		"namespace": "flows", "labels": map[string]any{}, "image_pull_policy": "IfNotPresent",
		"service_account_name": "runner", "stream_output": true,
	}}
	if !reflect.DeepEqual(rr.FlowRunner, wantK8s) {
		t.Errorf("kubernetes runner = %#v", rr.FlowRunner)
	}

	kw := specByName(t, res, "keyword")
	if want := (&Schedule{Cron: "@daily", DayOr: ptr(true)}); !reflect.DeepEqual(kw.Schedule, want) || kw.FlowRunner != nil {
		t.Errorf("keyword = %+v %+v", kw.Schedule, kw.FlowRunner)
	}
}

func TestLoadSpecs_NoSpecs(t *testing.T) {
	res := loadSpecs(t, "no_specs.py")
	if res.Deployments == nil || res.Errors == nil || len(res.Deployments) != 0 || len(res.Errors) != 0 {
		t.Fatalf("result = %+v, want empty non-nil lists", res)
	}
}

func TestLoadSpecs_PythonNotFound(t *testing.T) {
	t.Setenv("ORION_PYTHON", "python3-orion-test-missing")
	_, err := LoadSpecs(context.Background(), testHome, testdata(t, "hello_world.py"))
	if !errors.Is(err, ErrPythonNotFound) || !strings.Contains(err.Error(), "not found: install Python 3.9+ or set ORION_PYTHON") {
		t.Fatalf("err = %v", err)
	}
	_, err = InspectFlow(context.Background(), testHome, testdata(t, "hello_world.py"), "")
	if !errors.Is(err, ErrPythonNotFound) {
		t.Fatalf("InspectFlow err = %v", err)
	}
}

func TestLoadSpecs_ContextCanceled(t *testing.T) {
	requirePython(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := LoadSpecs(ctx, testHome, testdata(t, "sleeps.py"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("LoadSpecs returned after %v", d)
	}
}

func TestInspectFlow(t *testing.T) {
	requirePython(t)
	ctx := context.Background()

	info, err := InspectFlow(ctx, testHome, testdata(t, "hello_world.py"), "")
	if err != nil {
		t.Fatal(err)
	}
	wantSchema := map[string]any{
		"type":       "object",
		"properties": map[string]any{"name": map[string]any{"default": "world"}},
		"required":   []any{},
	}
	if info.FlowName != "hello-world" || info.FlowLocation != testdata(t, "hello_world.py") || !reflect.DeepEqual(info.ParameterSchema, wantSchema) {
		t.Fatalf("info = %+v", info)
	}

	flows := testdata(t, "multi/flows.py")
	info, err = InspectFlow(ctx, testHome, flows, "beta")
	if err != nil || info.FlowName != "beta" || !reflect.DeepEqual(info.ParameterSchema["required"], []any{"n"}) {
		t.Fatalf("beta: %+v, %v", info, err)
	}

	for flowName, want := range map[string]string{
		"":      "Found 2 flows at '" + flows + "': alpha, beta. Specify a flow name to select a flow to deploy.",
		"gamma": "Flow 'gamma' not found at path '" + flows + "'. Found the following flows: alpha, beta",
	} {
		_, err := InspectFlow(ctx, testHome, flows, flowName)
		var se *ScriptError
		if !errors.As(err, &se) || se.Error() != want || se.Path != flows {
			t.Errorf("flow %q: err = %v, want %q", flowName, err, want)
		}
	}

	_, err = InspectFlow(ctx, testHome, testdata(t, "multi/empty.py"), "")
	if err == nil || err.Error() != "No flows found at path '"+testdata(t, "multi/empty.py")+"'." {
		t.Errorf("empty: err = %v", err)
	}

	_, err = InspectFlow(ctx, testHome, testdata(t, "raises.py"), "")
	var se *ScriptError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "encountered an exception: ValueError: boom at load time") || !strings.Contains(se.Traceback, "in helper") {
		t.Errorf("raises: err = %v", err)
	}
}

// TestPythonAPI runs testdata/api_checks.py, which asserts on the Python API
// itself: the prefect shim, @flow and @task, DeploymentSpec validation and
// registration, schedules and flow-runner serialization.
func TestPythonAPI(t *testing.T) {
	requirePython(t)
	out := runPython(t, testdata(t, "api_checks.py"))
	if !strings.Contains(out, "API CHECKS OK") {
		t.Fatalf("api checks did not finish:\n%s", out)
	}
}
