package agent

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
)

func prepareFor(t *testing.T, dep *orionv1.Deployment, runInfra *orionv1.Infrastructure) *prepared {
	t.Helper()
	home := t.TempDir()
	e := &executor{home: home, apiURL: "http://127.0.0.1:4200", baseEnv: []string{"PATH=/agent/bin", "AGENT_SECRET=x", "PYTHONHOME=/opt/py"},
		runners: DefaultRunners()}
	j := &job{run: &orionv1.FlowRun{Id: "run-1", Name: "brave-fox", FlowName: "f", Infrastructure: runInfra}, dep: dep, epoch: 2}
	dir := filepath.Join(home, "agent", "runs", "run-1-2")
	p, err := e.prepare(context.Background(), j, dir)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return p
}

func envOf(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(env[i], "="); k == key {
			return v, true
		}
	}
	return "", false
}

func pythonDep(t *testing.T, infra *orionv1.Infrastructure) *orionv1.Deployment {
	flow := filepath.Join(t.TempDir(), "flow.py")
	if err := os.WriteFile(flow, []byte("print(1)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &orionv1.Deployment{Id: "dep-1", Name: "nightly", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_PYTHON,
		FlowLocation: flow, Infrastructure: infra}
}

// TestPrepare_Container: a container run gets container paths, only the
// run's environment (not the agent's), the runtime to copy in and the
// result file to collect; the per-run override wins.
func TestPrepare_Container(t *testing.T) {
	cfg, _ := structpb.NewStruct(map[string]any{"image": "python:3.12-slim"})
	dep := pythonDep(t, &orionv1.Infrastructure{Type: "docker", Env: map[string]string{"MODE": "slow"}, Config: cfg})
	ov, _ := structpb.NewStruct(map[string]any{"stream_output": false})
	p := prepareFor(t, dep, &orionv1.Infrastructure{Env: map[string]string{"MODE": "fast"}, Config: ov})
	s := p.spec
	if s.Infra.Type != runner.TypeDocker || s.Infra.Docker.Image != "python:3.12-slim" || !p.discardOutput {
		t.Fatalf("infra %+v discard %v", s.Infra, p.discardOutput)
	}
	want := []string{"python3", "-u", "-m", "orion.runtime.run", "--flow-file", "/orion/run/flow.py", "--flow-name", "f",
		"--parameters-file", "/orion/run/.orion-parameters.json", "--result-file", "/orion/run/.orion-result.json"}
	if !slices.Equal(s.Command, want) {
		t.Fatalf("command %q", s.Command)
	}
	if _, ok := envOf(s.Env, "AGENT_SECRET"); ok {
		t.Fatal("the agent's environment leaked into the container")
	}
	if _, ok := envOf(s.Env, "PATH"); ok {
		t.Fatal("PATH must come from the image")
	}
	for k, v := range map[string]string{"MODE": "fast", "PYTHONPATH": runner.ContainerRuntimeDir, "ORION_FLOW_RUN_ID": "run-1",
		"ORION_PARAMETERS_FILE": "/orion/run/.orion-parameters.json", "ORION_API_URL": "http://127.0.0.1:4200"} {
		if got, _ := envOf(s.Env, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if s.RuntimeDir == "" || !slices.Equal(s.Collect, []string{".orion-result.json"}) || s.FlowRunName != "brave-fox" || s.DeploymentName != "nightly" {
		t.Fatalf("spec %+v", s)
	}
	// The flow file lives outside the working directory (push_to_server
	// false): it is copied in to travel with it.
	if _, err := os.Stat(filepath.Join(s.Dir, "flow.py")); err != nil {
		t.Fatalf("flow file not copied into the working directory: %v", err)
	}
}

func TestPrepare_KubernetesAPIURL(t *testing.T) {
	cfg, _ := structpb.NewStruct(map[string]any{"api_url": "http://orion.orion:4200"})
	dep := &orionv1.Deployment{Id: "dep-1", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"echo", "hi"},
		Infrastructure: &orionv1.Infrastructure{Type: "kubernetes", Config: cfg}}
	p := prepareFor(t, dep, nil)
	if got, _ := envOf(p.spec.Env, "ORION_API_URL"); got != "http://orion.orion:4200" || p.spec.APIURL != got {
		t.Fatalf("ORION_API_URL = %q", got)
	}
	if !slices.Equal(p.spec.Command, []string{"echo", "hi"}) || p.spec.Collect != nil {
		t.Fatalf("spec %+v", p.spec)
	}
}

// TestPrepare_Virtualenv follows Prefect's SubprocessFlowRunner: the
// venv's bin first on PATH, VIRTUAL_ENV set, PYTHONHOME dropped, and its
// python runs the flow; condaenv wraps the command in conda run.
func TestPrepare_VirtualenvAndConda(t *testing.T) {
	cfg, _ := structpb.NewStruct(map[string]any{"virtualenv": "/venvs/etl"})
	p := prepareFor(t, pythonDep(t, &orionv1.Infrastructure{Type: "subprocess", Config: cfg}), nil)
	if path, _ := envOf(p.spec.Env, "PATH"); path != "/venvs/etl/bin:/agent/bin" {
		t.Errorf("PATH = %q", path)
	}
	if v, _ := envOf(p.spec.Env, "VIRTUAL_ENV"); v != "/venvs/etl" {
		t.Errorf("VIRTUAL_ENV = %q", v)
	}
	if _, ok := envOf(p.spec.Env, "PYTHONHOME"); ok {
		t.Error("PYTHONHOME kept")
	}
	if p.spec.Command[0] != "/venvs/etl/bin/python" {
		t.Errorf("interpreter %q", p.spec.Command[0])
	}
	if v, _ := envOf(p.spec.Env, "AGENT_SECRET"); v != "x" {
		t.Error("a subprocess inherits the agent's environment")
	}

	cfg, _ = structpb.NewStruct(map[string]any{"condaenv": "/opt/conda/envs/etl"})
	p = prepareFor(t, pythonDep(t, &orionv1.Infrastructure{Type: "subprocess", Config: cfg}), nil)
	if got := strings.Join(p.spec.Command[:5], " "); got != "conda run --prefix /opt/conda/envs/etl --no-capture-output" {
		t.Errorf("conda command %q", p.spec.Command)
	}
}

// TestPrepare_PythonRuntimePrecompiled: the runtime a Python run starts
// from holds its bytecode, so the run does not compile it from source.
func TestPrepare_PythonRuntimePrecompiled(t *testing.T) {
	requirePython(t)
	p := prepareFor(t, pythonDep(t, &orionv1.Infrastructure{Type: "subprocess"}), nil)
	pycs, err := filepath.Glob(filepath.Join(p.spec.RuntimeDir, "orion", "__pycache__", "_util.*.pyc"))
	if err != nil || len(pycs) == 0 {
		t.Fatalf("no bytecode for orion/_util.py under %s (err %v)", p.spec.RuntimeDir, err)
	}
}
