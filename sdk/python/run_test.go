package python

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runPython runs a script with the installed runtime on PYTHONPATH and
// returns its combined output; it fails the test on a non-zero exit. Flow
// calls in the script are not tracked (ORION_TRACKING=0), so no server is
// needed or touched.
func runPython(t *testing.T, script string) string {
	t.Helper()
	cmd := exec.Command(Interpreter(), script)
	cmd.Env = append(Env(runtimeDir(t), os.Environ()), "ORION_TRACKING=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

type flowRun struct {
	stdout, stderr string
	exitCode       int
	result         *RunResult
	resultErr      error
}

// runFlow runs RunCommand for flowFile/flowName with params (nil: no
// parameters file) and collects everything.
func runFlow(t *testing.T, flowFile, flowName string, params map[string]any) flowRun {
	t.Helper()
	requirePython(t)
	dir := t.TempDir()
	paramsFile := ""
	if params != nil {
		paramsFile = filepath.Join(dir, "params.json")
		data, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(paramsFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	resultFile := filepath.Join(dir, "result.json")
	argv := RunCommand(flowFile, flowName, paramsFile, resultFile)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = Env(runtimeDir(t), os.Environ())
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			t.Fatalf("run %v: %v", argv, err)
		}
		code = exitErr.ExitCode()
	}
	res, resErr := ReadResult(resultFile)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary result file left behind: %s", e.Name())
		}
	}
	return flowRun{stdout: stdout.String(), stderr: stderr.String(), exitCode: code, result: res, resultErr: resErr}
}

func (r flowRun) String() string {
	return "exit " + strconv.Itoa(r.exitCode) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

func TestRun_SeedHelloWorld(t *testing.T) {
	r := runFlow(t, testdata(t, "hello_world.py"), "", map[string]any{"name": "Marvin"})
	if r.exitCode != ExitCompleted || r.stdout != "Hello Marvin!\n" {
		t.Fatalf("%v", r)
	}
	if r.resultErr != nil || *r.result != (RunResult{State: StateCompleted, Message: "Flow run completed.", Result: "None"}) {
		t.Fatalf("result = %+v, %v", r.result, r.resultErr)
	}
}

func TestRun_DefaultParametersAndMainBlock(t *testing.T) {
	// No parameters file: defaults apply. run_flows.py also holds an invalid
	// DeploymentSpec, which must be a no-op in a run, and a __main__ block.
	r := runFlow(t, testdata(t, "run_flows.py"), "hello", nil)
	if r.exitCode != ExitCompleted || r.stdout != "Hello world!\n" {
		t.Fatalf("%v", r)
	}
	if strings.Contains(r.stdout+r.stderr, "MAIN BLOCK RAN") {
		t.Fatal("the if __name__ == \"__main__\" block ran")
	}
	if !strings.Contains(r.stderr, "| INFO    | orion.flow_runs - logged world") {
		t.Errorf("get_run_logger output missing from stderr: %q", r.stderr)
	}
	if r.result == nil || r.result.Result != "{'greeting': 'Hello world!'}" {
		t.Errorf("result = %+v, %v", r.result, r.resultErr)
	}
}

func TestRun_FlowRaises(t *testing.T) {
	r := runFlow(t, testdata(t, "run_flows.py"), "fails", map[string]any{"x": 2})
	if r.exitCode != ExitFailed {
		t.Fatalf("%v", r)
	}
	if r.result == nil || *r.result != (RunResult{State: StateFailed, Message: "ValueError: boom"}) {
		t.Fatalf("result = %+v, %v", r.result, r.resultErr)
	}
	for _, frag := range []string{"Traceback (most recent call last):", "run_flows.py", "in inner", `raise ValueError("boom")`, "ValueError: boom"} {
		if !strings.Contains(r.stderr, frag) {
			t.Errorf("stderr lacks %q:\n%s", frag, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "orion/runtime") {
		t.Errorf("traceback shows runtime frames:\n%s", r.stderr)
	}
}

func TestRun_InvalidParameters(t *testing.T) {
	for _, tc := range []struct {
		flow    string
		params  map[string]any
		message string
	}{
		{"hello", map[string]any{"nme": "x"}, "Flow run received invalid parameters: unexpected parameter(s) 'nme'"},
		{"needs-arg", nil, "Flow run received invalid parameters: missing required parameter(s) 'required_value'"},
		{"needs-arg", map[string]any{"other": 1}, "Flow run received invalid parameters: unexpected parameter(s) 'other'; missing required parameter(s) 'required_value'"},
	} {
		r := runFlow(t, testdata(t, "run_flows.py"), tc.flow, tc.params)
		if r.exitCode != ExitInvalid {
			t.Errorf("%s %v: %v", tc.flow, tc.params, r)
			continue
		}
		if r.result == nil || *r.result != (RunResult{State: StateFailed, Message: tc.message}) {
			t.Errorf("%s %v: result = %+v, %v", tc.flow, tc.params, r.result, r.resultErr)
		}
	}
}

func TestRun_ParametersFileNotAnObject(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	params := filepath.Join(dir, "p.json")
	if err := os.WriteFile(params, []byte(`["Marvin"]`), 0o644); err != nil {
		t.Fatal(err)
	}
	resultFile := filepath.Join(dir, "r.json")
	argv := RunCommand(testdata(t, "hello_world.py"), "", params, resultFile)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = Env(runtimeDir(t), os.Environ())
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != ExitInvalid {
		t.Fatalf("err = %v", err)
	}
	res, err := ReadResult(resultFile)
	if err != nil || res.State != StateFailed || !strings.HasPrefix(res.Message, "Flow run received invalid parameters: ") {
		t.Fatalf("result = %+v, %v", res, err)
	}
}

func TestRun_FlowNotLoadable(t *testing.T) {
	flows := testdata(t, "run_flows.py")
	r := runFlow(t, flows, "nope", nil)
	if r.exitCode != ExitInvalid || r.result == nil || r.result.State != StateFailed ||
		!strings.HasPrefix(r.result.Message, "Flow could not be loaded: Flow 'nope' not found at path '"+flows+"'. Found the following flows: hello, fails") {
		t.Fatalf("%v\nresult %+v", r, r.result)
	}

	r = runFlow(t, testdata(t, "raises.py"), "", nil)
	want := "Flow could not be loaded: Script at '" + testdata(t, "raises.py") + "' encountered an exception: ValueError: boom at load time"
	if r.exitCode != ExitInvalid || r.result == nil || r.result.Message != want || !strings.Contains(r.stderr, "in helper") {
		t.Fatalf("%v\nresult %+v", r, r.result)
	}
}

func TestRun_AsyncFlow(t *testing.T) {
	r := runFlow(t, testdata(t, "run_flows.py"), "async-hello", map[string]any{"name": "Marvin"})
	if r.exitCode != ExitCompleted || r.stdout != "Async hello Marvin!\n" || r.result == nil || r.result.Result != "'MARVIN'" {
		t.Fatalf("%v\nresult %+v", r, r.result)
	}
}

func TestRun_ResultTruncated(t *testing.T) {
	r := runFlow(t, testdata(t, "run_flows.py"), "big-result", nil)
	if r.exitCode != ExitCompleted || r.result == nil {
		t.Fatalf("%v", r)
	}
	if n := len(r.result.Result); n != 1000 || !strings.HasSuffix(r.result.Result, "...") {
		t.Fatalf("result is %d chars: %q...", n, r.result.Result[:20])
	}
}

func TestRun_SeparateFlowFile(t *testing.T) {
	// A flow script whose deployment lives elsewhere runs on its own.
	r := runFlow(t, testdata(t, "separate/flow.py"), "hello-world", map[string]any{"name": "Arthur"})
	if r.exitCode != ExitCompleted || r.stdout != "Hello Arthur!\n" {
		t.Fatalf("%v", r)
	}
}

// TestRun_ResultFile runs testdata/result_checks.py: the result file's
// bound ($ORION_RESULT_MAX_BYTES) and its write in place on a mount point.
func TestRun_ResultFile(t *testing.T) {
	requirePython(t)
	if got := strings.TrimSpace(runPython(t, testdata(t, "result_checks.py"))); got != "ok" {
		t.Fatalf("result_checks.py printed %q", got)
	}
}

// TestRun_StartImportsLittle: starting a flow run imports neither asyncio
// (only an async flow needs it) nor the HTTP client's ssl and
// urllib.request (only a tracked direct call needs them), nor hashlib
// (OpenSSL; only a flow's default version needs it), uuid (with platform)
// or decimal: each costs a hello-world run milliseconds at every start.
func TestRun_StartImportsLittle(t *testing.T) {
	requirePython(t)
	script := filepath.Join(t.TempDir(), "imports.py")
	body := "import sys\nimport orion.runtime.run\n" +
		"print(' '.join(m for m in ('asyncio', 'ssl', 'urllib.request', 'orion.embedded', 'hashlib', 'uuid', 'decimal') if m in sys.modules) or 'none')\n"
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(runPython(t, script)); got != "none" {
		t.Fatalf("importing orion.runtime.run imported %s", got)
	}
}
