package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// debianPython is the interpreter that sees Debian's python3-grpcio and
// python3-protobuf (a pyenv python3 first on PATH may not).
const debianPython = "/usr/bin/python3"

// TestEndToEnd_PythonSDK runs the generated Python gRPC client's example
// against a live server and agent, with authentication on: the agent holds
// an agent-scope token and the example a run-scope one.
func TestEndToEnd_PythonSDK(t *testing.T) {
	e := newEnv(t)
	if err := exec.Command(debianPython, "-c", "import grpc, google.protobuf").Run(); err != nil {
		t.Skip("Debian's python3-grpcio/python3-protobuf are not installed (CI installs them)")
	}
	e.startServer()
	e = e.with("ORION_API_KEY=" + e.createToken("admin"))
	runToken := e.createToken("run")
	e.with("ORION_API_KEY=" + e.createToken("agent")).startAgent()
	e.mustRun("deployment", "create", "examples/hello/flow.py")

	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	root := repoRoot(t)
	cmd := exec.CommandContext(ctx, debianPython, filepath.Join(root, "examples/sdk/python/run_deployment.py"), "hello-world/hello-world-daily", "name=Arthur")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "gen/python"), "ORION_API_URL="+e.url(), "ORION_API_KEY="+runToken)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python example: %v\n%s", err, out)
	}
	assertInOrder(t, string(out), "deployment hello-world/hello-world-daily", "created flow run", "state Completed")
	id := createdRunID(t, string(out))
	if logs := e.mustRun("flow-run", "logs", id).stdout; !strings.Contains(logs, "Hello Arthur!") {
		t.Fatalf("logs of the run started from Python:\n%s", logs)
	}
}

// createdRunID extracts the run id from the SDK examples' "created flow run NAME (ID)" line.
func createdRunID(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "created flow run "); ok {
			if i := strings.Index(rest, "("); i >= 0 {
				return strings.TrimSuffix(rest[i+1:], ")")
			}
		}
	}
	t.Fatalf("no 'created flow run' line in:\n%s", out)
	return ""
}
