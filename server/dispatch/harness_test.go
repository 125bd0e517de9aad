package dispatch

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/runs"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// tester is what the harness needs from *testing.T or *rapid.T.
type tester interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// fakeClock is a settable clock shared by the store and the dispatcher.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is a dispatcher over a real bbolt store in t.TempDir, driven by a
// fake clock: tests call pass directly instead of running the loop.
type harness struct {
	t     tester
	clock *fakeClock
	path  string
	st    *bolt.Store
	d     *Dispatcher
	cfg   Config
	real  bool // use time.Now instead of the fake clock
}

func newHarness(t testing.TB, cfg Config) *harness {
	return startHarness(t, cfg, false)
}

// newRealHarness is a harness on the real clock, for the few tests that
// measure the running loop.
func newRealHarness(t testing.TB, cfg Config) *harness {
	return startHarness(t, cfg, true)
}

func startHarness(t testing.TB, cfg Config, real bool) *harness {
	t.Helper()
	h := openHarness(t, filepath.Join(t.TempDir(), "orion.db"), cfg, real)
	t.Cleanup(h.close)
	return h
}

// openHarness opens a harness on a store file; the caller closes it.
func openHarness(t tester, path string, cfg Config, real bool) *harness {
	h := &harness{t: t, clock: &fakeClock{now: t0}, path: path, cfg: cfg, real: real}
	h.open()
	return h
}

func (h *harness) close() { h.d.Close(); h.st.Close() }

// open (re)opens the store and builds a fresh dispatcher: a server restart.
func (h *harness) open() {
	h.t.Helper()
	clock := h.clock.Now
	if h.real {
		clock = time.Now
	}
	st, err := bolt.Open(h.path, bolt.Options{Clock: clock, NoSync: true})
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := h.cfg
	cfg.Clock = clock
	h.st, h.d = st, New(st, cfg)
}

// restart closes the store and dispatcher and opens new ones on the file.
func (h *harness) restart() {
	h.close()
	h.open()
}

func (h *harness) update(fn func(tx store.Tx) error) {
	h.t.Helper()
	if err := h.st.Update(context.Background(), fn); err != nil {
		h.t.Fatal(err)
	}
}

// deployment stores a deployment of flow "f" on queue with an optional
// concurrency limit and retry policy.
func (h *harness) deployment(name, queue string, limit *int32, retries int32) *orionv1.Deployment {
	d := &orionv1.Deployment{Id: uuid.NewString(), FlowName: "f", Name: name, WorkQueueName: queue, ConcurrencyLimit: limit,
		Retries: retries, RetryDelay: durationpb.New(0)}
	h.update(func(tx store.Tx) error {
		if _, _, err := deployments.EnsureFlow(tx, "f", nil); err != nil {
			return err
		}
		if _, err := deployments.EnsureWorkQueue(tx, queue); err != nil {
			return err
		}
		return tx.PutDeployment(d)
	})
	return d
}

// run creates a SCHEDULED run of dep due at at.
func (h *harness) run(dep *orionv1.Deployment, at time.Time, tags ...string) string {
	var id string
	h.update(func(tx store.Tx) error {
		flow, err := tx.FlowByName("f")
		if err != nil {
			return err
		}
		r, _, err := runs.Create(tx, runs.Request{Flow: flow, Deployment: dep, Tags: tags, ScheduledTime: timestamppb.New(at)})
		id = r.GetId()
		return err
	})
	return id
}

func (h *harness) queue(name string, mod func(q *orionv1.WorkQueue)) {
	h.update(func(tx store.Tx) error {
		q, err := deployments.EnsureWorkQueue(tx, name)
		if err != nil {
			return err
		}
		mod(q)
		return tx.PutWorkQueue(q)
	})
}

func (h *harness) agent(name string, queues ...string) string {
	h.t.Helper()
	resp, err := h.d.Register(context.Background(), &agentv1.RegisterAgentRequest{Name: name, WorkQueues: queues}, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.GetAgentId()
}

func (h *harness) get(id string) *orionv1.FlowRun {
	h.t.Helper()
	var r *orionv1.FlowRun
	if err := h.st.View(context.Background(), func(tx store.Tx) (err error) { r, err = tx.FlowRun(id); return err }); err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) claim(agentID, runID string) *agentv1.ClaimFlowRunResponse {
	h.t.Helper()
	resp, err := h.d.Claim(context.Background(), &agentv1.ClaimFlowRunRequest{AgentId: agentID, FlowRunId: runID})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func (h *harness) report(agentID, runID string, epoch int64, t orionv1.StateType) (*agentv1.ReportFlowRunStateResponse, error) {
	return h.d.Report(context.Background(), &agentv1.ReportFlowRunStateRequest{AgentId: agentID, FlowRunId: runID, LeaseEpoch: epoch,
		State: &orionv1.StateProposal{Type: t}})
}

// mustStart claims a run and reports it RUNNING; it returns the epoch.
func (h *harness) mustStart(agentID, runID string) int64 {
	h.t.Helper()
	c := h.claim(agentID, runID)
	if c.GetResult().GetStatus() != orchestration.Accept {
		h.t.Fatalf("claim of %s: %v %s", runID, c.GetResult().GetStatus(), c.GetResult().GetReason())
	}
	resp, err := h.report(agentID, runID, c.GetLease().GetEpoch(), orchestration.Running)
	if err != nil || resp.GetResult().GetStatus() != orchestration.Accept {
		h.t.Fatalf("start of %s: %v %v", runID, resp.GetResult(), err)
	}
	return c.GetLease().GetEpoch()
}

// pass runs one dispatcher pass at the fake clock's time.
func (h *harness) pass() time.Time {
	h.t.Helper()
	next, err := h.d.pass(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return next
}

// stream opens a StreamWork for agentID; the returned stop ends it (as a
// dying agent's broken connection does) and waits for the handler to return.
func (h *harness) stream(agentID string) (offers <-chan *agentv1.StreamWorkResponse, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan *agentv1.StreamWorkResponse, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.d.Stream(ctx, agentID, func(m *agentv1.StreamWorkResponse) error { ch <- m; return nil }) //nolint:errcheck // ends with ctx
	}()
	// Wait until the session is registered (the handler does it first).
	for !h.connected(agentID) {
		select {
		case <-done:
			h.t.Fatal("stream ended at once")
		case <-time.After(time.Millisecond):
		}
	}
	return ch, func() { cancel(); <-done }
}

func (h *harness) connected(agentID string) bool {
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	_, ok := h.d.sessions[agentID]
	return ok
}

func int32p(v int32) *int32 { return &v }
