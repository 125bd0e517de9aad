package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/orion-run/orion/cmd/internal/agentcmd"
)

// agentExe is the binary a running agent process executes.
func agentExe(t *testing.T, p *proc) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/<pid>/exe")
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(exe)
}

// listedAgent is one agent of `orion agent ls -o json`.
type listedAgent struct {
	Name       string   `json:"name"`
	WorkQueues []string `json:"work_queues"`
	Limit      int      `json:"limit"`
	Version    string   `json:"version"`
	Connected  bool     `json:"connected"`
}

func listAgents(t *testing.T, e *env) []listedAgent {
	t.Helper()
	out := e.mustRun("agent", "ls", "-o", "json").stdout
	var agents []listedAgent
	if err := json.Unmarshal([]byte(out), &agents); err != nil {
		t.Fatalf("agent ls -o json: %v\n%s", err, out)
	}
	return agents
}

// TestAgentBinary_HandsOverToOrionAgent: `orion agent start` with
// orion-agent beside it becomes orion-agent (same pid), with every flag it
// was given, and runs flows.
func TestAgentBinary_HandsOverToOrionAgent(t *testing.T) {
	e := newEnv(t)
	e.startServer()
	a := e.start("Agent started! Looking for work from queue 'default', 'green'",
		"agent", "start", "--name", "handed-over", "-q", "default", "--work-queue", "green", "--limit", "3", "--log-format", "json")
	if exe := agentExe(t, a); exe != agentcmd.BinaryName {
		t.Fatalf("the agent process runs %s, want %s", exe, agentcmd.BinaryName)
	}
	agents := listAgents(t, e)
	if len(agents) != 1 {
		t.Fatalf("agents = %+v", agents)
	}
	got := agents[0]
	if got.Name != "handed-over" || strings.Join(got.WorkQueues, ",") != "default,green" || got.Limit != 3 || !got.Connected || got.Version != "dev" {
		t.Fatalf("agent = %+v, want handed-over on default,green with limit 3, version dev", got)
	}
	if !strings.Contains(a.output(), `"@message":"agent registered"`) {
		t.Fatalf("--log-format json did not reach orion-agent:\n%s", a.output())
	}

	// A Python flow runs through it: the subprocess runner's supervisor is
	// orion-agent too.
	e.mustRun("deployment", "create", "examples/hello/flow.py")
	r := e.mustRun("deployment", "run", "hello-world/hello-world-daily", "--param", "name=Arthur", "--watch")
	assertInOrder(t, r.stdout, "Pending", "Running", "Completed")
	if logs := e.mustRun("flow-run", "logs", runID(t, r.stdout)).stdout; !strings.Contains(logs, "Hello Arthur!") {
		t.Fatalf("logs lack the greeting:\n%s", logs)
	}
}

// TestAgentBinary_InProcess: ORION_AGENT_IN_PROCESS=1 keeps the agent
// inside orion.
func TestAgentBinary_InProcess(t *testing.T) {
	e := newEnv(t)
	e.startServer()
	a := e.with(agentcmd.EnvInProcess+"=1").startAgent("--name", "in-process")
	if exe := agentExe(t, a); exe != "orion" {
		t.Fatalf("the agent process runs %s, want orion", exe)
	}
	if agents := listAgents(t, e); len(agents) != 1 || agents[0].Name != "in-process" || !agents[0].Connected {
		t.Fatalf("agents = %+v", agents)
	}
	e.mustRun("deployment", "create", "examples/hello/flow.py")
	r := e.mustRun("deployment", "run", "hello-world/hello-world-daily", "--watch")
	assertInOrder(t, r.stdout, "Pending", "Running", "Completed")
}

// TestAgentBinary_RefusesAnotherVersion: an orion-agent handed over to by
// an orion of another version stops at once with a one-line error naming
// both versions, before it registers.
func TestAgentBinary_RefusesAnotherVersion(t *testing.T) {
	e := newEnv(t)
	e.startServer()
	bin := filepath.Join(filepath.Dir(e.bin), agentcmd.BinaryName)
	r := e.with("ORION_AGENT_PARENT_VERSION=9.9.9-other").exec(bin, "start")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:%s\nstderr:%s", r.code, r.stdout, r.stderr)
	}
	msg := strings.TrimSpace(r.stderr)
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "is version dev, but orion version 9.9.9-other started it") ||
		!strings.Contains(msg, agentcmd.EnvInProcess+"=1") {
		t.Fatalf("stderr = %q", r.stderr)
	}
	if agents := listAgents(t, e); len(agents) != 0 {
		t.Fatalf("the refused agent registered: %+v", agents)
	}
}
