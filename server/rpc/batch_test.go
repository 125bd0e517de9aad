package rpc_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/orion-run/orion/client"
	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
)

// TestBatchCalls_EachDecidedAlone checks ClaimFlowRuns and
// ReportFlowRunStates: every call of a batch gets the answer, or the error
// code and message, that it gets on its own, in the order of the request,
// and one call's failure leaves the others' effects in place.
func TestBatchCalls_EachDecidedAlone(t *testing.T) {
	_, c, ctx := setup(t)
	reg, err := c.Agent.RegisterAgent(ctx, &agentv1.RegisterAgentRequest{Name: "a1", WorkQueues: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reg.GetBatchCalls() {
		t.Fatal("RegisterAgentResponse.batch_calls is not set")
	}
	agent := reg.GetAgentId()
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	r1 := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	r2 := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())

	claims, err := c.Agent.ClaimFlowRuns(ctx, &agentv1.ClaimFlowRunsRequest{Claims: []*agentv1.ClaimFlowRunRequest{
		{AgentId: agent, FlowRunId: r1.GetId(), TransitionId: "c1"},
		{AgentId: agent, FlowRunId: "no-such-run", TransitionId: "c2"},
		{AgentId: agent, FlowRunId: r2.GetId(), TransitionId: "c3"},
		{AgentId: agent, FlowRunId: r1.GetId(), TransitionId: "c1"}, // a retry: the first answer
	}})
	if err != nil {
		t.Fatal(err)
	}
	out := claims.GetOutcomes()
	if len(out) != 4 {
		t.Fatalf("%d outcomes for 4 claims", len(out))
	}
	for _, i := range []int{0, 2, 3} {
		resp := out[i].GetResponse()
		if resp.GetResult().GetStatus() != orchestration.Accept || resp.GetLease().GetEpoch() != 1 {
			t.Fatalf("claim %d: %v", i, out[i])
		}
	}
	if out[0].GetResponse().GetFlowRun().GetId() != r1.GetId() || out[2].GetResponse().GetFlowRun().GetId() != r2.GetId() {
		t.Fatalf("outcomes out of the request's order: %v", out)
	}
	if e := out[1].GetError(); codes.Code(e.GetCode()) != codes.NotFound || !strings.Contains(e.GetMessage(), "no-such-run") {
		t.Fatalf("claim of an unknown run: %v", out[1])
	}

	report := func(run string, epoch int64, typ orionv1.StateType, tid string) *agentv1.ReportFlowRunStateRequest {
		return &agentv1.ReportFlowRunStateRequest{AgentId: agent, FlowRunId: run, LeaseEpoch: epoch, State: &orionv1.StateProposal{Type: typ}, TransitionId: tid, OmitFlowRun: true}
	}
	reports, err := c.Agent.ReportFlowRunStates(ctx, &agentv1.ReportFlowRunStatesRequest{Reports: []*agentv1.ReportFlowRunStateRequest{
		report(r1.GetId(), 1, orchestration.Running, "t1"),
		report(r2.GetId(), 2, orchestration.Running, "t2"), // a stale epoch
		{AgentId: agent, FlowRunId: r2.GetId(), LeaseEpoch: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rout := reports.GetOutcomes()
	if len(rout) != 3 {
		t.Fatalf("%d outcomes for 3 reports", len(rout))
	}
	if resp := rout[0].GetResponse(); resp.GetResult().GetStatus() != orchestration.Accept || resp.GetFlowRun() != nil {
		t.Fatalf("report 0: %v", rout[0])
	}
	if e := rout[1].GetError(); codes.Code(e.GetCode()) != codes.Aborted || !strings.Contains(e.GetMessage(), "epoch 2") {
		t.Fatalf("report with a stale epoch: %v", rout[1])
	}
	if e := rout[2].GetError(); codes.Code(e.GetCode()) != codes.InvalidArgument || !strings.Contains(e.GetMessage(), "state") {
		t.Fatalf("report without a state: %v", rout[2])
	}
	for run, want := range map[string]string{r1.GetId(): "Running", r2.GetId(): "Pending"} {
		got, err := c.FlowRuns.GetFlowRun(ctx, &orionv1.GetFlowRunRequest{Id: run})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetFlowRun().GetState().GetName() != want {
			t.Fatalf("run %s is %s, want %s", run, got.GetFlowRun().GetState().GetName(), want)
		}
	}
}

// TestBatchCalls_Bounded checks that a batch over the limit is refused
// whole, with an error naming the field and the limit, and changes nothing.
func TestBatchCalls_Bounded(t *testing.T) {
	_, c, ctx := setup(t)
	agent := register(t, ctx, c, "a1")
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	run := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	claims := make([]*agentv1.ClaimFlowRunRequest, 101)
	reports := make([]*agentv1.ReportFlowRunStateRequest, 101)
	for i := range claims {
		claims[i] = &agentv1.ClaimFlowRunRequest{AgentId: agent, FlowRunId: run.GetId(), TransitionId: fmt.Sprint(i)}
		reports[i] = &agentv1.ReportFlowRunStateRequest{AgentId: agent, FlowRunId: run.GetId(), LeaseEpoch: 1, State: &orionv1.StateProposal{Type: orchestration.Running}}
	}
	_, err = c.Agent.ClaimFlowRuns(ctx, &agentv1.ClaimFlowRunsRequest{Claims: claims})
	if client.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "claims: 101 in one call; send at most 100") {
		t.Fatalf("101 claims: %v", err)
	}
	_, err = c.Agent.ReportFlowRunStates(ctx, &agentv1.ReportFlowRunStatesRequest{Reports: reports})
	if client.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "reports: 101 in one call; send at most 100") {
		t.Fatalf("101 reports: %v", err)
	}
	got, err := c.FlowRuns.GetFlowRun(ctx, &orionv1.GetFlowRunRequest{Id: run.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetFlowRun().GetState().GetName() != "Scheduled" {
		t.Fatalf("a refused batch changed the run: %s", got.GetFlowRun().GetState().GetName())
	}
	resp, err := c.Agent.ClaimFlowRuns(ctx, &agentv1.ClaimFlowRunsRequest{})
	if err != nil || len(resp.GetOutcomes()) != 0 {
		t.Fatalf("an empty batch: %v %v", resp, err)
	}
}
