package dispatch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
)

// Many agents claim many runs at once: the queue's limit is never exceeded,
// a refused run stays SCHEDULED, and a finished run frees a slot.
func TestQueueLimitUnderConcurrentClaims(t *testing.T) {
	h := newHarness(t, Config{})
	h.queue("q", func(q *orionv1.WorkQueue) { q.ConcurrencyLimit = int32p(3) })
	dep := h.deployment("d", "q", nil, 0)
	var ids []string
	for i := 0; i < 40; i++ {
		ids = append(ids, h.run(dep, t0))
	}
	var agents []string
	for i := 0; i < 8; i++ {
		agents = append(agents, h.agent(fmt.Sprintf("a%d", i), "q"))
	}
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for _, a := range agents {
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if h.claim(a, id).GetResult().GetStatus() == orchestration.Accept {
					accepted.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if got := accepted.Load(); got != 3 {
		t.Fatalf("%d claims accepted, want the limit 3", got)
	}
	var held []*orionv1.FlowRun
	for _, id := range ids {
		switch r := h.get(id); r.GetState().GetType() {
		case orchestration.Pending:
			held = append(held, r)
		case orchestration.Scheduled:
		default:
			t.Fatalf("run %s is %s", id, r.GetState().GetName())
		}
	}
	// Finishing one frees a slot for exactly one more claim.
	r := held[0]
	if _, err := h.report(r.GetAgentId(), r.GetId(), r.GetLeaseEpoch(), orchestration.Running); err != nil {
		t.Fatal(err)
	}
	if _, err := h.report(r.GetAgentId(), r.GetId(), r.GetLeaseEpoch(), orchestration.Completed); err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, id := range ids {
		if h.claim(agents[0], id).GetResult().GetStatus() == orchestration.Accept {
			got++
		}
	}
	if got != 1 {
		t.Fatalf("%d claims accepted after a slot freed, want 1", got)
	}
}

// The deployment's own limit holds across queues' agents too.
func TestDeploymentLimitUnderConcurrentClaims(t *testing.T) {
	h := newHarness(t, Config{})
	dep := h.deployment("d", "q", int32p(2), 0)
	var ids []string
	for i := 0; i < 20; i++ {
		ids = append(ids, h.run(dep, t0))
	}
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		a := h.agent(fmt.Sprintf("a%d", i), "q")
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if h.claim(a, id).GetResult().GetStatus() == orchestration.Accept {
					accepted.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if got := accepted.Load(); got != 2 {
		t.Fatalf("%d claims accepted, want the deployment limit 2", got)
	}
}

// A limit of 0 means nothing runs; a paused queue dispatches nothing and
// its claims are ABORTed; a queue's tags filter its runs.
func TestPausedZeroLimitAndTags(t *testing.T) {
	h := newHarness(t, Config{})
	dep := h.deployment("d", "q", nil, 0)
	plain, tagged := h.run(dep, t0), h.run(dep, t0, "gpu", "big")
	agent := h.agent("a", "q")
	_, stop := h.stream(agent)
	defer stop()

	check := func(what string, wantPlain, wantTagged orionv1.OrchestrationStatus, reason string) {
		t.Helper()
		h.pass()
		offered := map[string]bool{}
		h.d.mu.Lock()
		for id := range h.d.offered {
			offered[id] = true
		}
		h.d.mu.Unlock()
		for id, want := range map[string]orionv1.OrchestrationStatus{plain: wantPlain, tagged: wantTagged} {
			if offered[id] != (want == orchestration.Accept) {
				t.Fatalf("%s: run offered=%v, want claimable=%v", what, offered[id], want == orchestration.Accept)
			}
			if want == orchestration.Accept {
				continue // do not claim: keep the runs SCHEDULED for the next case
			}
			res := h.claim(agent, id).GetResult()
			if res.GetStatus() != want || !strings.Contains(res.GetReason(), reason) {
				t.Fatalf("%s: claim %v %q, want %v mentioning %q", what, res.GetStatus(), res.GetReason(), want, reason)
			}
		}
		h.d.mu.Lock()
		h.d.offered = map[string]offer{}
		h.d.mu.Unlock()
	}
	h.queue("q", func(q *orionv1.WorkQueue) { q.IsPaused = true })
	check("paused", orchestration.Abort, orchestration.Abort, "paused")
	h.queue("q", func(q *orionv1.WorkQueue) { q.IsPaused = false; q.ConcurrencyLimit = int32p(0) })
	check("limit 0", orchestration.Abort, orchestration.Abort, "concurrency limit of 0")
	h.queue("q", func(q *orionv1.WorkQueue) { q.ConcurrencyLimit = nil; q.Tags = []string{"gpu"} })
	check("tags", orchestration.Abort, orchestration.Accept, "lacks")
	if h.get(plain).GetState().GetType() != orchestration.Scheduled {
		t.Fatal("a refused run must stay SCHEDULED")
	}
}

// An agent registered with --limit N never holds more than N runs.
func TestAgentLimit(t *testing.T) {
	h := newHarness(t, Config{})
	dep := h.deployment("d", "q", nil, 0)
	a, b := h.run(dep, t0), h.run(dep, t0)
	resp, err := h.d.Register(context.Background(), &agentv1.RegisterAgentRequest{Name: "small", WorkQueues: []string{"q"}, Limit: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	agent := resp.GetAgentId()
	h.mustStart(agent, a)
	if res := h.claim(agent, b).GetResult(); res.GetStatus() != orchestration.Abort || !strings.Contains(res.GetReason(), "limit") {
		t.Fatalf("second claim: %v %q", res.GetStatus(), res.GetReason())
	}
}

// TestPassOffersWithinLimits: one pass offers no more runs than a queue's
// or a deployment's limit leaves free, and every run of an unlimited queue
// and deployment.
func TestPassOffersWithinLimits(t *testing.T) {
	h := newHarness(t, Config{})
	h.queue("limited", func(q *orionv1.WorkQueue) { q.ConcurrencyLimit = int32p(2) })
	byQueue := h.deployment("by-queue", "limited", nil, 0)
	byDeployment := h.deployment("by-deployment", "open", int32p(3), 0)
	unlimited := h.deployment("unlimited", "open", nil, 0)
	runs := map[string]string{}
	for i := 0; i < 5; i++ {
		for _, d := range []*orionv1.Deployment{byQueue, byDeployment, unlimited} {
			runs[h.run(d, t0)] = d.GetName()
		}
	}
	_, stop := h.stream(h.agent("a", "limited", "open"))
	defer stop()
	h.pass()
	offered := map[string]int{}
	h.d.mu.Lock()
	for id := range h.d.offered {
		offered[runs[id]]++
	}
	h.d.mu.Unlock()
	if offered["by-queue"] != 2 || offered["by-deployment"] != 3 || offered["unlimited"] != 5 {
		t.Fatalf("offered per deployment = %v, want by-queue 2, by-deployment 3, unlimited 5", offered)
	}
}
