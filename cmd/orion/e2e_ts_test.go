package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEndToEnd_TypeScriptSDK runs the generated TypeScript client's example
// (Node, gRPC transport) against a live server and agent, with
// authentication on (a run-scope token for the example, an agent-scope one
// for the agent).
func TestEndToEnd_TypeScriptSDK(t *testing.T) {
	e := newEnv(t)
	root := repoRoot(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed (CI installs it)")
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@connectrpc", "connect-node")); err != nil {
		t.Skip("run `npm ci` at the repository root first (make test does)")
	}
	e.startServer()
	e = e.with("ORION_API_KEY=" + e.createToken("admin"))
	runToken := e.createToken("run")
	e.with("ORION_API_KEY=" + e.createToken("agent")).startAgent()
	e.mustRun("deployment", "create", "examples/hello/flow.py")

	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(root, "examples/sdk/ts/run_deployment.mjs"), "hello-world/hello-world-daily", "name=Zaphod")
	cmd.Env = append(os.Environ(), "ORION_API_URL="+e.url(), "ORION_API_KEY="+runToken)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node example: %v\n%s", err, out)
	}
	assertInOrder(t, string(out), "created flow run", "state Completed")
	id := createdRunID(t, string(out))
	if logs := e.mustRun("flow-run", "logs", id).stdout; !strings.Contains(logs, "Hello Zaphod!") {
		t.Fatalf("logs of the run started from Node:\n%s", logs)
	}
}
