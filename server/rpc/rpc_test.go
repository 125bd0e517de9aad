package rpc_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/orion-run/orion/client"
	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/servertest"
)

func setup(t *testing.T) (*servertest.Server, *client.Client, context.Context) {
	t.Helper()
	srv := servertest.New(t)
	c, err := client.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return srv, c, ctx
}

func commandDeployment(name string) *orionv1.Deployment {
	schema, _ := structpb.NewStruct(map[string]any{
		"type":                 "object",
		"properties":           map[string]any{"name": map[string]any{"default": "world"}},
		"additionalProperties": false,
	})
	return &orionv1.Deployment{
		Name: name, FlowName: "greeter", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND,
		Command: []string{"echo", "hi"}, ParameterSchema: schema,
	}
}

func mustCreateRun(t *testing.T, ctx context.Context, c *client.Client, depID string) *orionv1.FlowRun {
	t.Helper()
	resp, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: depID})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetFlowRun()
}

func register(t *testing.T, ctx context.Context, c *client.Client, name string) string {
	t.Helper()
	resp, err := c.Agent.RegisterAgent(ctx, &agentv1.RegisterAgentRequest{Name: name, WorkQueues: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetAgentId()
}

func TestDeployment_UpsertKeepsID(t *testing.T) {
	_, c, ctx := setup(t)
	first, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("daily")})
	if err != nil || !first.GetCreated() {
		t.Fatalf("create: %v %v", first, err)
	}
	d := commandDeployment("daily")
	d.Tags = []string{"v2"}
	second, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: d})
	if err != nil || second.GetCreated() {
		t.Fatalf("update: %v %v", second, err)
	}
	if first.GetDeployment().GetId() != second.GetDeployment().GetId() || second.GetDeployment().GetTags()[0] != "v2" {
		t.Fatalf("upsert changed the id or lost the update: %v vs %v", first.GetDeployment(), second.GetDeployment())
	}
	got, err := c.Deployments.GetDeploymentByName(ctx, &orionv1.GetDeploymentByNameRequest{FlowName: "greeter", DeploymentName: "daily"})
	if err != nil || got.GetDeployment().GetWorkQueueName() != "default" {
		t.Fatalf("by name: %v %v", got, err)
	}
}

func TestDeployment_InvalidInput(t *testing.T) {
	_, c, ctx := setup(t)
	cases := map[string]*orionv1.Deployment{
		"bad name":       {Name: "a/b", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}},
		"no command":     {Name: "x", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND},
		"bad cron":       {Name: "x", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "61 * * * *"}}}},
		"bad timezone":   {Name: "x", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "0 9 * * *", Timezone: "Mars/Olympus"}}}},
		"no source push": {Name: "x", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_PYTHON, FlowLocation: "/x.py", PushToServer: true},
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: d})
			if client.Code(err) != codes.InvalidArgument {
				t.Fatalf("code = %v (%v)", client.Code(err), err)
			}
		})
	}
	list, err := c.Deployments.ListDeployments(ctx, &orionv1.ListDeploymentsRequest{})
	if err != nil || len(list.GetDeployments()) != 0 {
		t.Fatalf("rejected input was stored: %v %v", list, err)
	}
}

func TestCreateRun_ValidatesParameters(t *testing.T) {
	_, c, ctx := setup(t)
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	params, _ := structpb.NewStruct(map[string]any{"nme": "x"})
	_, err = c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: dep.GetDeployment().GetId(), Parameters: params})
	if client.Code(err) != codes.InvalidArgument || !strings.Contains(client.Message(err), "nme") {
		t.Fatalf("err = %v", err)
	}
	params, _ = structpb.NewStruct(map[string]any{"name": "Marvin"})
	run, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: dep.GetDeployment().GetId(), Parameters: params, IdempotencyKey: "k1"})
	if err != nil || run.GetFlowRun().GetState().GetType() != orchestration.Scheduled || run.GetFlowRun().GetName() == "" {
		t.Fatalf("run: %v %v", run, err)
	}
	again, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: dep.GetDeployment().GetId(), IdempotencyKey: "k1"})
	if err != nil || again.GetCreated() || again.GetFlowRun().GetId() != run.GetFlowRun().GetId() {
		t.Fatalf("idempotency key created a second run: %v %v", again, err)
	}
}

// TestClaim_OnlyOneAgentWins races many agents for one run.
func TestClaim_OnlyOneAgentWins(t *testing.T) {
	_, c, ctx := setup(t)
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	run := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	const agents = 8
	ids := make([]string, agents)
	for i := range ids {
		ids[i] = register(t, ctx, c, "agent")
	}
	var wg sync.WaitGroup
	results := make([]*agentv1.ClaimFlowRunResponse, agents)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Agent.ClaimFlowRun(ctx, &agentv1.ClaimFlowRunRequest{AgentId: ids[i], FlowRunId: run.GetId()})
			if err != nil {
				t.Error(err)
			}
			results[i] = resp
		}()
	}
	wg.Wait()
	winners := 0
	for _, r := range results {
		if r.GetResult().GetStatus() == orchestration.Accept {
			winners++
			if r.GetLease().GetEpoch() != 1 || r.GetDeployment().GetCommand()[0] != "echo" {
				t.Fatalf("winner response: %v", r)
			}
		} else if r.GetResult().GetStatus() != orchestration.Abort {
			t.Fatalf("loser got %v", r.GetResult().GetStatus())
		}
	}
	if winners != 1 {
		t.Fatalf("%d agents claimed the run", winners)
	}
}

func TestReport_FencesStaleEpochsAndIsIdempotent(t *testing.T) {
	_, c, ctx := setup(t)
	dep, _ := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	run := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	agent := register(t, ctx, c, "a1")
	claim, err := c.Agent.ClaimFlowRun(ctx, &agentv1.ClaimFlowRunRequest{AgentId: agent, FlowRunId: run.GetId()})
	if err != nil || claim.GetResult().GetStatus() != orchestration.Accept {
		t.Fatalf("claim: %v %v", claim, err)
	}
	epoch := claim.GetLease().GetEpoch()
	_, err = c.Agent.ReportFlowRunState(ctx, &agentv1.ReportFlowRunStateRequest{AgentId: agent, FlowRunId: run.GetId(), LeaseEpoch: epoch + 1, State: &orionv1.StateProposal{Type: orchestration.Running}})
	if client.Code(err) != codes.Aborted {
		t.Fatalf("stale epoch: %v", err)
	}
	report := func(typ orionv1.StateType, tid string) *agentv1.ReportFlowRunStateResponse {
		resp, err := c.Agent.ReportFlowRunState(ctx, &agentv1.ReportFlowRunStateRequest{AgentId: agent, FlowRunId: run.GetId(), LeaseEpoch: epoch, State: &orionv1.StateProposal{Type: typ}, TransitionId: tid, InfrastructurePid: "123"})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := report(orchestration.Running, "t-run"); r.GetResult().GetStatus() != orchestration.Accept || r.GetFlowRun().GetInfrastructurePid() != "123" {
		t.Fatalf("running: %v", r)
	}
	if r := report(orchestration.Running, "t-run"); r.GetResult().GetStatus() != orchestration.Accept || r.GetFlowRun().GetRunCount() != 1 {
		t.Fatalf("a repeated transition id must return the first answer without applying twice: %v", r)
	}
	if r := report(orchestration.Completed, "t-done"); r.GetResult().GetStatus() != orchestration.Accept {
		t.Fatalf("completed: %v", r)
	}
	_, err = c.Agent.ReportFlowRunState(ctx, &agentv1.ReportFlowRunStateRequest{AgentId: agent, FlowRunId: run.GetId(), LeaseEpoch: epoch, State: &orionv1.StateProposal{Type: orchestration.Running}})
	if client.Code(err) != codes.Aborted {
		t.Fatalf("a finished run is no longer held: %v", err)
	}
	states, err := c.FlowRuns.ListFlowRunStates(ctx, &orionv1.ListFlowRunStatesRequest{FlowRunId: run.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range states.GetStates() {
		names = append(names, s.GetName())
	}
	if got := strings.Join(names, ","); got != "Scheduled,Pending,Running,Completed" {
		t.Fatalf("history = %s", got)
	}
}

// TestStreamWork_OffersDueRunsAtOnce checks push dispatch: a run created
// while an agent is connected is offered without any polling.
func TestStreamWork_OffersDueRunsAtOnce(t *testing.T) {
	_, c, ctx := setup(t)
	dep, _ := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	agent := register(t, ctx, c, "a1")
	stream, err := c.Agent.StreamWork(ctx, &agentv1.StreamWorkRequest{AgentId: agent})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	run := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	for {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if o := msg.GetOffer(); o != nil {
			if o.GetFlowRun().GetId() != run.GetId() {
				t.Fatalf("offered %s, want %s", o.GetFlowRun().GetId(), run.GetId())
			}
			return
		}
	}
}

// TestLeaseExpiry_ReschedulesPendingRun claims a run and never heartbeats:
// the run must go back to SCHEDULED when the lease (3s in tests) expires.
func TestLeaseExpiry_ReschedulesPendingRun(t *testing.T) {
	_, c, ctx := setup(t)
	dep, _ := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	run := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	agent := register(t, ctx, c, "a1")
	if _, err := c.Agent.ClaimFlowRun(ctx, &agentv1.ClaimFlowRunRequest{AgentId: agent, FlowRunId: run.GetId()}); err != nil {
		t.Fatal(err)
	}
	watch, err := c.FlowRuns.WatchFlowRun(ctx, &orionv1.WatchFlowRunRequest{Id: run.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := watch.Recv()
		if err != nil {
			t.Fatalf("watch ended before the lease expired: %v", err)
		}
		r := msg.GetFlowRun()
		if r.GetState().GetType() == orchestration.Scheduled && r.GetDeliveryCount() == 1 {
			if !strings.Contains(r.GetState().GetMessage(), "lost its lease") {
				t.Fatalf("message = %q", r.GetState().GetMessage())
			}
			return
		}
	}
}

func TestCancel(t *testing.T) {
	_, c, ctx := setup(t)
	dep, _ := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	run := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	resp, err := c.FlowRuns.CancelFlowRun(ctx, &orionv1.CancelFlowRunRequest{Id: run.GetId()})
	if err != nil || resp.GetFlowRun().GetState().GetType() != orchestration.Cancelled {
		t.Fatalf("cancel scheduled: %v %v", resp, err)
	}
	_, err = c.FlowRuns.CancelFlowRun(ctx, &orionv1.CancelFlowRunRequest{Id: run.GetId()})
	if client.Code(err) != codes.FailedPrecondition {
		t.Fatalf("cancel terminal: %v", err)
	}
}

func TestHTTPGateway_StatusCodes(t *testing.T) {
	srv, _, _ := setup(t)
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/health"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("health: %d %s", code, body)
	}
	if code, body := get("/api/openapi.json"); code != 200 || !strings.Contains(body, `"/api/v1/deployments/name/{flow_name}/{deployment_name}"`) {
		t.Fatalf("openapi: %d %.200s", code, body)
	}
	if code, body := get("/api/v1/deployments/00000000-0000-0000-0000-000000000000"); code != 404 || !strings.Contains(body, "not found") {
		t.Fatalf("missing deployment: %d %s", code, body)
	}
	if code, body := get("/api/v1/flow_runs?page_size=-1"); code != 400 || !strings.Contains(body, "page_size") {
		t.Fatalf("bad page size: %d %s", code, body)
	}
	resp, err := http.Post(srv.URL()+"/api/v1/flows", "application/json", strings.NewReader(`{"name":"from-http"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"created":true`) || !strings.Contains(string(b), `"create_time"`) {
		t.Fatalf("create flow over HTTP: %d %s", resp.StatusCode, b)
	}
}
