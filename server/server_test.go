package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orion-run/orion/client"
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
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: &orionv1.Deployment{
		Name: "d", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: dep.GetDeployment().GetId()}); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(srv.URL() + "/api/health"); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := string(body)
	for _, want := range []string{
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
