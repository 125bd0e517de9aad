package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// dockerEngine returns a client of the test engine and the two test images
// (scripts/docker-test-engine). Without an engine the test is skipped on a
// developer machine; in CI (ORION_CI=1) it fails.
func dockerEngine(t *testing.T) (cli *client.Client, busybox, python string) {
	t.Helper()
	busybox, python = os.Getenv("ORION_TEST_DOCKER_IMAGE"), os.Getenv("ORION_TEST_DOCKER_PYTHON_IMAGE")
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = cli.Ping(ctx)
	}
	if err != nil || busybox == "" || python == "" {
		msg := "no Docker test engine: run eval \"$(scripts/docker-test-engine start)\""
		if os.Getenv("ORION_CI") == "1" {
			t.Fatalf("%s (engine: %v)", msg, err)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli, busybox, python
}

// inspectRun returns the run's JSON document from `flow-run inspect -o json`.
type inspectedRun struct {
	FlowRun struct {
		State struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"state"`
		InfrastructurePid string `json:"infrastructure_pid"`
	} `json:"flow_run"`
	States []struct {
		Type string `json:"type"`
	} `json:"states"`
}

func (e *env) inspect(id string) inspectedRun {
	e.t.Helper()
	var doc inspectedRun
	r := e.mustRun("flow-run", "inspect", id, "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		e.t.Fatalf("inspect: %v\n%s", err, r.stdout)
	}
	return doc
}

// awaitLogs polls the run's logs until they contain text (bounded).
func (e *env) awaitLogs(id, text string) string {
	e.t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		r := e.mustRun("flow-run", "logs", id)
		if strings.Contains(r.stdout, text) {
			return r.stdout
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("logs of %s never contained %q:\n%s", id, text, r.stdout)
		}
		<-tick.C
	}
}

// awaitRunState polls the run until its state has the given type (bounded).
func (e *env) awaitRunState(id, typ string) inspectedRun {
	e.t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		doc := e.inspect(id)
		if doc.FlowRun.State.Type == typ {
			return doc
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("run %s is %s, never %s", id, doc.FlowRun.State.Type, typ)
		}
		<-tick.C
	}
}

func containersOf(t *testing.T, cli *client.Client, runID string) []string {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", "io.orion.flow-run-id="+runID))})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range list {
		out = append(out, strings.Join(c.Names, ","))
	}
	return out
}

// awaitNoContainers waits (bounded) for the run's containers to be removed.
func awaitNoContainers(t *testing.T, cli *client.Client, runID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for len(containersOf(t, cli, runID)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("containers left for run %s: %v", runID, containersOf(t, cli, runID))
		}
		<-tick.C
	}
}

// TestEndToEnd_Docker runs the Docker examples through a real server and
// agent against the test engine: a Python flow (the docs' example, with its
// image overridden per run to the local test image), a failing Python flow,
// a YAML command flow, and cancellation of a running container.
func TestEndToEnd_Docker(t *testing.T) {
	cli, busybox, python := dockerEngine(t)
	e := newEnv(t)
	e.startServer()
	e.startAgent("--work-queue", "default")

	t.Run("python flow in a container", func(t *testing.T) {
		r := e.mustRun("deployment", "create", "examples/docker/flow.py")
		if !strings.Contains(r.stdout, "Created deployment 'hello-docker' for flow 'hello-docker'") {
			t.Fatalf("create:\n%s", r.stdout)
		}
		r = e.mustRun("deployment", "run", "hello-docker/hello-docker", "--param", "name=Marvin",
			"--infra-override", "image="+python, "--watch")
		id := runID(t, r.stdout)
		assertInOrder(t, r.stdout, "Pending", "Running", "Completed")
		logs := e.mustRun("flow-run", "logs", id).stdout
		for _, want := range []string{"Started docker orion-" + id + "-1", "stdout - Hello Marvin from a container running Python 3."} {
			if !strings.Contains(logs, want) {
				t.Fatalf("logs lack %q:\n%s", want, logs)
			}
		}
		if doc := e.inspect(id); doc.FlowRun.InfrastructurePid != "orion-"+id+"-1" {
			t.Fatalf("infrastructure_pid = %q", doc.FlowRun.InfrastructurePid)
		}
		awaitNoContainers(t, cli, id)
	})

	t.Run("python failure reports the exception", func(t *testing.T) {
		e.mustRun("deployment", "create", "cmd/orion/testdata/docker_raises.py")
		r := e.run("deployment", "run", "docker-raises/raises", "--infra-override", "image="+python, "--watch")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1 (Failed)\n%s%s", r.code, r.stdout, r.stderr)
		}
		id := runID(t, r.stdout)
		doc := e.inspect(id)
		// The message comes from the result file copied out of the container.
		if doc.FlowRun.State.Type != "STATE_TYPE_FAILED" || !strings.Contains(doc.FlowRun.State.Message, "ValueError: bad input inside the container") {
			t.Fatalf("state %+v", doc.FlowRun.State)
		}
		// stdout and stderr are separate streams: each keeps its order, but
		// not their interleaving.
		logs := e.mustRun("flow-run", "logs", id).stdout
		for _, want := range []string{"stdout - about to fail", "stderr - Traceback (most recent call last):"} {
			if !strings.Contains(logs, want) {
				t.Fatalf("logs lack %q:\n%s", want, logs)
			}
		}
	})

	t.Run("yaml command flow", func(t *testing.T) {
		e.mustRun("deployment", "create", "examples/docker/deployments.yaml")
		r := e.mustRun("deployment", "run", "docker-shell/greet", "--infra-override", "image="+busybox, "--watch")
		id := runID(t, r.stdout)
		assertInOrder(t, e.mustRun("flow-run", "logs", id).stdout, "Hello Marvin from container", `{"name":"Marvin"}`)
	})

	t.Run("a bad override is refused before the run exists", func(t *testing.T) {
		r := e.run("deployment", "run", "docker-shell/greet", "--infra-override", "image_pull_policy=sometimes")
		if r.code == 0 || !strings.Contains(r.stderr, "infrastructure.config.image_pull_policy: expected one of IF_NOT_PRESENT, ALWAYS, NEVER") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})

	t.Run("missing image crashes with the reason", func(t *testing.T) {
		r := e.run("deployment", "run", "docker-shell/greet", "--infra-override", "image=orion-test/absent:1",
			"--infra-override", "image_pull_policy=NEVER", "--watch")
		id := runID(t, r.stdout)
		doc := e.inspect(id)
		if doc.FlowRun.State.Type != "STATE_TYPE_CRASHED" || !strings.Contains(doc.FlowRun.State.Message, "Container could not start: image orion-test/absent:1 is not present") {
			t.Fatalf("state %+v", doc.FlowRun.State)
		}
	})

	t.Run("cancel stops the container", func(t *testing.T) {
		r := e.mustRun("deployment", "run", "docker-shell/long", "--infra-override", "image="+busybox)
		id := runID(t, r.stdout)
		e.awaitLogs(id, "started")
		if n := len(containersOf(t, cli, id)); n != 1 {
			t.Fatalf("%d containers for the running flow", n)
		}
		e.mustRun("flow-run", "cancel", id)
		doc := e.awaitRunState(id, "STATE_TYPE_CANCELLED")
		var types []string
		for _, s := range doc.States {
			types = append(types, strings.TrimPrefix(s.Type, "STATE_TYPE_"))
		}
		assertInOrder(t, strings.Join(types, ","), "RUNNING", "CANCELLING", "CANCELLED")
		// The TERM trap ran: the container was stopped gracefully.
		e.awaitLogs(id, "stopping")
		awaitNoContainers(t, cli, id)
	})
}

// TestEndToEnd_RunnerExamples runs the subprocess example through a real
// agent and checks that the Kubernetes example is accepted and stored as
// written (no cluster can run here; the runner is tested against a fake
// one in agent/runner/kubernetes).
func TestEndToEnd_RunnerExamples(t *testing.T) {
	e := newEnv(t)
	e.startServer()
	e.startAgent()

	e.mustRun("deployment", "create", "examples/subprocess/deployments.yaml")
	r := e.mustRun("deployment", "run", "subprocess-demo/env-demo", "--watch")
	id := runID(t, r.stdout)
	logs := e.mustRun("flow-run", "logs", id).stdout
	for _, want := range []string{"Started subprocess", "stdout - mode=fast", "stderr - to stderr"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("logs lack %q:\n%s", want, logs)
		}
	}

	r = e.mustRun("deployment", "create", "examples/kubernetes/flow.py")
	if !strings.Contains(r.stdout, "Created deployment 'hello-kubernetes' for flow 'hello-kubernetes'") {
		t.Fatalf("create:\n%s", r.stdout)
	}
	var dep struct {
		Infrastructure struct {
			Type   string            `json:"type"`
			Env    map[string]string `json:"env"`
			Config map[string]any    `json:"config"`
		} `json:"infrastructure"`
	}
	r = e.mustRun("deployment", "inspect", "hello-kubernetes/hello-kubernetes", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &dep); err != nil {
		t.Fatalf("inspect: %v\n%s", err, r.stdout)
	}
	in := dep.Infrastructure
	res, _ := in.Config["resources"].(map[string]any)
	if in.Type != "kubernetes" || in.Config["namespace"] != "default" || in.Config["image_pull_policy"] != "IfNotPresent" ||
		in.Env["GREETING_SOURCE"] != "kubernetes" || res["limits"] == nil {
		t.Fatalf("stored infrastructure %+v", in)
	}
	r = e.run("deployment", "run", "hello-kubernetes/hello-kubernetes", "--infra-override", "namespace=Not_Valid")
	if r.code == 0 || !strings.Contains(r.stderr, `infrastructure.config.namespace: "Not_Valid" is not a valid namespace`) {
		t.Fatalf("bad namespace override: exit %d %s", r.code, r.stderr)
	}
}
