package storetest

import (
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// testCounts: RunCount and HeldCount follow every put and delete, through
// state changes, claims by agents, queue moves and deletion.
func testCounts(t *testing.T, s store.Store) {
	want := func(when string, counts map[orionv1.StateType]int, held map[store.HeldBy]map[string]int) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			for st, n := range counts {
				got, err := tx.RunCount(st)
				must(t, err)
				if got != n {
					t.Errorf("%s: RunCount(%v) = %d, want %d", when, st, got, n)
				}
			}
			for by, keys := range held {
				for k, n := range keys {
					got, err := tx.HeldCount(by, k)
					must(t, err)
					if got != n {
						t.Errorf("%s: HeldCount(%d, %q) = %d, want %d", when, by, k, got, n)
					}
				}
			}
			return nil
		})
	}
	a, b, c := newRun("a", 0), newRun("b", time.Minute), newRun("c", 2*time.Minute)
	for _, r := range []*orionv1.FlowRun{a, b, c} {
		r.WorkQueueName, r.DeploymentId = "q1", "d1"
	}
	putRuns(t, s, a, b, c)
	want("created", map[orionv1.StateType]int{scheduled: 3, pending: 0}, map[store.HeldBy]map[string]int{store.HeldByQueue: {"q1": 0}})

	setState(a, pending, time.Minute)
	a.AgentId = "agent-1"
	setState(b, running, time.Minute)
	b.AgentId = "agent-1"
	putRuns(t, s, a, b)
	want("claimed", map[orionv1.StateType]int{scheduled: 1, pending: 1, running: 1},
		map[store.HeldBy]map[string]int{store.HeldByQueue: {"q1": 2}, store.HeldByDeployment: {"d1": 2}, store.HeldByAgent: {"agent-1": 2, "agent-2": 0}})

	// Held to held with another agent and queue moves the held counts.
	setState(a, running, 2*time.Minute)
	a.AgentId, a.WorkQueueName = "agent-2", "q2"
	putRuns(t, s, a)
	want("moved", map[orionv1.StateType]int{pending: 0, running: 2},
		map[store.HeldBy]map[string]int{store.HeldByQueue: {"q1": 1, "q2": 1}, store.HeldByAgent: {"agent-1": 1, "agent-2": 1}})

	setState(b, completed, 3*time.Minute)
	putRuns(t, s, b)
	update(t, s, func(tx store.Tx) error { return tx.DeleteFlowRun("a") })
	want("finished and deleted", map[orionv1.StateType]int{running: 0, completed: 1, scheduled: 1},
		map[store.HeldBy]map[string]int{store.HeldByQueue: {"q1": 0, "q2": 0}, store.HeldByDeployment: {"d1": 0}, store.HeldByAgent: {"agent-1": 0, "agent-2": 0}})

	// RunIDsByState walks the index without decoding, in time key order.
	d := newRun("d", 30*time.Second)
	putRuns(t, s, d)
	var ids []string
	var times []time.Time
	view(t, s, func(tx store.Tx) error {
		return tx.RunIDsByState(scheduled, t0.Add(time.Hour), func(id string, at time.Time) bool {
			ids, times = append(ids, id), append(times, at)
			return true
		})
	})
	wantStrings(t, ids, "d", "c")
	if len(times) != 2 || !times[0].Equal(t0.Add(30*time.Second)) || !times[1].Equal(t0.Add(2*time.Minute)) {
		t.Errorf("RunIDsByState times %v", times)
	}
}
