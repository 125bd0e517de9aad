package dispatch

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/runs"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
)

// benchRuns creates n SCHEDULED runs of dep due at at, in batches.
func (h *harness) benchRuns(dep *orionv1.Deployment, n int, at time.Time) []string {
	ids := make([]string, 0, n)
	for lo := 0; lo < n; lo += 1000 {
		h.update(func(tx store.Tx) error {
			flow, err := tx.FlowByName(dep.GetFlowName())
			if err != nil {
				return err
			}
			for i := lo; i < min(lo+1000, n); i++ {
				r, _, err := runs.Create(tx, runs.Request{Flow: flow, Deployment: dep, ScheduledTime: timestamppb.New(at)})
				if err != nil {
					return err
				}
				ids = append(ids, r.GetId())
			}
			return nil
		})
	}
	return ids
}

// benchSessions registers n agents on the default queue and opens a
// session for each straight in the dispatcher (no stream goroutine), with
// room for every offer a pass can make.
func (h *harness) benchSessions(n int) []*session {
	out := make([]*session, n)
	for i := range out {
		id := h.agent(fmt.Sprintf("agent-%d", i), "default")
		s := &session{agentID: id, queues: map[string]bool{"default": true}, out: make(chan *agentv1.StreamWorkResponse, 2*maxOffersPerPass), done: make(chan struct{})}
		h.d.mu.Lock()
		h.d.sessions[id] = s
		h.d.mu.Unlock()
		out[i] = s
	}
	return out
}

// hold claims and starts the first n of ids for agentID: RUNNING runs
// holding a lease, as while agents work.
func (h *harness) hold(agentID string, ids []string) {
	for _, id := range ids {
		h.mustStart(agentID, id)
	}
}

// BenchmarkDispatchPass measures one dispatcher pass at a fixed instant:
// reading the due runs, the held runs and the leases in one read
// transaction and offering each due run to the least loaded of 10 agent
// sessions. "idle" passes find nothing due, which is what every commit
// that does not make a run due costs the dispatcher (it wakes after every
// commit); held runs are RUNNING with a live lease.
func BenchmarkDispatchPass(b *testing.B) {
	for _, bc := range []struct{ due, held, future int }{
		{due: 0, held: 0, future: 0},
		{due: 0, held: 100, future: 10_000},
		{due: 0, held: 1000, future: 10_000},
		{due: 100, held: 0, future: 0},
		{due: 1000, held: 0, future: 0},
		{due: 100, held: 1000, future: 10_000},
	} {
		name := fmt.Sprintf("due=%d/held=%d/future=%d", bc.due, bc.held, bc.future)
		if bc.due == 0 {
			name = "idle/" + name
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, Config{LeaseDuration: time.Hour})
			dep := h.deployment("bench", "default", nil, 0)
			sessions := h.benchSessions(10)
			h.hold(sessions[0].agentID, h.benchRuns(dep, bc.held, t0))
			h.benchRuns(dep, bc.future, t0.Add(time.Hour))
			h.benchRuns(dep, bc.due, t0)
			b.ResetTimer()
			for b.Loop() {
				h.pass()
				b.StopTimer()
				offered := 0
				for _, s := range sessions {
					for len(s.out) > 0 {
						<-s.out
						offered++
					}
				}
				if offered != bc.due {
					b.Fatalf("%d offers, want %d", offered, bc.due)
				}
				h.d.mu.Lock()
				clear(h.d.offered)
				h.d.mu.Unlock()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkClaim measures the claim of a due run (the compare-and-set to
// PENDING with a lease, admission checks included) through the
// dispatcher, and the whole agent protocol of a run (claim, RUNNING,
// COMPLETED), with and without fsync, while other runs are held: the
// admission check counts the held runs inside the write transaction.
func BenchmarkClaim(b *testing.B) {
	for _, bc := range []struct {
		lifecycle, fsync bool
		held             int
	}{
		{held: 0}, {held: 1000}, {fsync: true},
		{lifecycle: true}, {lifecycle: true, fsync: true},
	} {
		name := fmt.Sprintf("claim/held=%d/fsync=%t", bc.held, bc.fsync)
		if bc.lifecycle {
			name = fmt.Sprintf("claim_run_complete/held=%d/fsync=%t", bc.held, bc.fsync)
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, Config{LeaseDuration: time.Hour})
			if bc.fsync {
				h.reopenSynced(b)
			}
			dep := h.deployment("bench", "default", nil, 0)
			agentID := h.agent("a", "default")
			h.hold(agentID, h.benchRuns(dep, bc.held, t0))
			ids := h.benchRuns(dep, b.N, t0)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := h.d.Claim(ctx, &agentv1.ClaimFlowRunRequest{AgentId: agentID, FlowRunId: ids[i]})
				if err != nil || resp.GetResult().GetStatus() != orchestration.Accept {
					b.Fatalf("claim: %v %v", resp.GetResult(), err)
				}
				if !bc.lifecycle {
					// Finish the run untimed, so the held runs stay bc.held.
					b.StopTimer()
				}
				for _, t := range []orionv1.StateType{orchestration.Running, orchestration.Completed} {
					rep, err := h.report(agentID, ids[i], resp.GetLease().GetEpoch(), t)
					if err != nil || rep.GetResult().GetStatus() != orchestration.Accept {
						b.Fatalf("report %v: %v %v", t, rep.GetResult(), err)
					}
				}
				b.StartTimer()
			}
		})
	}
}

// reopenSynced replaces the harness's NoSync store with one that fsyncs
// every commit, as a server's does.
func (h *harness) reopenSynced(b *testing.B) {
	h.close()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "orion.db"), bolt.Options{Clock: h.clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	cfg := h.cfg
	cfg.Clock = h.clock.Now
	h.st, h.d = st, New(st, cfg)
	h.update(func(tx store.Tx) error { _, err := deployments.EnsureWorkQueue(tx, "default"); return err })
}
