package dispatch

import (
	"testing"
	"time"

	"github.com/orion-run/orion/server/orchestration"
)

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
