package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/client"
	"github.com/orion-run/orion/server/validate"
)

// echoBatcher is a batcher whose batches answer each claim with a response
// naming its run, recording the batches' sizes; the first batch waits for
// gate when it is not nil.
type echoBatcher struct {
	mu    sync.Mutex
	sizes []int
	gate  chan struct{}
	b     *batcher[*agentv1.ClaimFlowRunRequest, *agentv1.ClaimFlowRunResponse]
}

func newEchoBatcher(ctx context.Context, gate chan struct{}) *echoBatcher {
	e := &echoBatcher{gate: gate}
	e.b = newBatcher(ctx, func(_ context.Context, reqs []*agentv1.ClaimFlowRunRequest) []result[*agentv1.ClaimFlowRunResponse] {
		e.mu.Lock()
		e.sizes = append(e.sizes, len(reqs))
		first := len(e.sizes) == 1
		e.mu.Unlock()
		if first && e.gate != nil {
			<-e.gate
		}
		out := make([]result[*agentv1.ClaimFlowRunResponse], len(reqs))
		for i, r := range reqs {
			out[i].resp = &agentv1.ClaimFlowRunResponse{FlowRun: &orionv1.FlowRun{Id: r.GetFlowRunId()}}
		}
		return out
	})
	return e
}

func (e *echoBatcher) batchSizes() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.sizes...)
}

// call makes a claim of run and checks that the answer is its own.
func (e *echoBatcher) call(t *testing.T, ctx context.Context, run string) {
	resp, err := e.b.call(ctx, &agentv1.ClaimFlowRunRequest{FlowRunId: run})
	if err != nil || resp.GetFlowRun().GetId() != run {
		t.Errorf("call for %s answered %v, %v", run, resp, err)
	}
}

// TestBatcher_CoalescesWhileInFlight: a call made alone is sent at once;
// the calls made while it is in flight go together in the next batch, and
// each gets its own answer.
func TestBatcher_CoalescesWhileInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		e := newEchoBatcher(t.Context(), gate)
		var wg sync.WaitGroup
		wg.Go(func() { e.call(t, t.Context(), "run-0") })
		synctest.Wait() // the first batch is in flight, held by gate
		for i := 1; i <= 4; i++ {
			wg.Go(func() { e.call(t, t.Context(), fmt.Sprintf("run-%d", i)) })
		}
		synctest.Wait() // all four wait for the first batch
		close(gate)
		wg.Wait()
		e.b.wg.Wait()
		if got := fmt.Sprint(e.batchSizes()); got != "[1 4]" {
			t.Fatalf("batch sizes %s, want [1 4]", got)
		}
		wg.Go(func() { e.call(t, t.Context(), "run-5") })
		wg.Wait()
		if got := fmt.Sprint(e.batchSizes()); got != "[1 4 1]" {
			t.Fatalf("batch sizes %s, want [1 4 1]: an idle batcher sends a call at once", got)
		}
	})
}

// TestBatcher_Bounds: a batch carries at most maxBatchCalls calls and
// maxBatchBytes, and a call bigger than that still goes, alone.
func TestBatcher_Bounds(t *testing.T) {
	if maxBatchCalls != validate.MaxBatchCalls {
		t.Fatalf("maxBatchCalls = %d, the server takes %d", maxBatchCalls, validate.MaxBatchCalls)
	}
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		e := newEchoBatcher(t.Context(), gate)
		var wg sync.WaitGroup
		wg.Go(func() { e.call(t, t.Context(), "first") })
		synctest.Wait()
		for i := range maxBatchCalls + 50 {
			wg.Go(func() { e.call(t, t.Context(), fmt.Sprint(i)) })
		}
		synctest.Wait()
		close(gate)
		wg.Wait()
		if got := fmt.Sprint(e.batchSizes()); got != "[1 100 50]" {
			t.Fatalf("batch sizes %s, want [1 100 50]", got)
		}

		e = newEchoBatcher(t.Context(), make(chan struct{}))
		wg.Go(func() { e.call(t, t.Context(), "first") })
		synctest.Wait()
		big := strings.Repeat("x", maxBatchBytes/2+1) // two do not fit in one batch
		for i := range 3 {
			wg.Go(func() { e.call(t, t.Context(), fmt.Sprint(i)+big) })
		}
		synctest.Wait()
		close(e.gate)
		wg.Wait()
		if got := fmt.Sprint(e.batchSizes()); got != "[1 1 1 1]" {
			t.Fatalf("batch sizes %s, want [1 1 1 1]", got)
		}
	})
}

// TestBatcher_GivenUpCallsAreNotSent: a call whose context ends while it
// waits returns the context's error and is left out of the next batch.
func TestBatcher_GivenUpCallsAreNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		e := newEchoBatcher(t.Context(), gate)
		var wg sync.WaitGroup
		wg.Go(func() { e.call(t, t.Context(), "run-0") })
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		var err error
		wg.Go(func() { _, err = e.b.call(ctx, &agentv1.ClaimFlowRunRequest{FlowRunId: "given-up"}) })
		wg.Go(func() { e.call(t, t.Context(), "run-1") })
		synctest.Wait()
		cancel()
		synctest.Wait()
		if client.Code(err) != codes.Canceled {
			t.Fatalf("a given-up call returned %v, want its context's error", err)
		}
		close(gate)
		wg.Wait()
		if got := fmt.Sprint(e.batchSizes()); got != "[1 1]" {
			t.Fatalf("batch sizes %s, want [1 1]: the given-up call is not sent", got)
		}
	})
}

// TestResults_CallErrors: an error outcome becomes the status error the
// call would have had alone (what the agent's retry rules read); a missing
// or empty outcome is an Internal error, not a nil response.
func TestResults_CallErrors(t *testing.T) {
	outs := []*agentv1.ReportFlowRunStateOutcome{
		{Outcome: &agentv1.ReportFlowRunStateOutcome_Response{Response: &agentv1.ReportFlowRunStateResponse{}}},
		{Outcome: &agentv1.ReportFlowRunStateOutcome_Error{Error: &agentv1.CallError{Code: int32(codes.Aborted), Message: "stale lease"}}},
		{},
	}
	res := results(outs, 4)
	if res[0].err != nil || res[0].resp == nil {
		t.Fatalf("response outcome: %v", res[0])
	}
	if st := status.Convert(res[1].err); st.Code() != codes.Aborted || st.Message() != "stale lease" {
		t.Fatalf("error outcome: %v", res[1].err)
	}
	for _, i := range []int{2, 3} {
		if client.Code(res[i].err) != codes.Internal || res[i].resp != nil {
			t.Fatalf("outcome %d: %v", i, res[i])
		}
	}
}

// TestAgent_BatchedCallsFallBack: whether the server serves batches, does
// not, or stops serving them (an older server started in its place), the
// agent claims, runs and reports alike; only a server that serves batches
// gets any.
func TestAgent_BatchedCallsFallBack(t *testing.T) {
	for _, tc := range []struct {
		name         string
		edit         func(*fake)
		wantBatches  bool
		wantFallback bool
	}{
		{name: "server serves batches", edit: func(*fake) {}, wantBatches: true},
		{name: "server does not", edit: func(f *fake) { f.noBatches = true }},
		{name: "server stopped serving them", edit: func(f *fake) { f.batchesGone = true }, wantFallback: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tc.edit(e.f)
			e.f.addRun("run-1", noopDep(), nil)
			e.f.addRun("run-2", noopDep(), nil)
			s := e.start()
			e.f.offer(t, s, "run-1")
			awaitFinal(t, e.f, "run-1")
			e.f.offer(t, s, "run-2")
			awaitFinal(t, e.f, "run-2")
			e.stop()
			evs := e.f.snapshot()
			for _, id := range []string{"run-1", "run-2"} {
				if got := fmt.Sprint(stateTypes(reports(evs, id))); got != "[STATE_TYPE_RUNNING STATE_TYPE_COMPLETED]" || count(evs, "claim", id) != 1 {
					t.Fatalf("%s: %d claims, reports %s", id, count(evs, "claim", id), got)
				}
			}
			e.f.mu.Lock()
			served := len(e.f.batchSizes["claims"]) + len(e.f.batchSizes["reports"])
			e.f.mu.Unlock()
			if (served > 0) != tc.wantBatches {
				t.Fatalf("%d batches served, want some: %v", served, tc.wantBatches)
			}
			if e.agent.calls.unbatched() != tc.wantFallback {
				t.Fatalf("agent fell back to single calls: %v, want %v", e.agent.calls.unbatched(), tc.wantFallback)
			}
		})
	}
}

// TestAgent_BatchesAgainAfterReregistering: the fall-back to single calls
// lasts for one registration. When the server that answered UNIMPLEMENTED
// is replaced by one that serves batches again (a restart: it forgets the
// agent, which registers again), the agent batches again.
func TestAgent_BatchesAgainAfterReregistering(t *testing.T) {
	e := newEnv(t, nil)
	e.f.batchesGone = true
	for _, id := range []string{"run-1", "run-2"} {
		e.f.addRun(id, noopDep(), nil)
	}
	s := e.start()
	e.f.offer(t, s, "run-1")
	awaitFinal(t, e.f, "run-1")
	if !e.agent.calls.unbatched() {
		t.Fatal("the agent did not fall back to single calls")
	}

	e.f.mu.Lock()
	e.f.batchesGone = false
	e.f.mu.Unlock()
	e.f.forgetAgents()
	s.kill <- errNotFound
	s = e.f.nextStream(t)
	e.f.offer(t, s, "run-2")
	awaitFinal(t, e.f, "run-2")
	e.stop()

	if e.agent.calls.unbatched() {
		t.Fatal("the agent still makes single calls after registering with a server that serves batches")
	}
	e.f.mu.Lock()
	served := len(e.f.batchSizes["claims"]) + len(e.f.batchSizes["reports"])
	e.f.mu.Unlock()
	if served == 0 {
		t.Fatal("no batch was served after the agent registered again")
	}
	if got := fmt.Sprint(stateTypes(reports(e.f.snapshot(), "run-2"))); got != "[STATE_TYPE_RUNNING STATE_TYPE_COMPLETED]" {
		t.Fatalf("run-2 reports %s", got)
	}
}
