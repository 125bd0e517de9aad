package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/orion-run/orion/client"
	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/servertest"
)

func TestMetricsEndpoint(t *testing.T) {
	srv := servertest.New(t)
	c, err := client.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run := commandRun(ctx, t, c)
	if resp, err := http.Get(srv.URL() + "/api/health"); err == nil {
		resp.Body.Close()
	}
	scrape := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}

	// An agent connects, is offered the run, claims it and goes away: the
	// claim is timed, the stream counted, and the lease cut short.
	reg, err := c.Agent.RegisterAgent(ctx, &agentv1.RegisterAgentRequest{Name: "m", WorkQueues: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, closeStream := context.WithCancel(ctx)
	stream, err := c.Agent.StreamWork(sctx, &agentv1.StreamWorkRequest{AgentId: reg.GetAgentId()})
	if err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if msg.GetOffer() != nil {
			break
		}
	}
	if text := scrape(); !strings.Contains(text, "orion_agents_connected 1") {
		t.Errorf("/metrics while an agent streams lacks orion_agents_connected 1")
	}
	claim, err := c.Agent.ClaimFlowRun(ctx, &agentv1.ClaimFlowRunRequest{AgentId: reg.GetAgentId(), FlowRunId: run.GetFlowRun().GetId()})
	if err != nil || claim.GetLease() == nil {
		t.Fatalf("claim: %v %v", claim, err)
	}
	closeStream()
	watch, err := c.FlowRuns.WatchFlowRun(ctx, &orionv1.WatchFlowRunRequest{Id: run.GetFlowRun().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for claimed := false; ; {
		msg, err := watch.Recv()
		if err != nil {
			t.Fatalf("waiting for the lease to be cut: %v", err)
		}
		typ := msg.GetFlowRun().GetState().GetType()
		claimed = claimed || typ == orionv1.StateType_STATE_TYPE_PENDING
		if claimed && typ == orionv1.StateType_STATE_TYPE_SCHEDULED {
			break // rescheduled: the lost agent's lease expired
		}
	}

	text := scrape()
	for _, want := range []string{
		"orion_dispatch_latency_seconds_count 1",
		`orion_lease_expiries_total{to_state="scheduled"} 1`,
		"orion_agents_connected 0",
		"orion_scheduler_pass_seconds_count",
		"orion_scheduler_lag_seconds",
		`orion_flow_run_transitions_total{from_state="none",to_state="scheduled"} 1`,
		`orion_flow_runs{state="scheduled"} 1`,
		`grpc_server_handled_total{grpc_code="OK",grpc_method="CreateDeployment",grpc_service="orion.v1.DeploymentService",grpc_type="unary"} 1`,
		`orion_http_requests_total{code="200",method="GET",route="/api/health"} 1`,
		"orion_store_commit_seconds_count",
		"orion_store_size_bytes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestServer_StopsWithASilentConnectionOpen: a client that connected but
// never sent a byte neither blocks a graceful shutdown nor stays open.
func TestServer_StopsWithASilentConnectionOpen(t *testing.T) {
	srv, err := servertest.Start(servertest.Config(t.TempDir()), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A request on a later connection is answered only after the server
	// accepted the earlier one (one accept loop, a FIFO backlog).
	resp, err := http.Get(srv.URL() + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop with a silent connection open: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the silent connection is still served")
	}
}
