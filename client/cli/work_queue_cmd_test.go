package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/orion-run/orion/client"
	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/servertest"
)

// realEnv runs the CLI against a real in-process server.
func realEnv(t *testing.T) (*cliEnv, *client.Client) {
	t.Helper()
	srv := servertest.New(t)
	c, err := client.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &cliEnv{t: t, url: srv.URL(), py: &fakePython{}}, c
}

func TestWorkQueueCommands(t *testing.T) {
	env, c := realEnv(t)
	r := env.mustRun(0, "work-queue", "create", "gpu", "-t", "cuda", "--limit", "2")
	if !strings.Contains(r.stdout, "gpu") || !strings.Contains(r.stdout, "cuda") {
		t.Fatalf("create printed %q", r.stdout)
	}
	r = env.mustRun(1, "work-queue", "create", "gpu")
	equalLines(t, r.stderr, "Error: Work queue with name: 'gpu' already exists.")

	q, err := c.WorkQueues.GetWorkQueueByName(context.Background(), &orionv1.GetWorkQueueByNameRequest{Name: "gpu"})
	if err != nil {
		t.Fatal(err)
	}
	id := q.GetWorkQueue().GetId()

	equalLines(t, env.mustRun(0, "work-queue", "pause", "gpu").stdout, "Paused work queue "+id)
	r = env.mustRun(0, "work-queue", "ls")
	if !strings.Contains(r.stdout, "gpu (**)") || !strings.Contains(r.stdout, "(**) denotes a paused queue") {
		t.Fatalf("ls:\n%s", r.stdout)
	}
	equalLines(t, env.mustRun(0, "work-queue", "resume", id).stdout, "Resumed work queue "+id)
	equalLines(t, env.mustRun(0, "work-queue", "set-concurrency-limit", "gpu", "5").stdout, "Concurrency limit of 5 set on work queue "+id)
	r = env.mustRun(0, "work-queue", "inspect", "gpu", "-o", "json")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got["concurrency_limit"] != float64(5) || got["is_paused"] != false {
		t.Fatalf("inspect json %q: %v", r.stdout, err)
	}
	equalLines(t, env.mustRun(0, "work-queue", "clear-concurrency-limit", "gpu").stdout, "Concurrency limits removed on work queue "+id)
	if r := env.mustRun(0, "work-queue", "inspect", "gpu"); !strings.Contains(r.stdout, "None") {
		t.Fatalf("inspect after clear:\n%s", r.stdout)
	}
	if r := env.mustRun(0, "work-queue", "preview", "gpu"); !strings.Contains(r.stdout, "(**) denotes a late run") {
		t.Fatalf("preview:\n%s", r.stdout)
	}
	r = env.mustRun(1, "work-queue", "set-concurrency-limit", "gpu", "--", "-1")
	if !strings.Contains(r.stderr, "invalid concurrency limit") {
		t.Fatalf("stderr %q", r.stderr)
	}
	equalLines(t, env.mustRun(0, "work-queue", "delete", "gpu").stdout, "Deleted work queue "+id)
	equalLines(t, env.mustRun(1, "work-queue", "inspect", "gpu").stderr, "Error: No work queue found with id gpu")
}

func TestAgentList(t *testing.T) {
	env, c := realEnv(t)
	reg, err := c.Agent.RegisterAgent(context.Background(), &agentv1.RegisterAgentRequest{Name: "worker-7", WorkQueues: []string{"default", "gpu"}, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	r := env.mustRun(0, "agent", "ls")
	out := lines(r.stdout)
	if len(out) != 2 || !strings.HasPrefix(out[0], "NAME") || !strings.Contains(out[0], "LAST HEARTBEAT") {
		t.Fatalf("agent ls:\n%s", r.stdout)
	}
	for _, want := range []string{"worker-7", reg.GetAgentId(), "default,gpu", "0/4"} {
		if !strings.Contains(out[1], want) {
			t.Errorf("row %q lacks %q", out[1], want)
		}
	}
	r = env.mustRun(0, "agent", "ls", "-o", "json")
	var agents []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &agents); err != nil || len(agents) != 1 || agents[0]["name"] != "worker-7" {
		t.Fatalf("json %q: %v", r.stdout, err)
	}
}

func TestFlowRunRetryRefusesUnfinishedRun(t *testing.T) {
	env, c := realEnv(t)
	resp, err := c.FlowRuns.CreateFlowRun(context.Background(), &orionv1.CreateFlowRunRequest{FlowName: "f"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetFlowRun().GetId()
	r := env.mustRun(1, "flow-run", "retry", id)
	if !strings.Contains(r.stderr, "Only a finished run can be retried") {
		t.Fatalf("stderr %q", r.stderr)
	}
	equalLines(t, env.mustRun(1, "flow-run", "retry", "nope").stderr, "Error: Flow run 'nope' not found!")
}
