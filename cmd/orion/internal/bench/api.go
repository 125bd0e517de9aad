package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// apiSeedRuns is how many runs the point reads pick from.
const apiSeedRuns = 1000

// runAPI measures point reads (GetFlowRun) over gRPC and over HTTP/JSON at
// readConcurrency in flight, then CreateFlowRun over gRPC at
// writeConcurrency in flight, each for Duration after a short warm-up, on
// a server without agents. The runs are scheduled an hour ahead so neither
// the dispatcher nor an agent has anything to do with them: the figures are
// the API's and the store's.
func runAPI(ctx context.Context, e *env, r *Result) error {
	cl, err := e.newCluster(ctx, 0)
	if err != nil {
		return err
	}
	defer cl.close()
	dep, err := cl.deployment(ctx, "api", "noop")
	if err != nil {
		return err
	}
	later := timestamppb.New(time.Now().Add(time.Hour))
	params, _ := structpb.NewStruct(map[string]any{"name": "bench", "count": 3})
	create := &orionv1.CreateFlowRunRequest{
		DeploymentId: dep.GetId(), Parameters: params, Tags: []string{"api"},
		State: &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_SCHEDULED, ScheduledTime: later},
	}
	ids := make([]string, apiSeedRuns)
	err = parallel(ctx, writeConcurrency, apiSeedRuns, func(ctx context.Context, i int) error {
		resp, err := cl.c.FlowRuns.CreateFlowRun(ctx, create)
		ids[i] = resp.GetFlowRun().GetId()
		return err
	})
	if err != nil {
		return fmt.Errorf("seed runs: %w", err)
	}
	warmup := min(time.Second, e.opts.Duration/10)

	// As over HTTP, the response is received in full but not decoded:
	// decoding is the client's business, and the load generator shares
	// the cores with the server it measures.
	raw := grpc.ForceCodecV2(undecoded{})
	res, err := closedLoop(ctx, cl.server, readConcurrency, warmup, e.opts.Duration, func(ctx context.Context, _ int, seq int64) error {
		var resp received
		err := cl.c.Conn().Invoke(ctx, orionv1.FlowRunService_GetFlowRun_FullMethodName, &orionv1.GetFlowRunRequest{Id: ids[seq%apiSeedRuns]}, &resp, raw)
		switch {
		case err != nil:
			return fmt.Errorf("gRPC GetFlowRun: %w", err)
		case resp.n == 0:
			return errors.New("gRPC GetFlowRun: empty response")
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.APIReadRPSGRPC, r.APIReadP99MsGRPC, r.APIReadCPUUsGRPC = ptr(res.rps()), ptr(p99(res.latencies)), res.cpuPerOp()

	hc := httpClient(readConcurrency)
	res, err = closedLoop(ctx, cl.server, readConcurrency, warmup, e.opts.Duration, func(ctx context.Context, _ int, seq int64) error {
		return httpGet(ctx, hc, cl.url+"/api/v1/flow_runs/"+ids[seq%apiSeedRuns])
	})
	hc.CloseIdleConnections()
	if err != nil {
		return err
	}
	r.APIReadRPSHTTP, r.APIReadP99MsHTTP, r.APIReadCPUUsHTTP = ptr(res.rps()), ptr(p99(res.latencies)), res.cpuPerOp()

	res, err = closedLoop(ctx, cl.server, writeConcurrency, warmup, e.opts.Duration, func(ctx context.Context, _ int, _ int64) error {
		if _, err := cl.c.FlowRuns.CreateFlowRun(ctx, create); err != nil {
			return fmt.Errorf("gRPC CreateFlowRun: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.APIWriteRPSGRPC, r.APIWriteP99MsGRPC, r.APIWriteCPUUsGRPC = ptr(res.rps()), ptr(p99(res.latencies)), res.cpuPerOp()
	return nil
}

// undecoded is a gRPC codec that encodes requests as protobuf and receives
// responses into a received, without decoding them.
type undecoded struct{}

// received is the size of a response received by undecoded.
type received struct{ n int }

func (undecoded) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (undecoded) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*received).n = data.Len()
	return nil
}

func (undecoded) Name() string { return "proto" }

// httpGet fetches url and fails unless it answers 200; the body is read
// (and decoding it is the client's business, so it is discarded).
func httpGet(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// p99 is the 99th percentile of samples in milliseconds.
func p99(samples []time.Duration) float64 {
	slices.Sort(samples)
	return ms(quantile(samples, 0.99))
}
