package cli

import (
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// deadURL returns the URL of a local port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return "http://" + addr
}

func TestDeploymentCreate_Python(t *testing.T) {
	f := newFakeOrion()
	f.addDeployment(&orionv1.Deployment{FlowName: "hello", Name: "b"}) // so that b is an update
	f.createErrs["bad"] = status.Error(codes.InvalidArgument, "parameters rejected by the flow's schema")
	env := newEnv(t, f)

	dir := t.TempDir()
	t.Chdir(dir)
	flowPath := writeFile(t, dir, "flow.py", "from orion import flow\n\n@flow\ndef hello(): pass\n")
	writeFile(t, dir, "deploy.py", "# specs\n")
	env.py.load = func(file string) (*pyLoadResult, error) {
		if file != filepath.Join(dir, "deploy.py") {
			t.Errorf("LoadSpecs got %q, want an absolute path", file)
		}
		return &pyLoadResult{
			Specs: []*deploymentSpec{
				{Name: "a", FlowName: "hello", FlowLocation: flowPath, PushToServer: true, Parameters: map[string]any{"n": 1.0}},
				{Name: "b", FlowName: "hello", FlowLocation: flowPath, PushToServer: false},
				{Name: "bad", FlowName: "hello", FlowLocation: flowPath},
			},
			Errors: []pySpecError{{
				Name: "d", FlowLocation: "/x/multi.py",
				Message:   "Found 2 flows at '/x/multi.py': a, b. Specify a flow name to select a flow to deploy.",
				Traceback: "",
			}},
			Output: "hello from the script\n",
		}, nil
	}
	r := env.mustRun(1, "deployment", "create", "deploy.py")
	equalLines(t, r.stdout,
		"Loading deployments from python script at 'deploy.py'...",
		"Created deployment 'a' for flow 'hello'",
		"Updated deployment 'b' for flow 'hello'",
		"Failed to create deployment 'bad' for flow 'hello': parameters rejected by the flow's schema",
		"Failed to create deployment 'd' for flow at '/x/multi.py'",
		"Found 2 flows at '/x/multi.py': a, b. Specify a flow name to select a flow to deploy.",
	)
	equalLines(t, r.stderr,
		"hello from the script",
		"Error: failed to create 2 of 4 deployments",
	)

	if len(f.createReqs) != 3 {
		t.Fatalf("%d CreateDeployment calls, want 3", len(f.createReqs))
	}
	a := f.createReqs[0].Deployment
	if a.FlowKind != orionv1.FlowKind_FLOW_KIND_PYTHON || !a.PushToServer || !strings.HasPrefix(a.FlowSourceDigest, "sha256:") ||
		a.FlowLocation != flowPath || a.WorkQueueName != "default" || a.Parameters.AsMap()["n"] != 1.0 {
		t.Errorf("a = %v", a)
	}
	src := f.sources[a.FlowSourceDigest]
	if src == nil || src.FileName != "flow.py" || !strings.Contains(src.Text, "def hello") {
		t.Errorf("flow source not pushed: %v", src)
	}
	if b := f.createReqs[1].Deployment; b.PushToServer || b.FlowSourceDigest != "" {
		t.Errorf("b must not push its source: %v", b)
	}
}

func TestDeploymentCreate_PythonScriptError(t *testing.T) {
	env := newEnv(t, newFakeOrion())
	path := writeFile(t, t.TempDir(), "raises.py", "raise ValueError('bad')\n")
	env.py.load = func(string) (*pyLoadResult, error) {
		return nil, &pyScriptError{
			Path:      path,
			Message:   "Script at '" + path + "' encountered an exception: ValueError: bad",
			Traceback: "Traceback (most recent call last):\n  File \"" + path + "\", line 1, in <module>\nValueError: bad\n",
		}
	}
	r := env.mustRun(1, "deployment", "create", path)
	equalLines(t, r.stdout, "Loading deployments from python script at '"+path+"'...")
	equalLines(t, r.stderr,
		"Traceback (most recent call last):",
		"  File \""+path+"\", line 1, in <module>",
		"ValueError: bad",
		"Error: Script at '"+path+"' encountered an exception: ValueError: bad",
	)
}

func TestDeploymentCreate_NoSpecsAndBadFiles(t *testing.T) {
	env := newEnv(t, newFakeOrion())
	dir := t.TempDir()

	empty := writeFile(t, dir, "empty.py", "")
	r := env.mustRun(1, "deployment", "create", empty)
	equalLines(t, r.stdout, "Loading deployments from python script at '"+empty+"'...")
	equalLines(t, r.stderr, "Error: No deployment specifications found!")

	emptyYAML := writeFile(t, dir, "empty.yaml", "# nothing\n")
	r = env.mustRun(1, "deployment", "create", emptyYAML)
	equalLines(t, r.stdout, "Loading deployments from yaml file at '"+emptyYAML+"'...")
	equalLines(t, r.stderr, "Error: No deployment specifications found!")

	r = env.mustRun(1, "deployment", "create", writeFile(t, dir, "spec.json", "{}"))
	equalLines(t, r.stdout)
	equalLines(t, r.stderr, "Error: Unknown file type. Expected a '.py', '.yml', or '.yaml' file.")

	r = env.mustRun(1, "deployment", "create", filepath.Join(dir, "missing.py"))
	equalLines(t, r.stderr, "Error: cannot read '"+filepath.Join(dir, "missing.py")+"': no such file or directory")

	bad := writeFile(t, dir, "bad.yml", "name: x\nflow_location: f.py\nbogus: 1\n")
	r = env.mustRun(1, "deployment", "create", bad)
	equalLines(t, r.stderr, "Error: invalid deployment file '"+bad+"': line 3: unknown field 'bogus'")

	r = env.mustRun(1, "deployment", "create")
	if !strings.HasPrefix(r.stderr, "Error: missing argument FILE (usage: orion deployment create FILE") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestDeploymentCreate_YAML(t *testing.T) {
	f := newFakeOrion()
	env := newEnv(t, f)
	dir := t.TempDir()
	flowPath := writeFile(t, dir, "flows/flow.py", "@flow\ndef hello(name='x'): pass\n")
	multi := writeFile(t, dir, "flows/multi.py", "# two flows\n")
	yamlPath := writeFile(t, dir, "deploy.yaml", `
- name: daily
  flow_location: flows/flow.py
  parameters: {name: world}
  schedule: {interval: 86400, anchor_date: "2024-01-01T09:00:00Z"}
  infrastructure: {type: docker, image: "python:3.12"}
- name: ambiguous
  flow_location: flows/multi.py
- name: nightly
  flow_name: etl
  command: make etl
  parameters: {full: false}
  work_queue_name: batch
`)
	schema := map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"default": "x"}}}
	env.py.inspect = func(path, flowName string) (*pyFlowInfo, error) {
		if path == multi {
			return nil, &pyScriptError{Path: path, Message: "Found 2 flows at '" + multi + "': a, b. Specify a flow name to select a flow to deploy."}
		}
		return &pyFlowInfo{FlowName: "hello", FlowLocation: path, ParameterSchema: schema}, nil
	}
	r := env.mustRun(1, "deployment", "create", yamlPath)
	equalLines(t, r.stdout,
		"Loading deployments from yaml file at '"+yamlPath+"'...",
		"Created deployment 'daily' for flow 'hello'",
		"Failed to create deployment 'ambiguous' for flow at '"+multi+"'",
		"Found 2 flows at '"+multi+"': a, b. Specify a flow name to select a flow to deploy.",
		"Created deployment 'nightly' for flow 'etl'",
	)
	equalLines(t, r.stderr, "Error: failed to create 1 of 3 deployments")
	if want := []string{flowPath + "#", multi + "#"}; !reflect.DeepEqual(env.py.inspects, want) {
		t.Errorf("inspected %v, want %v", env.py.inspects, want)
	}

	daily := f.createReqs[0].Deployment
	if daily.FlowName != "hello" || daily.FlowLocation != flowPath || daily.FlowSourceDigest == "" ||
		daily.GetSchedule().GetInterval().GetInterval().AsDuration().Hours() != 24 ||
		daily.GetInfrastructure().GetType() != "docker" ||
		!reflect.DeepEqual(daily.ParameterSchema.AsMap(), schema) {
		t.Errorf("daily = %v", daily)
	}
	nightly := f.createReqs[1].Deployment
	if nightly.FlowKind != orionv1.FlowKind_FLOW_KIND_COMMAND ||
		!reflect.DeepEqual(nightly.Command, []string{"/bin/sh", "-c", "make etl"}) ||
		nightly.WorkQueueName != "batch" || nightly.PushToServer ||
		nightly.ParameterSchema.AsMap()["additionalProperties"] != false {
		t.Errorf("nightly = %v", nightly)
	}

	// Running it again updates both.
	env.py.inspect = func(path, flowName string) (*pyFlowInfo, error) {
		return &pyFlowInfo{FlowName: "hello", FlowLocation: path}, nil
	}
	r = env.mustRun(0, "deployment", "create", yamlPath)
	equalLines(t, r.stdout,
		"Loading deployments from yaml file at '"+yamlPath+"'...",
		"Updated deployment 'daily' for flow 'hello'",
		"Created deployment 'ambiguous' for flow 'hello'",
		"Updated deployment 'nightly' for flow 'etl'",
	)
}

func TestDeploymentCreate_ServerUnreachable(t *testing.T) {
	env := newEnv(t, nil)
	env.url = deadURL(t)
	path := writeFile(t, t.TempDir(), "d.yaml", "- {name: a, command: 'true', flow_name: x}\n- {name: b, command: 'true', flow_name: x}\n")
	r := env.mustRun(1, "deployment", "create", path)
	equalLines(t, r.stdout, "Loading deployments from yaml file at '"+path+"'...")
	equalLines(t, r.stderr, "Error: cannot reach the Orion server at "+env.url+": is `orion server start` running?")
}
