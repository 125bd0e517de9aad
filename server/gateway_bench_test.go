package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/servertest"
)

// benchServer starts an in-process server holding one run (of a
// deployment, with parameters and tags, due in an hour) and returns it
// with a client and the run's id.
func benchServer(b *testing.B) (*servertest.Server, *client.Client, string) {
	b.Helper()
	srv := servertest.New(b)
	c, err := client.Dial(srv.URL(), client.WithToken(""))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: &orionv1.Deployment{
		Name: "d", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, Tags: []string{"bench"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	params, _ := structpb.NewStruct(map[string]any{"name": "bench", "count": 3})
	run, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{
		DeploymentId: dep.GetDeployment().GetId(), Parameters: params, ScheduledTime: timestamppb.New(time.Now().Add(time.Hour)),
	})
	if err != nil {
		b.Fatal(err)
	}
	return srv, c, run.GetFlowRun().GetId()
}

// BenchmarkGateway_GetFlowRun measures a GetFlowRun point read through a
// real in-process server over loopback: as HTTP/JSON through the gateway
// (GET /api/v1/flow_runs/{id}, which the gateway forwards over gRPC), and
// as gRPC directly. The difference is the gateway's round trip: HTTP
// parsing, the inner gRPC call and the JSON encoding. The parallel cases
// keep GOMAXPROCS×4 requests in flight.
func BenchmarkGateway_GetFlowRun(b *testing.B) {
	srv, c, id := benchServer(b)
	url := srv.URL() + "/api/v1/flow_runs/" + id
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	// Close the client's connections before the server stops: a connection
	// that never sent a byte (the transport dials spares) holds up the
	// server's shutdown, as cmux waits for it to be matched.
	b.Cleanup(hc.CloseIdleConnections)
	get := func() error {
		resp, err := hc.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
	grpcGet := func() error {
		_, err := c.FlowRuns.GetFlowRun(context.Background(), &orionv1.GetFlowRunRequest{Id: id})
		return err
	}
	for _, bc := range []struct {
		name string
		op   func() error
	}{{"http_json", get}, {"grpc", grpcGet}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"_parallel", func(b *testing.B) {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := bc.op(); err != nil {
						b.Error(err) // Fatal is for the benchmark's own goroutine
						return
					}
				}
			})
		})
	}
}
