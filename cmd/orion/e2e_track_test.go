package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// python runs `python3 args...` from the repository root.
func (e *env) python(args ...string) result {
	e.t.Helper()
	return e.exec("python3", args...)
}

// sdkPath is `orion sdk path`: the folder to put on PYTHONPATH.
func (e *env) sdkPath() string {
	e.t.Helper()
	return strings.TrimSpace(e.mustRun("sdk", "path").stdout)
}

// listedRuns returns `orion flow-run ls -o json` for a flow.
func (e *env) listedRuns(flow string) []map[string]any {
	e.t.Helper()
	var runs []map[string]any
	out := e.mustRun("flow-run", "ls", "--flow-name", flow, "-o", "json").stdout
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		e.t.Fatalf("flow-run ls -o json: %v\n%s", err, out)
	}
	return runs
}

func stateOf(run map[string]any) (typ, message string) {
	st, _ := run["state"].(map[string]any)
	typ, _ = st["type"].(string)
	message, _ = st["message"].(string)
	return typ, message
}

// TestEndToEnd_DirectFlowCall: `python3 flow.py` calling a @flow function
// records a flow run with its parameters, states and logs through the API;
// the flow is created on first use and no deployment or agent is involved.
func TestEndToEnd_DirectFlowCall(t *testing.T) {
	e := newEnv(t)
	e.startServer()
	pp := "PYTHONPATH=" + e.sdkPath()

	ok := e.with(pp).python("examples/hello/direct.py", "Marvin")
	if ok.code != 0 || !strings.Contains(ok.stdout, "Hello Marvin!") {
		t.Fatalf("direct call: exit %d\nstdout:\n%s\nstderr:\n%s", ok.code, ok.stdout, ok.stderr)
	}
	assertInOrder(t, ok.stderr, "Created flow run", "for flow 'greet'", "Finished in state Completed()")

	bad := e.with(pp).python("examples/hello/direct.py", "Zaphod", "--fail")
	if bad.code == 0 || !strings.Contains(bad.stderr, "ValueError: no greeting for Zaphod") {
		t.Fatalf("a failing flow must raise as usual: exit %d\nstderr:\n%s", bad.code, bad.stderr)
	}

	runs := e.listedRuns("greet")
	if len(runs) != 2 {
		t.Fatalf("want 2 runs of flow greet, got %d: %v", len(runs), runs)
	}
	byName := map[string]map[string]any{}
	for _, r := range runs {
		params, _ := r["parameters"].(map[string]any)
		name, _ := params["name"].(string)
		byName[name] = r
		if r["deployment_id"] != "" {
			t.Errorf("a direct call has no deployment: %v", r["deployment_id"])
		}
	}
	if typ, _ := stateOf(byName["Marvin"]); typ != "STATE_TYPE_COMPLETED" {
		t.Errorf("run with name=Marvin: state %s", typ)
	}
	if typ, msg := stateOf(byName["Zaphod"]); typ != "STATE_TYPE_FAILED" || !strings.Contains(msg, "ValueError: no greeting for Zaphod") {
		t.Errorf("run with name=Zaphod: state %s %q", typ, msg)
	}
	if p, _ := byName["Zaphod"]["parameters"].(map[string]any); p["fail"] != true {
		t.Errorf("bound parameters with defaults applied: %v", p)
	}
	logs := e.mustRun("flow-run", "logs", byName["Marvin"]["id"].(string)).stdout
	assertInOrder(t, logs, "Created flow run", "stdout - Hello Marvin!", "Finished in state Completed()")
	logs = e.mustRun("flow-run", "logs", byName["Zaphod"]["id"].(string)).stdout
	assertInOrder(t, logs, "Hello Zaphod!", "Traceback", "ValueError: no greeting for Zaphod")

	// An exception whose message is over the server's 64 KiB limit for a
	// state still ends the run FAILED, with the message cut (the server
	// refused the whole final state, and the run stayed RUNNING).
	huge := filepath.Join(t.TempDir(), "huge.py")
	script := "from orion import flow\n\n\n@flow\ndef huge():\n    raise ValueError('\u00e9' * 60000)\n\n\nhuge()\n"
	if err := os.WriteFile(huge, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.with(pp).python(huge); r.code == 0 || strings.Contains(r.stderr, "could not record") {
		t.Fatalf("huge exception: exit %d\nstderr:\n%.2000s", r.code, r.stderr)
	}
	hugeRuns := e.listedRuns("huge")
	if len(hugeRuns) != 1 {
		t.Fatalf("want 1 run of flow huge, got %d", len(hugeRuns))
	}
	if typ, msg := stateOf(hugeRuns[0]); typ != "STATE_TYPE_FAILED" || !strings.HasPrefix(msg, "ValueError: éé") ||
		!strings.Contains(msg, "(cut: the message was 120012 bytes)") || len(msg) > 64<<10 {
		t.Errorf("run of flow huge: state %s, message of %d bytes ending %q", typ, len(msg), msg[max(0, len(msg)-60):])
	}

	// ORION_TRACKING=0 runs the flow without recording anything.
	if r := e.with(pp, "ORION_TRACKING=0").python("examples/hello/direct.py", "Ford"); r.code != 0 || strings.Contains(r.stderr, "Created flow run") {
		t.Fatalf("untracked call: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if n := len(e.listedRuns("greet")); n != 2 {
		t.Fatalf("ORION_TRACKING=0 recorded a run: %d runs", n)
	}
}

// TestEndToEnd_DirectFlowCallWithoutServer: with no server reachable the
// runtime starts a short-lived embedded one on $ORION_HOME's store, so the
// run shows up once a server is started there.
func TestEndToEnd_DirectFlowCallWithoutServer(t *testing.T) {
	e := newEnv(t)
	pp := "PYTHONPATH=" + e.sdkPath()
	r := e.with(pp).python("examples/hello/direct.py", "Trillian")
	if r.code != 0 || !strings.Contains(r.stdout, "Hello Trillian!") || !strings.Contains(r.stderr, "Finished in state Completed()") {
		t.Fatalf("direct call without a server: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.home, "orion.db")); err != nil {
		t.Fatalf("the embedded server did not use $ORION_HOME's store: %v", err)
	}

	e.startServer()
	runs := e.listedRuns("greet")
	if len(runs) != 1 {
		t.Fatalf("want the one run recorded while no server ran, got %d", len(runs))
	}
	if typ, _ := stateOf(runs[0]); typ != "STATE_TYPE_COMPLETED" {
		t.Fatalf("state %s", typ)
	}
	if logs := e.mustRun("flow-run", "logs", runs[0]["id"].(string)).stdout; !strings.Contains(logs, "Hello Trillian!") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// TestSDKInstall: `orion sdk install` makes `from prefect import flow` work
// in the user's python3 without PYTHONPATH; `orion sdk uninstall` undoes it.
func TestSDKInstall(t *testing.T) {
	e := newEnv(t)
	userBase := "PYTHONUSERBASE=" + t.TempDir() // the user site-packages live here
	check := []string{"-c", "import orion, prefect.deployments; print(orion.__file__)"}
	if r := e.with(userBase).python(check...); r.code == 0 {
		t.Fatalf("the runtime is importable before install:\n%s", r.stdout)
	}
	if r := e.with(userBase).run("sdk", "install", "--python", "python3"); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "Installed Orion's Python runtime") {
		t.Fatalf("orion sdk install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := e.with(userBase).python(check...)
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), e.home) {
		t.Fatalf("after install: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if r := e.with(userBase).run("sdk", "uninstall", "--python", "python3"); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "Removed") {
		t.Fatalf("orion sdk uninstall: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.with(userBase).python(check...); r.code == 0 {
		t.Fatalf("the runtime is still importable after uninstall:\n%s", r.stdout)
	}
}
