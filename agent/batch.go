package agent

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"

	"github.com/orion-run/orion/client"
)

// Bounds of one batched call: the server takes at most 100 calls
// (validate.MaxBatchCalls), and the bytes stay well inside the gRPC message
// limit (a report carries at most 1 MB of log lines).
const (
	maxBatchCalls = 100
	maxBatchBytes = 4 << 20
)

// calls makes the agent's claims and reports. When the server serves
// batches (RegisterAgentResponse.batch_calls), the calls of one kind made
// while an earlier batch is in flight go together in the next
// ClaimFlowRuns or ReportFlowRunStates. Otherwise, or once the server
// answered a batch UNIMPLEMENTED (an older server was started in its
// place), each call goes on its own until the agent registers again. Either
// way a caller gets the answer or the error its own call would have had.
type calls struct {
	agent agentv1.AgentServiceClient
	// batches reports whether the server of the current registration said
	// it serves batches, and that registration's number (from 1).
	batches func() (bool, uint64)
	// unbatchedIn is the registration in which a batch was answered
	// UNIMPLEMENTED (0: none was). A later registration, with a server that
	// says it serves batches, batches again.
	unbatchedIn atomic.Uint64
	claims      *batcher[*agentv1.ClaimFlowRunRequest, *agentv1.ClaimFlowRunResponse]
	reports     *batcher[*agentv1.ReportFlowRunStateRequest, *agentv1.ReportFlowRunStateResponse]
}

// newCalls returns the calls of an agent; base is the context of batched
// calls (the agent's life).
func newCalls(base context.Context, agent agentv1.AgentServiceClient, batches func() (bool, uint64)) *calls {
	c := &calls{agent: agent, batches: batches}
	c.claims = newBatcher(base, func(ctx context.Context, reqs []*agentv1.ClaimFlowRunRequest) []result[*agentv1.ClaimFlowRunResponse] {
		resp, err := agent.ClaimFlowRuns(ctx, &agentv1.ClaimFlowRunsRequest{Claims: reqs})
		if err != nil {
			return failed(ctx, c, err, reqs, agent.ClaimFlowRun)
		}
		return results(resp.GetOutcomes(), len(reqs))
	})
	c.reports = newBatcher(base, func(ctx context.Context, reqs []*agentv1.ReportFlowRunStateRequest) []result[*agentv1.ReportFlowRunStateResponse] {
		resp, err := agent.ReportFlowRunStates(ctx, &agentv1.ReportFlowRunStatesRequest{Reports: reqs})
		if err != nil {
			return failed(ctx, c, err, reqs, agent.ReportFlowRunState)
		}
		return results(resp.GetOutcomes(), len(reqs))
	})
	return c
}

func (c *calls) batched() bool {
	ok, registration := c.batches()
	return ok && c.unbatchedIn.Load() != registration
}

// unbatched reports whether batching stopped in the current registration.
func (c *calls) unbatched() bool {
	_, registration := c.batches()
	return c.unbatchedIn.Load() == registration
}

func (c *calls) claim(ctx context.Context, req *agentv1.ClaimFlowRunRequest) (*agentv1.ClaimFlowRunResponse, error) {
	if !c.batched() {
		return c.agent.ClaimFlowRun(ctx, req)
	}
	return c.claims.call(ctx, req)
}

func (c *calls) report(ctx context.Context, req *agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error) {
	if !c.batched() {
		return c.agent.ReportFlowRunState(ctx, req)
	}
	return c.reports.call(ctx, req)
}

// wait returns once no batch is in flight. No call may start meanwhile.
func (c *calls) wait() {
	c.claims.wg.Wait()
	c.reports.wg.Wait()
}

// failed answers the calls of a batch that failed as a whole. When the
// server does not serve batches, batching stops for the current
// registration and each call is made on its own; otherwise each has the
// batch's error.
func failed[Req, Resp any](ctx context.Context, c *calls, err error, reqs []Req, one func(context.Context, Req, ...grpc.CallOption) (Resp, error)) []result[Resp] {
	out := make([]result[Resp], len(reqs))
	if client.Code(err) != codes.Unimplemented {
		for i := range out {
			out[i].err = err
		}
		return out
	}
	_, registration := c.batches()
	c.unbatchedIn.Store(registration)
	for i, req := range reqs {
		out[i].resp, out[i].err = one(ctx, req)
	}
	return out
}

// batchOutcome is one answer of a batch (ClaimFlowRunOutcome,
// ReportFlowRunStateOutcome).
type batchOutcome[Resp comparable] interface {
	GetResponse() Resp
	GetError() *agentv1.CallError
}

// results turns a batch's outcomes into the results of its n calls: an
// error outcome becomes the status error the call would have failed with,
// and a missing or empty outcome an Internal error.
func results[Resp comparable, O batchOutcome[Resp]](outs []O, n int) []result[Resp] {
	out := make([]result[Resp], n)
	var none Resp
	for i := range out {
		switch {
		case i >= len(outs):
			out[i].err = status.Errorf(codes.Internal, "the server answered %d of the %d calls of a batch", len(outs), n)
		case outs[i].GetError() != nil:
			e := outs[i].GetError()
			out[i].err = status.Error(codes.Code(e.GetCode()), e.GetMessage())
		case outs[i].GetResponse() == none:
			out[i].err = status.Error(codes.Internal, "the server answered a call of a batch with neither a response nor an error")
		default:
			out[i].resp = outs[i].GetResponse()
		}
	}
	return out
}

// result is the answer to one call.
type result[Resp any] struct {
	resp Resp
	err  error
}

// batcher merges calls of one kind into batches, as the server's writer
// group-commits: a call made while no batch is in flight is sent at once;
// calls made while one is wait, and the next batch carries them all (up to
// maxBatchCalls and maxBatchBytes). So one agent has at most one batch of
// each kind in flight, and an idle agent's call waits for nothing.
type batcher[Req proto.Message, Resp any] struct {
	base context.Context
	send func(ctx context.Context, reqs []Req) []result[Resp] // one per request
	wg   sync.WaitGroup                                       // the flush goroutine

	mu    sync.Mutex
	queue []*queuedCall[Req, Resp]
	busy  bool // a flush goroutine is running
}

type queuedCall[Req, Resp any] struct {
	req  Req
	size int
	res  result[Resp]
	done chan struct{} // closed once res is set
}

func newBatcher[Req proto.Message, Resp any](base context.Context, send func(context.Context, []Req) []result[Resp]) *batcher[Req, Resp] {
	return &batcher[Req, Resp]{base: base, send: send}
}

// call queues req and waits for its answer. When ctx ends first, a call
// still queued is dropped; one already sent may still be decided (as a
// unary call that timed out may).
func (b *batcher[Req, Resp]) call(ctx context.Context, req Req) (Resp, error) {
	q := &queuedCall[Req, Resp]{req: req, size: proto.Size(req), done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, q)
	if !b.busy {
		b.busy = true
		b.wg.Go(b.flush)
	}
	b.mu.Unlock()
	select {
	case <-q.done:
		return q.res.resp, q.res.err
	case <-ctx.Done():
		b.mu.Lock()
		if i := slices.Index(b.queue, q); i >= 0 {
			b.queue = slices.Delete(b.queue, i, i+1)
		}
		b.mu.Unlock()
		var none Resp
		return none, ctx.Err()
	}
}

// flush sends batches until the queue is empty.
func (b *batcher[Req, Resp]) flush() {
	for {
		b.mu.Lock()
		batch := b.takeLocked()
		if len(batch) == 0 {
			b.busy = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		reqs := make([]Req, len(batch))
		for i, q := range batch {
			reqs[i] = q.req
		}
		ctx, cancel := context.WithTimeout(b.base, rpcTimeout)
		res := b.send(ctx, reqs)
		cancel()
		for i, q := range batch {
			q.res = res[i]
			close(q.done)
		}
	}
}

// takeLocked removes the next batch from the queue: the calls that fit
// in maxBatchCalls and maxBatchBytes, and at least one.
func (b *batcher[Req, Resp]) takeLocked() []*queuedCall[Req, Resp] {
	n, size := 0, 0
	for n < len(b.queue) && n < maxBatchCalls && (n == 0 || size+b.queue[n].size <= maxBatchBytes) {
		size += b.queue[n].size
		n++
	}
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	return batch
}
