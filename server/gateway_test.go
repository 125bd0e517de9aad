package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server"
	"github.com/orion-run/orion/server/servertest"
)

// commandRun creates a deployment running `true` and a run of it.
func commandRun(ctx context.Context, t *testing.T, c *client.Client) *orionv1.CreateDeploymentFlowRunResponse {
	t.Helper()
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: &orionv1.Deployment{
		Name: "d", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: dep.GetDeployment().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestGateway_BodyLimit: an HTTP request body larger than the gRPC message
// limit is refused (413 when its length is announced, 400 when it is
// streamed), and nothing of it is stored.
func TestGateway_BodyLimit(t *testing.T) {
	srv := servertest.New(t)
	big := `{"name":"d","flow_name":"f","flow_kind":"FLOW_KIND_COMMAND","command":["true"],"description":"` +
		strings.Repeat("x", server.MaxMessageSize) + `"}`

	resp, err := http.Post(srv.URL()+"/api/v1/deployments", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	err = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge || e.Code != 8 || !strings.Contains(e.Message, "send at most 16777216 (16 MiB)") {
		t.Fatalf("announced: status %d, body %+v, %v", resp.StatusCode, e, err)
	}

	// The same body with its length unannounced (chunked).
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/v1/deployments", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "request body too large") {
		t.Fatalf("streamed: status %d, body %.200s", resp.StatusCode, body)
	}

	c, err := client.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	list, err := c.Deployments.ListDeployments(context.Background(), &orionv1.ListDeploymentsRequest{})
	if err != nil || len(list.GetDeployments()) != 0 {
		t.Fatalf("stored after refusals: %v, %v", list.GetDeployments(), err)
	}
}

// TestGateway_CallsCountedAsGRPCCalls: an HTTP request runs the gRPC
// server's interceptors, so it is counted in the gRPC metrics like a gRPC
// client's call.
func TestGateway_CallsCountedAsGRPCCalls(t *testing.T) {
	srv := servertest.New(t)
	resp, err := http.Get(srv.URL() + "/api/v1/flow_runs/no-such-run")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `grpc_server_handled_total{grpc_code="NotFound",grpc_method="GetFlowRun",grpc_service="orion.v1.FlowRunService",grpc_type="unary"} 1`
	if !strings.Contains(string(metrics), want) {
		t.Fatalf("metrics lack %s", want)
	}
}

// TestGateway_StopEndsHTTPWatches: a server stopping with an HTTP watch
// open ends the watch once its graceful shutdown gives up, and stops.
func TestGateway_StopEndsHTTPWatches(t *testing.T) {
	srv, err := servertest.Start(servertest.Config(t.TempDir()), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := commandRun(ctx, t, c)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/api/v1/flow_runs/"+run.GetFlowRun().GetId()+"/watch", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(nil, 1<<20)
	if !lines.Scan() || !strings.Contains(lines.Text(), run.GetFlowRun().GetId()) {
		t.Fatalf("first watch line: %q, %v", lines.Text(), lines.Err())
	}

	stopped := make(chan error, 1)
	go func() { stopped <- srv.Stop() }()
	for lines.Scan() { // the watch ends: the server closes the response
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the server did not stop with an HTTP watch open")
	}
}
