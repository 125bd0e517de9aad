package dispatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pgregory.net/rapid"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// protocolModel is what the agents believe and what the server granted.
type protocolModel struct {
	h        *harness
	runs     []string
	agents   []string
	queueLim *int32
	depLim   map[string]*int32
	// believed[agent][run] is the lease epoch the agent thinks it holds.
	believed map[string]map[string]int64
	// granted[run][epoch] is the agent a claim at that epoch was granted to.
	granted map[string]map[int64]string
	// maxEpoch[run] is the highest epoch seen for the run.
	maxEpoch map[string]int64
}

// The claim/lease protocol against a real bbolt store, under random
// interleavings of claims, fresh and stale reports, heartbeats, lost
// streams, lease expiries (fake clock), sweeps, cancels and server restarts
// (a new store handle and dispatcher on the same file).
func TestProtocolProperties(t *testing.T) {
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(base, "run")
		if err != nil {
			rt.Fatal(err)
		}
		h := openHarness(rt, filepath.Join(dir, "orion.db"), Config{LeaseDuration: 15 * time.Second, MaxDeliveries: 3}, false)
		defer h.close()
		m := newProtocolModel(rt, h)
		rt.Repeat(map[string]func(*rapid.T){
			"claim":     m.claim,
			"report":    m.report,
			"heartbeat": m.heartbeat,
			"lose":      m.lose,
			"tick":      m.tick,
			"cancel":    m.cancel,
			"restart":   func(*rapid.T) { h.restart() },
			"":          m.check,
		})
		m.drain(rt)
	})
}

func optLimit(t *rapid.T, label string) *int32 {
	if rapid.Bool().Draw(t, label+"_set") {
		return int32p(int32(rapid.IntRange(0, 3).Draw(t, label)))
	}
	return nil
}

func newProtocolModel(t *rapid.T, h *harness) *protocolModel {
	m := &protocolModel{h: h, depLim: map[string]*int32{}, believed: map[string]map[string]int64{},
		granted: map[string]map[int64]string{}, maxEpoch: map[string]int64{}}
	m.queueLim = optLimit(t, "queue_limit")
	h.queue("q", func(q *orionv1.WorkQueue) { q.ConcurrencyLimit = m.queueLim })
	for i := 0; i < 2; i++ {
		lim := optLimit(t, fmt.Sprintf("deployment_limit_%d", i))
		dep := h.deployment(fmt.Sprintf("d%d", i), "q", lim, int32(rapid.IntRange(0, 2).Draw(t, "retries")))
		m.depLim[dep.GetId()] = lim
		for j := rapid.IntRange(1, 3).Draw(t, "runs"); j > 0; j-- {
			id := h.run(dep, t0)
			m.runs = append(m.runs, id)
			m.granted[id] = map[int64]string{}
		}
	}
	for i := 0; i < 3; i++ {
		a := h.agent(fmt.Sprintf("a%d", i), "q")
		m.agents = append(m.agents, a)
		m.believed[a] = map[string]int64{}
	}
	return m
}

func (m *protocolModel) pick(t *rapid.T) (agent, run string) {
	return rapid.SampledFrom(m.agents).Draw(t, "agent"), rapid.SampledFrom(m.runs).Draw(t, "run")
}

func (m *protocolModel) claim(t *rapid.T) {
	a, r := m.pick(t)
	resp, err := m.h.d.Claim(context.Background(), &agentv1.ClaimFlowRunRequest{AgentId: a, FlowRunId: r})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetResult().GetStatus() != orchestration.Accept {
		return
	}
	e := resp.GetLease().GetEpoch()
	if e <= m.maxEpoch[r] {
		t.Fatalf("claim granted epoch %d, not above %d", e, m.maxEpoch[r])
	}
	if prev, ok := m.granted[r][e]; ok {
		t.Fatalf("epoch %d of run %s granted to %s and %s", e, r, prev, a)
	}
	m.granted[r][e], m.maxEpoch[r] = a, e
	m.believed[a][r] = e
}

func (m *protocolModel) report(t *rapid.T) {
	a, r := m.pick(t)
	epoch := m.believed[a][r]
	if rapid.Bool().Draw(t, "stale") {
		epoch = int64(rapid.IntRange(0, int(m.maxEpoch[r])).Draw(t, "epoch"))
	}
	to := rapid.SampledFrom([]orionv1.StateType{orchestration.Running, orchestration.Completed, orchestration.Failed,
		orchestration.Crashed, orchestration.Cancelled}).Draw(t, "state")
	before := m.h.get(r)
	_, err := m.h.report(a, r, epoch, to)
	after := m.h.get(r)
	holder := before.GetAgentId() == a && before.GetLeaseEpoch() == epoch && orchestration.IsHeld(before.GetState().GetType())
	switch {
	case err != nil && !errors.Is(err, ErrLeaseLost):
		t.Fatal(err)
	case !holder && err == nil:
		t.Fatalf("a report from %s at epoch %d was accepted; the run is held by %s at %d", a, epoch, before.GetAgentId(), before.GetLeaseEpoch())
	case err != nil && after.GetModifyIndex() != before.GetModifyIndex():
		t.Fatal("a rejected (stale) report changed the run")
	}
	if err != nil {
		delete(m.believed[a], r)
	}
}

func (m *protocolModel) heartbeat(t *rapid.T) {
	a := rapid.SampledFrom(m.agents).Draw(t, "agent")
	req := &agentv1.HeartbeatRequest{AgentId: a}
	for r, e := range m.believed[a] {
		req.Runs = append(req.Runs, &agentv1.HeldRun{FlowRunId: r, LeaseEpoch: e})
	}
	resp, err := m.h.d.Heartbeat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.GetLostFlowRunIds() {
		delete(m.believed[a], r)
	}
}

// lose simulates an agent's stream ending (its process died).
func (m *protocolModel) lose(t *rapid.T) {
	a := rapid.SampledFrom(m.agents).Draw(t, "agent")
	m.h.d.mu.Lock()
	m.h.d.lost[a] = m.h.clock.Now()
	m.h.d.mu.Unlock()
}

func (m *protocolModel) tick(t *rapid.T) {
	m.h.clock.Advance(time.Duration(rapid.IntRange(0, 20_000).Draw(t, "ms")) * time.Millisecond)
	m.h.pass()
}

func (m *protocolModel) cancel(t *rapid.T) {
	_, r := m.pick(t)
	if _, err := m.h.d.Cancel(context.Background(), r, ""); err != nil && !errors.Is(err, store.ErrConflict) {
		t.Fatal(err)
	}
}

// check verifies the invariants after every step.
func (m *protocolModel) check(t *rapid.T) {
	byQueue, byDep := int32(0), map[string]int32{}
	for _, id := range m.runs {
		r := m.h.get(id)
		if r.GetLeaseEpoch() != m.maxEpoch[id] {
			t.Fatalf("run %s at epoch %d, last granted %d", id, r.GetLeaseEpoch(), m.maxEpoch[id])
		}
		if !orchestration.IsHeld(r.GetState().GetType()) {
			continue
		}
		byQueue++
		byDep[r.GetDeploymentId()]++
		if m.granted[id][r.GetLeaseEpoch()] != r.GetAgentId() {
			t.Fatalf("run %s held by %s, but epoch %d was granted to %s", id, r.GetAgentId(), r.GetLeaseEpoch(), m.granted[id][r.GetLeaseEpoch()])
		}
	}
	if m.queueLim != nil && byQueue > *m.queueLim {
		t.Fatalf("queue holds %d runs, limit %d", byQueue, *m.queueLim)
	}
	for dep, n := range byDep {
		if lim := m.depLim[dep]; lim != nil && n > *lim {
			t.Fatalf("deployment holds %d runs, limit %d", n, *lim)
		}
	}
}

// drain lets every lease expire: each run ends terminal or back in SCHEDULED.
func (m *protocolModel) drain(t *rapid.T) {
	for i := 0; i < 5; i++ {
		m.h.clock.Advance(time.Minute)
		m.h.pass()
	}
	for _, id := range m.runs {
		r := m.h.get(id)
		if st := r.GetState().GetType(); !orchestration.IsTerminal(st) && st != orchestration.Scheduled {
			t.Fatalf("run %s left %s", id, r.GetState().GetName())
		}
		// PENDING is entered exactly once per granted claim epoch.
		var states []*orionv1.State
		m.h.update(func(tx store.Tx) (err error) { states, err = tx.States(id); return err })
		pending := 0
		for _, s := range states {
			if s.GetType() == orchestration.Pending {
				pending++
			}
		}
		if pending != len(m.granted[id]) {
			t.Fatalf("run %s entered PENDING %d times for %d granted claims", id, pending, len(m.granted[id]))
		}
	}
}
