package storetest

import (
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// scheduledRuns calls ScheduledRuns in a read transaction.
func scheduledRuns(t *testing.T, s store.Store, dep string, after time.Time, limit int) ([]string, int) {
	t.Helper()
	var (
		ids   []string
		total int
	)
	view(t, s, func(tx store.Tx) error {
		runs, n, err := tx.ScheduledRuns(dep, after, limit)
		for _, r := range runs {
			ids = append(ids, r.GetId())
		}
		total = n
		return err
	})
	return ids, total
}

func testScheduledRuns(t *testing.T, s store.Store) {
	mk := func(id, dep string, due time.Duration) *orionv1.FlowRun {
		r := newRun(id, 0)
		r.DeploymentId = dep
		setState(r, scheduled, due)
		return r
	}
	a, b, c := mk("a", "d1", 3*time.Minute), mk("b", "d1", time.Minute), mk("c", "d1", 2*time.Minute)
	other := mk("o", "d2", 90*time.Second)
	done := mk("x", "d1", 4*time.Minute)
	setState(done, completed, 5*time.Minute)
	loose := newRun("l", 0) // no deployment
	putRuns(t, s, a, b, c, other, done, loose)

	ids, total := scheduledRuns(t, s, "d1", t0, 10)
	wantStrings(t, ids, "b", "c", "a")
	if total != 3 {
		t.Fatalf("total = %d, want 3", total)
	}
	// after is exclusive; limit bounds the runs, not the count.
	ids, total = scheduledRuns(t, s, "d1", t0.Add(time.Minute), 1)
	wantStrings(t, ids, "c")
	if total != 2 {
		t.Fatalf("total after t0+1m = %d, want 2", total)
	}
	ids, total = scheduledRuns(t, s, "d3", t0, 10)
	if len(ids) != 0 || total != 0 {
		t.Fatalf("unknown deployment: %q %d", ids, total)
	}

	// Leaving SCHEDULED leaves the index; rescheduling moves the entry.
	update(t, s, func(tx store.Tx) error {
		r, err := tx.FlowRun("b")
		must(t, err)
		setState(r, running, 6*time.Minute)
		must(t, tx.PutFlowRun(r))
		r, err = tx.FlowRun("a")
		must(t, err)
		setState(r, scheduled, 30*time.Second)
		return tx.PutFlowRun(r)
	})
	ids, total = scheduledRuns(t, s, "d1", t0, 10)
	wantStrings(t, ids, "a", "c")
	if total != 2 {
		t.Fatalf("total after changes = %d, want 2", total)
	}
	update(t, s, func(tx store.Tx) error { return tx.DeleteFlowRun("c") })
	ids, _ = scheduledRuns(t, s, "d1", t0, 10)
	wantStrings(t, ids, "a")
	view(t, s, func(tx store.Tx) error {
		_, _, err := tx.ScheduledRuns("", t0, 1)
		wantErr(t, err, store.ErrInvalid)
		return nil
	})
}

// createdBetween collects the ids RunsCreatedBetween visits.
func createdBetween(t *testing.T, s store.Store, dep string, start, end time.Time, max int) []string {
	t.Helper()
	var ids []string
	view(t, s, func(tx store.Tx) error {
		return tx.RunsCreatedBetween(dep, start, end, func(r *orionv1.FlowRun) bool {
			ids = append(ids, r.GetId())
			return len(ids) < max
		})
	})
	return ids
}

func testRunsCreatedBetween(t *testing.T, s store.Store) {
	var runs []*orionv1.FlowRun
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		r := newRun(id, time.Duration(i)*time.Minute)
		if i%2 == 0 {
			r.DeploymentId = "d1"
		}
		runs = append(runs, r)
	}
	putRuns(t, s, runs...)
	far := t0.Add(time.Hour)
	wantStrings(t, createdBetween(t, s, "", t0, far, 100), "a", "b", "c", "d", "e")
	// start inclusive, end exclusive.
	wantStrings(t, createdBetween(t, s, "", t0.Add(time.Minute), t0.Add(3*time.Minute), 100), "b", "c")
	wantStrings(t, createdBetween(t, s, "d1", t0, far, 100), "a", "c", "e")
	wantStrings(t, createdBetween(t, s, "d1", t0.Add(time.Second), t0.Add(4*time.Minute), 100), "c")
	wantStrings(t, createdBetween(t, s, "", t0, far, 2), "a", "b") // fn false stops
	wantStrings(t, createdBetween(t, s, "d2", t0, far, 100))
}
