package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// A killed agent's stream ends; after ReconnectGrace its leases are cut and
// the next pass re-queues its PENDING run and crashes its RUNNING one (then
// the retry policy applies), long before the 15 s lease would end.
func TestFastRecoveryAfterStreamLoss(t *testing.T) {
	h := newHarness(t, Config{LeaseDuration: 15 * time.Second})
	dep := h.deployment("d", "default", nil, 1)
	pending, running := h.run(dep, t0), h.run(dep, t0)
	agent := h.agent("worker-1", "default")
	_, stop := h.stream(agent)
	if c := h.claim(agent, pending); c.GetResult().GetStatus() != orchestration.Accept {
		t.Fatalf("claim: %v", c.GetResult())
	}
	h.mustStart(agent, running)

	stop() // the agent process died
	h.clock.Advance(900 * time.Millisecond)
	if next := h.pass(); !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("next pass at %s, want the end of the grace period %s", next, t0.Add(time.Second))
	}
	if got := h.get(pending).GetState().GetType(); got != orchestration.Pending {
		t.Fatalf("within the grace period the run must stay held, got %s", got)
	}
	h.clock.Advance(100 * time.Millisecond)
	if next := h.pass(); !next.Equal(h.clock.Now()) {
		t.Fatalf("after cutting leases the loop must come back at once, next=%s", next)
	}
	h.pass()

	p := h.get(pending)
	if p.GetState().GetType() != orchestration.Scheduled || p.GetDeliveryCount() != 1 {
		t.Fatalf("pending run: %s delivery %d", p.GetState().GetName(), p.GetDeliveryCount())
	}
	r := h.get(running)
	if r.GetState().GetName() != orchestration.NameAwaitingRetry || !strings.Contains(r.GetState().GetMessage(), "worker-1") {
		t.Fatalf("running run: %s %q", r.GetState().GetName(), r.GetState().GetMessage())
	}
	if elapsed := h.clock.Now().Sub(t0); elapsed > 2*time.Second {
		t.Fatalf("recovery took %s", elapsed)
	}
}

// An agent that reopens its stream within the grace period keeps its runs.
func TestReconnectWithinGraceKeepsLeases(t *testing.T) {
	h := newHarness(t, Config{LeaseDuration: 15 * time.Second})
	dep := h.deployment("d", "default", nil, 0)
	id := h.run(dep, t0)
	agent := h.agent("worker-1", "default")
	_, stop := h.stream(agent)
	epoch := h.mustStart(agent, id)
	stop()
	h.clock.Advance(500 * time.Millisecond)
	_, stop = h.stream(agent)
	defer stop()
	h.clock.Advance(2 * time.Second)
	h.pass()
	h.pass()
	r := h.get(id)
	if r.GetState().GetType() != orchestration.Running || r.GetLeaseEpoch() != epoch {
		t.Fatalf("run %s epoch %d, want Running at epoch %d", r.GetState().GetName(), r.GetLeaseEpoch(), epoch)
	}
}

// With the real clock and the real loop: the time from a broken stream to
// the run being re-queued, as the fault tests see it.
func TestFastRecoveryRealClock(t *testing.T) {
	h := newRealHarness(t, Config{LeaseDuration: 15 * time.Second})
	d := h.d
	dep := h.deployment("d", "default", nil, 0)
	id := h.run(dep, time.Now())
	agent := h.agent("worker-1", "default")
	_, stop := h.stream(agent)
	h.mustStart(agent, id)
	ctx, cancel := context.WithCancel(context.Background())
	loop := make(chan error, 1)
	go func() { loop <- d.Run(ctx) }()
	defer func() { cancel(); <-loop }()

	start := time.Now()
	stop()
	deadline := time.After(5 * time.Second)
	for {
		changed, _ := h.st.Changed()
		if h.get(id).GetState().GetType() == orchestration.Crashed {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("run still %s 5s after the stream ended", h.get(id).GetState().GetName())
		}
	}
	elapsed := time.Since(start)
	t.Logf("recovery after stream loss: %s", elapsed)
	if elapsed > 2*time.Second {
		t.Fatalf("recovery took %s, want <= 2s", elapsed)
	}
}

// A CANCELLING run whose agent is gone ends CANCELLED when its lease ends.
func TestCancellingWithoutAgentEndsCancelled(t *testing.T) {
	h := newHarness(t, Config{LeaseDuration: 15 * time.Second})
	dep := h.deployment("d", "default", nil, 2)
	id := h.run(dep, t0)
	agent := h.agent("worker-1", "default")
	h.mustStart(agent, id)
	if _, err := h.d.Cancel(context.Background(), id, ""); err != nil {
		t.Fatal(err)
	}
	if got := h.get(id).GetState().GetType(); got != orchestration.Cancelling {
		t.Fatalf("state %s", got)
	}
	h.restart() // the intent is in the store
	h.clock.Advance(15 * time.Second)
	h.pass()
	if got := h.get(id).GetState().GetType(); got != orchestration.Cancelled {
		t.Fatalf("state %s, want Cancelled", got)
	}
}

// A RUNNING run whose lease expires crashes, is retried (AwaitingRetry), and
// its next RUNNING is named Retrying; with no retries left it stays CRASHED.
func TestRetryAfterCrash(t *testing.T) {
	h := newHarness(t, Config{LeaseDuration: 15 * time.Second})
	dep := h.deployment("d", "default", nil, 1)
	id := h.run(dep, t0)
	agent := h.agent("worker-1", "default")
	h.mustStart(agent, id)
	h.clock.Advance(16 * time.Second)
	h.pass()
	if got := h.get(id).GetState(); got.GetName() != orchestration.NameAwaitingRetry {
		t.Fatalf("after the first crash: %s", got.GetName())
	}
	h.mustStart(agent, id)
	if got := h.get(id).GetState().GetName(); got != orchestration.NameRetrying {
		t.Fatalf("second attempt named %s", got)
	}
	h.clock.Advance(16 * time.Second)
	h.pass()
	if got := h.get(id).GetState().GetType(); got != orchestration.Crashed {
		t.Fatalf("retries exhausted: %s", got)
	}
}

// A PENDING run whose lease expires 3 times becomes CRASHED.
func TestDeliveryLimit(t *testing.T) {
	h := newHarness(t, Config{LeaseDuration: 15 * time.Second})
	dep := h.deployment("d", "default", nil, 0)
	id := h.run(dep, t0)
	agent := h.agent("worker-1", "default")
	for i := 0; i < 3; i++ {
		if c := h.claim(agent, id); c.GetResult().GetStatus() != orchestration.Accept {
			t.Fatalf("claim %d: %v", i, c.GetResult())
		}
		h.clock.Advance(16 * time.Second)
		h.pass()
	}
	if r := h.get(id); r.GetState().GetType() != orchestration.Crashed || r.GetDeliveryCount() != 3 {
		t.Fatalf("state %s delivery %d", r.GetState().GetName(), r.GetDeliveryCount())
	}
}

// A SCHEDULED run not started LateAfter after its time is renamed Late by a
// timer (the pass says when), stays SCHEDULED and claimable.
func TestLateMarking(t *testing.T) {
	h := newHarness(t, Config{LateAfter: 15 * time.Second})
	dep := h.deployment("d", "default", nil, 0)
	id := h.run(dep, t0.Add(10*time.Second))
	if next := h.pass(); !next.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("next = %s, want the scheduled time", next)
	}
	h.clock.Advance(10 * time.Second)
	if next := h.pass(); !next.Equal(t0.Add(25 * time.Second)) {
		t.Fatalf("next = %s, want the late time", next)
	}
	h.clock.Advance(14 * time.Second)
	h.pass()
	if got := h.get(id).GetState().GetName(); got != "Scheduled" {
		t.Fatalf("marked too early: %s", got)
	}
	h.clock.Advance(time.Second)
	h.pass()
	r := h.get(id)
	if r.GetState().GetName() != orchestration.NameLate || r.GetState().GetType() != orchestration.Scheduled ||
		!r.GetNextScheduledStartTime().AsTime().Equal(t0.Add(10*time.Second)) {
		t.Fatalf("got %s/%s next %v", r.GetState().GetType(), r.GetState().GetName(), r.GetNextScheduledStartTime())
	}
	h.pass() // idempotent: no second Late state
	var states []*orionv1.State
	h.update(func(tx store.Tx) (err error) { states, err = tx.States(id); return err })
	if len(states) != 2 {
		t.Fatalf("history has %d states, want Scheduled then Late", len(states))
	}
	agent := h.agent("worker-1", "default")
	if c := h.claim(agent, id); c.GetResult().GetStatus() != orchestration.Accept {
		t.Fatalf("a late run must stay claimable: %v", c.GetResult())
	}
}

// A restarted server has no timers of its own: the first pass derives the
// next deadline (scheduled time, late mark, lease expiry) from the store,
// and a WAIT before the scheduled time is derived from the stored PENDING
// state.
func TestRestartRebuildsTimersFromStore(t *testing.T) {
	h := newHarness(t, Config{LeaseDuration: 15 * time.Second, LateAfter: 15 * time.Second})
	dep := h.deployment("d", "default", nil, 0)
	future := h.run(dep, t0.Add(time.Minute))
	agent := h.agent("worker-1", "default")

	// Prefetch: claim a run due in a minute; starting it now is WAIT.
	c := h.claim(agent, future)
	if c.GetResult().GetStatus() != orchestration.Accept {
		t.Fatalf("early claim: %v", c.GetResult())
	}
	h.restart()
	resp, err := h.report(agent, future, c.GetLease().GetEpoch(), orchestration.Running)
	if err != nil || resp.GetResult().GetStatus() != orchestration.Wait || resp.GetResult().GetDelay().AsDuration() != time.Minute {
		t.Fatalf("start before the scheduled time after a restart: %v %v", resp.GetResult(), err)
	}

	// The lease of the prefetched run ends at t0+15s: that is the next deadline.
	h.restart()
	if next := h.pass(); !next.Equal(t0.Add(15 * time.Second)) {
		t.Fatalf("next = %s, want the lease expiry", next)
	}

	// A due run not yet late: the next deadline is its late mark.
	late := h.run(dep, t0.Add(-10*time.Second))
	h.restart()
	if next := h.pass(); !next.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("next = %s, want the late mark at t0+5s", next)
	}
	h.clock.Advance(5 * time.Second)
	h.restart()
	h.pass()
	if got := h.get(late).GetState().GetName(); got != orchestration.NameLate {
		t.Fatalf("state %s, want Late", got)
	}
	h.clock.Advance(10 * time.Second)
	h.restart()
	h.pass()
	if got := h.get(future).GetState().GetType(); got != orchestration.Scheduled {
		t.Fatalf("expired prefetch: %s, want back in SCHEDULED", got)
	}
}
