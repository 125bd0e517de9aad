package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/servertest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRequestID_CarriedIntoLogs: an HTTP caller's X-Request-Id reaches the
// server's log lines for that request (through the gateway) and comes back
// in the response; a gRPC caller's x-request-id metadata likewise; a
// request without one gets a generated id.
func TestRequestID_CarriedIntoLogs(t *testing.T) {
	var logs syncBuffer
	log := hclog.New(&hclog.LoggerOptions{Name: "orion", Level: hclog.Info, Output: &logs, JSONFormat: true})
	srv, err := servertest.Start(servertest.Config(t.TempDir()), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })

	body := `{"name":"d","flow_name":"f","flow_kind":"FLOW_KIND_COMMAND","command":["true"]}`
	req, _ := http.NewRequest("POST", srv.URL()+"/api/v1/deployments", strings.NewReader(body))
	req.Header.Set("X-Request-Id", "http-req-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "http-req-42" {
		t.Fatalf("status %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	if !strings.Contains(logs.String(), `"request_id":"http-req-42"`) {
		t.Fatalf("the HTTP request id is not in the server log:\n%s", logs.String())
	}

	resp, err = http.Get(srv.URL() + "/api/v1/deployments")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-Id"); len(id) != 16 {
		t.Fatalf("generated request id %q", id)
	}

	c := dial(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", "grpc-req-7")
	var header metadata.MD
	if _, err := c.FlowRuns.CreateFlowRun(ctx, &orionv1.CreateFlowRunRequest{FlowName: "f"}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get("x-request-id"); len(got) != 1 || got[0] != "grpc-req-7" {
		t.Fatalf("gRPC response header x-request-id = %v", got)
	}
}
