package rpc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
)

// postJSON posts body to the HTTP API and decodes the JSON answer.
func postJSON(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return resp.StatusCode, out
}

func stateOf(out map[string]any) (typ, name string) {
	s, _ := out["flow_run"].(map[string]any)["state"].(map[string]any)
	typ, _ = s["type"].(string)
	name, _ = s["name"].(string)
	return typ, name
}

// Cancel and manual retry through the HTTP API: a running run goes
// CANCELLING (its agent reports CANCELLED), then POST .../retry sends the
// finished run back to SCHEDULED as AwaitingRetry; a repeated retry with the
// same transition id returns the first answer.
func TestHTTPCancelAndRetry(t *testing.T) {
	srv, c, ctx := setup(t)
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	run := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	agent := register(t, ctx, c, "worker-1")
	claim, err := c.Agent.ClaimFlowRun(ctx, &agentv1.ClaimFlowRunRequest{AgentId: agent, FlowRunId: run.GetId()})
	if err != nil || claim.GetResult().GetStatus() != orchestration.Accept {
		t.Fatalf("claim: %v %v", claim, err)
	}
	epoch := claim.GetLease().GetEpoch()
	if _, err := c.Agent.ReportFlowRunState(ctx, &agentv1.ReportFlowRunStateRequest{AgentId: agent, FlowRunId: run.GetId(), LeaseEpoch: epoch,
		State: &orionv1.StateProposal{Type: orchestration.Running}, InfrastructurePid: "123"}); err != nil {
		t.Fatal(err)
	}

	base := srv.URL() + "/api/v1/flow_runs/" + run.GetId()
	code, out := postJSON(t, base+"/cancel", `{"message":"stop"}`)
	if typ, _ := stateOf(out); code != 200 || typ != "STATE_TYPE_CANCELLING" {
		t.Fatalf("cancel: %d %v", code, out)
	}
	hb, err := c.Agent.Heartbeat(ctx, &agentv1.HeartbeatRequest{AgentId: agent, Runs: []*agentv1.HeldRun{{FlowRunId: run.GetId(), LeaseEpoch: epoch}}})
	if err != nil || len(hb.GetCancels()) != 1 {
		t.Fatalf("the heartbeat must repeat the cancel: %v %v", hb, err)
	}
	if _, err := c.Agent.ReportFlowRunState(ctx, &agentv1.ReportFlowRunStateRequest{AgentId: agent, FlowRunId: run.GetId(), LeaseEpoch: epoch,
		State: &orionv1.StateProposal{Type: orchestration.Cancelled}}); err != nil {
		t.Fatal(err)
	}

	code, out = postJSON(t, base+"/retry", `{"transition_id":"t-1"}`)
	if typ, name := stateOf(out); code != 200 || typ != "STATE_TYPE_SCHEDULED" || name != orchestration.NameAwaitingRetry {
		t.Fatalf("retry: %d %v", code, out)
	}
	if status := out["result"].(map[string]any)["status"]; status != "ORCHESTRATION_STATUS_ACCEPT" {
		t.Fatalf("retry status %v", status)
	}
	code, out = postJSON(t, base+"/retry", `{"transition_id":"t-1"}`)
	if status := out["result"].(map[string]any)["status"]; code != 200 || status != "ORCHESTRATION_STATUS_ACCEPT" {
		t.Fatalf("a repeated retry must return the first answer: %d %v", code, out)
	}
	code, out = postJSON(t, base+"/retry", `{}`)
	if status := out["result"].(map[string]any)["status"]; code != 200 || status != "ORCHESTRATION_STATUS_ABORT" {
		t.Fatalf("retrying a scheduled run must ABORT: %d %v", code, out)
	}
	// The retried run is claimable again, at a new epoch.
	claim, err = c.Agent.ClaimFlowRun(ctx, &agentv1.ClaimFlowRunRequest{AgentId: agent, FlowRunId: run.GetId()})
	if err != nil || claim.GetResult().GetStatus() != orchestration.Accept || claim.GetLease().GetEpoch() <= epoch {
		t.Fatalf("claim after retry: %v %v", claim, err)
	}
}
