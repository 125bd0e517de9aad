package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var httpClient = &http.Client{Timeout: 30 * time.Second}

var createdRun = regexp.MustCompile(`Created flow run '([a-z]+-[a-z]+)' \(([0-9a-f-]{36})\)`)

// runID extracts the id printed by `deployment run`.
func runID(t *testing.T, out string) string {
	t.Helper()
	m := createdRun.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no \"Created flow run '<name>' (<id>)\" line in:\n%s", out)
	}
	return m[2]
}

// TestEndToEnd_Quickstart walks the README quickstart with real processes: a
// server, a separate agent, and the CLI, on loopback with a temp ORION_HOME.
func TestEndToEnd_Quickstart(t *testing.T) {
	e := newEnv(t)
	port := strconv.Itoa(e.port)
	server := e.start("Orion server listening on", "server", "start", "--port", port)
	e.start("Agent started! Looking for work from queue 'default'", "agent", "start", "--work-queue", "default")

	t.Run("health", func(t *testing.T) {
		code, body := e.httpGet("/api/health")
		if code != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Fatalf("GET /api/health = %d %s", code, body)
		}
	})

	t.Run("create from the seed's Python file", func(t *testing.T) {
		r := e.mustRun("deployment", "create", "examples/hello/flow.py")
		want := "Loading deployments from python script at 'examples/hello/flow.py'...\nCreated deployment 'hello-world-daily' for flow 'hello-world'\n"
		if r.stdout != want {
			t.Fatalf("stdout = %q, want %q", r.stdout, want)
		}
		r = e.mustRun("deployment", "create", "examples/hello/flow.py")
		if !strings.Contains(r.stdout, "Updated deployment 'hello-world-daily' for flow 'hello-world'") {
			t.Fatalf("second create did not update:\n%s", r.stdout)
		}
	})

	var helloRun string
	t.Run("run with a parameter and watch", func(t *testing.T) {
		r := e.mustRun("deployment", "run", "hello-world/hello-world-daily", "--param", "name=Marvin", "--watch")
		helloRun = runID(t, r.stdout)
		assertInOrder(t, r.stdout, "Scheduled", "Pending", "Running", "Completed")
	})

	t.Run("logs show the flow's output", func(t *testing.T) {
		r := e.mustRun("flow-run", "logs", helloRun)
		if !strings.Contains(r.stdout, "Hello Marvin!") {
			t.Fatalf("logs lack the greeting:\n%s", r.stdout)
		}
	})

	t.Run("inspect shows the state history", func(t *testing.T) {
		r := e.mustRun("flow-run", "inspect", helloRun, "-o", "json")
		var doc struct {
			FlowRun struct {
				State struct {
					Type string `json:"type"`
				} `json:"state"`
				RunCount   int            `json:"run_count"`
				Parameters map[string]any `json:"parameters"`
			} `json:"flow_run"`
			States []struct {
				Type string `json:"type"`
			} `json:"states"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("inspect -o json is not JSON: %v\n%s", err, r.stdout)
		}
		if doc.FlowRun.State.Type != "STATE_TYPE_COMPLETED" || doc.FlowRun.RunCount != 1 || doc.FlowRun.Parameters["name"] != "Marvin" {
			t.Fatalf("unexpected run: %+v", doc.FlowRun)
		}
		var types []string
		for _, s := range doc.States {
			types = append(types, strings.TrimPrefix(s.Type, "STATE_TYPE_"))
		}
		if got := strings.Join(types, ","); got != "SCHEDULED,PENDING,RUNNING,COMPLETED" {
			t.Fatalf("state history = %s", got)
		}
	})

	t.Run("unknown parameter is rejected at run creation", func(t *testing.T) {
		r := e.run("deployment", "run", "hello-world/hello-world-daily", "--param", "nme=Marvin")
		if r.code == 0 || !strings.Contains(r.stderr, "nme") || strings.Contains(r.stdout, "Created flow run") {
			t.Fatalf("exit %d\nstdout:%s\nstderr:%s", r.code, r.stdout, r.stderr)
		}
		if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
			t.Fatalf("error is not one line:\n%s", r.stderr)
		}
	})

	t.Run("deployment names and errors", func(t *testing.T) {
		r := e.mustRun("deployment", "ls")
		if !strings.Contains(r.stdout, "hello-world/hello-world-daily") {
			t.Fatalf("ls:\n%s", r.stdout)
		}
		r = e.run("deployment", "inspect", "hello-world")
		if r.code == 0 || !strings.Contains(r.stderr, "Invalid deployment name. Expected '<flow-name>/<deployment-name>'") {
			t.Fatalf("inspect without slash: %d %s", r.code, r.stderr)
		}
		r = e.run("deployment", "inspect", "hello-world/nope")
		if r.code == 0 || !strings.Contains(r.stderr, "Deployment 'hello-world/nope' not found!") {
			t.Fatalf("inspect missing: %d %s", r.code, r.stderr)
		}
		r = e.run("deployment", "create", "README.md")
		if r.code == 0 || !strings.Contains(r.stderr+r.stdout, "Unknown file type. Expected a '.py', '.yml', or '.yaml' file.") {
			t.Fatalf("create README.md: %d %s %s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("HTTP gateway serves the deployment", func(t *testing.T) {
		code, body := e.httpGet("/api/v1/deployments/name/hello-world/hello-world-daily")
		if code != http.StatusOK || !strings.Contains(body, `"flow_name":"hello-world"`) || !strings.Contains(body, `"work_queue_name":"default"`) {
			t.Fatalf("GET deployment by name = %d %s", code, body)
		}
		code, body = e.httpGet("/api/v1/deployments/name/hello-world/missing")
		if code != http.StatusNotFound {
			t.Fatalf("GET missing deployment = %d %s", code, body)
		}
	})

	t.Run("YAML command flows", func(t *testing.T) {
		r := e.mustRun("deployment", "create", "examples/shell/deployments.yaml")
		assertInOrder(t, r.stdout, "Loading deployments from yaml file at 'examples/shell/deployments.yaml'...",
			"Created deployment 'greet' for flow 'shell-greeting'", "Created deployment 'always-fails' for flow 'shell-greeting'")
		r = e.mustRun("deployment", "run", "shell-greeting/greet", "--watch")
		id := runID(t, r.stdout)
		assertInOrder(t, r.stdout, "Scheduled", "Pending", "Running", "Completed")
		if logs := e.mustRun("flow-run", "logs", id).stdout; !strings.Contains(logs, "Greetings, Zaphod!") {
			t.Fatalf("command flow logs:\n%s", logs)
		}
		r = e.run("deployment", "run", "shell-greeting/always-fails", "--watch")
		if r.code == 0 {
			t.Fatalf("a failing flow must exit non-zero with --watch:\n%s", r.stdout)
		}
		assertInOrder(t, r.stdout, "Running", "Failed")
		if !strings.Contains(r.stdout+r.stderr, "exit") {
			t.Fatalf("failure does not mention the exit code:\n%s\n%s", r.stdout, r.stderr)
		}
		if logs := e.mustRun("flow-run", "logs", runID(t, r.stdout)).stdout; !strings.Contains(logs, "about to fail") {
			t.Fatalf("stderr not shipped as logs:\n%s", logs)
		}
	})

	t.Run("execute runs in the foreground and is recorded", func(t *testing.T) {
		r := e.mustRun("deployment", "execute", "hello-world/hello-world-daily", "--param", "name=Ford")
		if !strings.Contains(r.stdout, "Hello Ford!") {
			t.Fatalf("execute output:\n%s", r.stdout)
		}
		ls := e.mustRun("flow-run", "ls", "-o", "json")
		if !strings.Contains(ls.stdout, `"Ford"`) {
			t.Fatalf("executed run not recorded:\n%s", ls.stdout)
		}
	})

	t.Run("a second server on the same store fails fast", func(t *testing.T) {
		start := time.Now()
		r := e.run("server", "start", "--port", strconv.Itoa(freePort(t)))
		if r.code == 0 || !strings.Contains(r.stderr, "in use") {
			t.Fatalf("second server: exit %d\n%s", r.code, r.stderr)
		}
		if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
			t.Fatalf("error is not one line:\n%s", r.stderr)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Fatalf("second server took %s to fail", d)
		}
	})

	t.Run("the agent reconnects after a server restart", func(t *testing.T) {
		server.stop(t)
		e.start("Orion server listening on", "server", "start", "--port", port)
		r := e.mustRun("deployment", "run", "hello-world/hello-world-daily", "--param", "name=Trillian", "--watch")
		assertInOrder(t, r.stdout, "Pending", "Running", "Completed")
		if logs := e.mustRun("flow-run", "logs", runID(t, r.stdout)).stdout; !strings.Contains(logs, "Hello Trillian!") {
			t.Fatalf("logs after restart:\n%s", logs)
		}
	})
}
