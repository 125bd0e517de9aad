package storetest

import (
	"fmt"
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

const (
	scheduled = orionv1.StateType_STATE_TYPE_SCHEDULED
	pending   = orionv1.StateType_STATE_TYPE_PENDING
	running   = orionv1.StateType_STATE_TYPE_RUNNING
	completed = orionv1.StateType_STATE_TYPE_COMPLETED
)

func testFlowRunCRUD(t *testing.T, s store.Store) {
	r := newRun("r1", 0)
	r.Tags = []string{"a", "b"}
	r.Parameters = nil
	var index uint64
	update(t, s, func(tx store.Tx) error {
		index = tx.Index()
		must(t, tx.PutFlowRun(r))
		if r.GetModifyIndex() != index {
			t.Errorf("PutFlowRun stamped ModifyIndex %d, want %d", r.GetModifyIndex(), index)
		}
		wantErr(t, tx.PutFlowRun(&orionv1.FlowRun{Name: "noid"}), store.ErrInvalid)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.FlowRun("r1")
		must(t, err)
		wantEqual(t, got, r)
		_, err = tx.FlowRun("r2")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})

	// A later write stamps the later index.
	update(t, s, func(tx store.Tx) error {
		got, err := tx.FlowRun("r1")
		must(t, err)
		setState(got, running, time.Minute)
		must(t, tx.PutFlowRun(got))
		if got.GetModifyIndex() != index+1 {
			t.Errorf("ModifyIndex = %d, want %d", got.GetModifyIndex(), index+1)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		must(t, tx.DeleteFlowRun("r1"))
		wantErr(t, tx.DeleteFlowRun("r1"), store.ErrNotFound)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.FlowRun("r1")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testRunsByState(t *testing.T, s store.Store) {
	a, b, c, d := newRun("a", 3*time.Minute), newRun("b", time.Minute), newRun("c", 2*time.Minute), newRun("d", 0)
	setState(d, running, 0)
	putRuns(t, s, a, b, c, d)

	far := t0.Add(time.Hour)
	wantStrings(t, byState(t, s, scheduled, far), "b", "c", "a")
	wantStrings(t, byState(t, s, scheduled, t0.Add(2*time.Minute)), "b", "c") // before is inclusive
	wantStrings(t, byState(t, s, scheduled, t0.Add(time.Minute-1)))
	wantStrings(t, byState(t, s, running, far), "d")
	wantStrings(t, byState(t, s, completed, far))

	// fn returning false stops the walk.
	var visited []string
	view(t, s, func(tx store.Tx) error {
		return tx.RunsByState(scheduled, far, func(r *orionv1.FlowRun) bool {
			visited = append(visited, r.GetId())
			return false
		})
	})
	wantStrings(t, visited, "b")

	// State changes move runs between indexes; only the current state counts.
	setState(b, running, 5*time.Minute)
	setState(a, scheduled, 30*time.Second) // rescheduled earlier
	putRuns(t, s, a, b)
	wantStrings(t, byState(t, s, scheduled, far), "a", "c")
	wantStrings(t, byState(t, s, running, far), "d", "b")
	wantStrings(t, byState(t, s, running, t0.Add(time.Minute)), "d")

	setState(b, completed, 6*time.Minute)
	setState(d, completed, 4*time.Minute)
	putRuns(t, s, b, d)
	wantStrings(t, byState(t, s, running, far))
	wantStrings(t, byState(t, s, completed, far), "d", "b")
}

// testRunsByStateWritesDuringVisit claims runs from inside fn, the way a
// dispatcher does: every run is visited exactly once, in time order.
func testRunsByStateWritesDuringVisit(t *testing.T, s store.Store) {
	const n = 150
	var runs []*orionv1.FlowRun
	for i := range n {
		runs = append(runs, newRun(fmt.Sprintf("r%03d", i), time.Duration(i)*time.Second))
	}
	putRuns(t, s, runs...)

	var visited []string
	update(t, s, func(tx store.Tx) error {
		var err error
		walkErr := tx.RunsByState(scheduled, t0.Add(time.Hour), func(r *orionv1.FlowRun) bool {
			visited = append(visited, r.GetId())
			setState(r, pending, time.Hour)
			err = tx.PutFlowRun(r)
			return err == nil
		})
		if err != nil {
			return err
		}
		return walkErr
	})
	if len(visited) != n {
		t.Fatalf("visited %d runs, want %d", len(visited), n)
	}
	for i, id := range visited {
		if want := fmt.Sprintf("r%03d", i); id != want {
			t.Fatalf("visit %d = %s, want %s", i, id, want)
		}
	}
	wantStrings(t, byState(t, s, scheduled, t0.Add(24*time.Hour)))
	if got := byState(t, s, pending, t0.Add(24*time.Hour)); len(got) != n {
		t.Fatalf("%d pending runs, want %d", len(got), n)
	}

	// Moving each visited run later within the same state and range must
	// not make it visited twice.
	visited = nil
	update(t, s, func(tx store.Tx) error {
		return tx.RunsByState(pending, t0.Add(24*time.Hour), func(r *orionv1.FlowRun) bool {
			visited = append(visited, r.GetId())
			setState(r, pending, 2*time.Hour)
			return tx.PutFlowRun(r) == nil
		})
	})
	if len(visited) != n {
		t.Fatalf("visited %d runs when rescheduling in place, want %d", len(visited), n)
	}
}

// listIDs lists flow runs and returns their ids.
func listIDs(t *testing.T, s store.Store, f store.FlowRunFilter) (ids []string, next string) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		runs, n, err := tx.ListFlowRuns(f)
		must(t, err)
		for _, r := range runs {
			ids = append(ids, r.GetId())
		}
		next = n
		return nil
	})
	return ids, next
}

func testListFlowRunsNewestFirst(t *testing.T, s store.Store) {
	// Inserted out of order, across transactions.
	putRuns(t, s, newRun("b", 2*time.Minute), newRun("d", 4*time.Minute))
	putRuns(t, s, newRun("a", time.Minute), newRun("e", 5*time.Minute), newRun("c", 3*time.Minute))
	ids, next := listIDs(t, s, store.FlowRunFilter{})
	wantStrings(t, ids, "e", "d", "c", "b", "a")
	if next != "" {
		t.Errorf("next = %q without a limit", next)
	}

	// A state change does not move a run in the listing.
	r := newRun("a", time.Minute)
	setState(r, completed, time.Hour)
	putRuns(t, s, r)
	ids, _ = listIDs(t, s, store.FlowRunFilter{})
	wantStrings(t, ids, "e", "d", "c", "b", "a")

	view(t, s, func(tx store.Tx) error {
		_, _, err := tx.ListFlowRuns(store.FlowRunFilter{After: "not a cursor"})
		wantErr(t, err, store.ErrInvalid)
		return nil
	})
}

func testListFlowRunsFilters(t *testing.T, s store.Store) {
	mk := func(id string, created time.Duration, edit func(r *orionv1.FlowRun)) *orionv1.FlowRun {
		r := newRun(id, created)
		edit(r)
		return r
	}
	putRuns(t, s,
		mk("r1", 1*time.Minute, func(r *orionv1.FlowRun) { r.DeploymentId = "d1"; r.Tags = []string{"x", "y"}; r.WorkQueueName = "q1" }),
		mk("r2", 2*time.Minute, func(r *orionv1.FlowRun) { r.DeploymentId = "d2"; r.Tags = []string{"x"} }),
		mk("r3", 3*time.Minute, func(r *orionv1.FlowRun) {
			r.FlowName, r.FlowId, r.DeploymentId, r.WorkQueueName = "report", "flow-report", "d1", "q1"
			setState(r, running, 3*time.Minute)
		}),
		mk("r4", 4*time.Minute, func(r *orionv1.FlowRun) { r.Tags = []string{"y"}; setState(r, completed, 4*time.Minute) }),
		mk("r5", 5*time.Minute, func(r *orionv1.FlowRun) { r.DeploymentId = "d1"; r.Tags = []string{"y", "x", "z"} }),
		// d10 shares a prefix with d1.
		mk("r6", 6*time.Minute, func(r *orionv1.FlowRun) { r.DeploymentId = "d10"; r.NextScheduledStartTime = ts(time.Hour) }),
	)
	for _, tc := range []struct {
		name string
		f    store.FlowRunFilter
		want []string
	}{
		{"flow name", store.FlowRunFilter{FlowName: "etl"}, []string{"r6", "r5", "r4", "r2", "r1"}},
		{"deployment", store.FlowRunFilter{DeploymentID: "d1"}, []string{"r5", "r3", "r1"}},
		{"deployment d10", store.FlowRunFilter{DeploymentID: "d10"}, []string{"r6"}},
		{"unknown deployment", store.FlowRunFilter{DeploymentID: "d9"}, nil},
		{"state", store.FlowRunFilter{StateTypes: []orionv1.StateType{running}}, []string{"r3"}},
		{"states", store.FlowRunFilter{StateTypes: []orionv1.StateType{running, completed}}, []string{"r4", "r3"}},
		{"tag", store.FlowRunFilter{Tags: []string{"x"}}, []string{"r5", "r2", "r1"}},
		{"all tags", store.FlowRunFilter{Tags: []string{"x", "y"}}, []string{"r5", "r1"}},
		{"work queue", store.FlowRunFilter{WorkQueueName: "q1"}, []string{"r3", "r1"}},
		// r3 and r4 keep next_scheduled_start_time from when they were created.
		{"scheduled before", store.FlowRunFilter{ScheduledBefore: t0.Add(2 * time.Minute)}, []string{"r2", "r1"}},
		{"scheduled before is inclusive", store.FlowRunFilter{ScheduledBefore: t0.Add(5 * time.Minute)}, []string{"r5", "r4", "r3", "r2", "r1"}},
		{"combined", store.FlowRunFilter{DeploymentID: "d1", FlowName: "etl", Tags: []string{"z"}}, []string{"r5"}},
		{"limit", store.FlowRunFilter{FlowName: "etl", Limit: 2}, []string{"r6", "r5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, _ := listIDs(t, s, tc.f)
			wantStrings(t, ids, tc.want...)
		})
	}
}

func testListFlowRunsPagination(t *testing.T, s store.Store) {
	// 25 runs; create times repeat so that ties must page correctly.
	var all []*orionv1.FlowRun
	for i := range 25 {
		r := newRun(fmt.Sprintf("r%02d", i), time.Duration(i/3)*time.Minute)
		if i%2 == 0 {
			r.DeploymentId = "d1"
		}
		if i%5 == 0 {
			setState(r, running, time.Duration(i)*time.Second)
		}
		all = append(all, r)
	}
	putRuns(t, s, all...)
	full, _ := listIDs(t, s, store.FlowRunFilter{})
	if len(full) != len(all) {
		t.Fatalf("listed %d runs, want %d", len(full), len(all))
	}
	fullRunning, _ := listIDs(t, s, store.FlowRunFilter{StateTypes: []orionv1.StateType{running}})
	if len(fullRunning) != 5 {
		t.Fatalf("listed %d running runs, want 5", len(fullRunning))
	}
	fullD1, _ := listIDs(t, s, store.FlowRunFilter{DeploymentID: "d1"})
	if len(fullD1) != 13 {
		t.Fatalf("listed %d runs of d1, want 13", len(fullD1))
	}

	for _, base := range []struct {
		name string
		f    store.FlowRunFilter
		want []string
	}{
		{"all", store.FlowRunFilter{}, full},
		{"deployment", store.FlowRunFilter{DeploymentID: "d1"}, fullD1},
		{"flow name", store.FlowRunFilter{FlowName: "etl"}, full},
		// Two state ranges merged in creation order.
		{"states", store.FlowRunFilter{StateTypes: []orionv1.StateType{scheduled, running}}, full},
		{"one state", store.FlowRunFilter{StateTypes: []orionv1.StateType{running}}, fullRunning},
	} {
		for _, limit := range []int{1, 3, 7, 13, 25, 100} {
			t.Run(fmt.Sprintf("%s/limit=%d", base.name, limit), func(t *testing.T) {
				f := base.f
				f.Limit = limit
				var got []string
				for page := 0; ; page++ {
					if page > len(all)+1 {
						t.Fatal("pagination does not end")
					}
					ids, next := listIDs(t, s, f)
					if len(ids) > limit {
						t.Fatalf("page of %d runs, limit %d", len(ids), limit)
					}
					got = append(got, ids...)
					if next == "" {
						break
					}
					f.After = next
				}
				wantStrings(t, got, base.want...)
			})
		}
	}
}
