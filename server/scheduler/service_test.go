package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/runs"
	"github.com/orion-run/orion/server/scheduler"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
)

// fakeClock is a settable clock shared by the store and the scheduler.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a bbolt store in a temp dir that a test can close and reopen.
type env struct {
	t     *testing.T
	path  string
	clock *fakeClock
	st    *bolt.Store
}

func newEnv(t *testing.T, now time.Time) *env {
	e := &env{t: t, path: filepath.Join(t.TempDir(), "orion.db"), clock: &fakeClock{now: now}}
	e.reopen()
	t.Cleanup(func() { e.st.Close() })
	return e
}

func (e *env) reopen() {
	if e.st != nil {
		if err := e.st.Close(); err != nil {
			e.t.Fatal(err)
		}
	}
	st, err := bolt.Open(e.path, bolt.Options{Clock: e.clock.Now, NoSync: true})
	if err != nil {
		e.t.Fatal(err)
	}
	e.st = st
}

// exactLimits are the default limits without staggering (Spread 0), so
// the tests can count runs by Prefect's rule exactly.
var exactLimits = scheduler.Limits{MinRuns: 3, MinTime: time.Hour, MaxRuns: 100, MaxTime: 100 * 24 * time.Hour}

func (e *env) scheduler() *scheduler.Scheduler {
	return scheduler.New(e.st, scheduler.Config{Now: e.clock.Now, Limits: exactLimits})
}

func (e *env) pass(s *scheduler.Scheduler) scheduler.PassStats {
	e.t.Helper()
	stats, err := s.Pass(context.Background())
	if err != nil {
		e.t.Fatalf("Pass: %v", err)
	}
	return stats
}

func (e *env) update(fn func(store.Tx) error) {
	e.t.Helper()
	if err := e.st.Update(context.Background(), fn); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) upsert(s *orionv1.Schedule) *orionv1.Deployment {
	e.t.Helper()
	var d *orionv1.Deployment
	e.update(func(tx store.Tx) (err error) {
		d, _, err = deployments.Upsert(tx, &orionv1.Deployment{
			Name: "every", FlowName: "tick", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, Schedule: s,
		})
		return err
	})
	return d
}

// runs returns the deployment's runs by state name, with their scheduled times.
func (e *env) runs(depID string) []*orionv1.FlowRun {
	e.t.Helper()
	var out []*orionv1.FlowRun
	err := e.st.View(context.Background(), func(tx store.Tx) (err error) {
		out, _, err = tx.ListFlowRuns(store.FlowRunFilter{DeploymentID: depID})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b *orionv1.FlowRun) int {
		return a.GetExpectedStartTime().AsTime().Compare(b.GetExpectedStartTime().AsTime())
	})
	return out
}

// checkUnique fails when two runs share a scheduled time.
func checkUnique(t *testing.T, rs []*orionv1.FlowRun) {
	t.Helper()
	seen := map[time.Time]bool{}
	for _, r := range rs {
		at := r.GetExpectedStartTime().AsTime()
		if seen[at] {
			t.Fatalf("two runs at %s", at)
		}
		seen[at] = true
	}
}

func cron(expr string) *orionv1.Schedule {
	return &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: expr}}}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)

func TestScheduler_IdempotentAcrossRestarts(t *testing.T) {
	e := newEnv(t, t0)
	dep := e.upsert(cron("* * * * *"))
	s := e.scheduler()

	// Prefect's rule: dates from 00:01 until one is an hour ahead (01:01).
	if got := e.pass(s); got.Created != 61 {
		t.Fatalf("first pass created %d runs, want 61", got.Created)
	}
	rs := e.runs(dep.GetId())
	r := rs[0]
	if !r.GetAutoScheduled() || !slices.Contains(r.GetTags(), scheduler.AutoScheduledTag) || r.GetState().GetType() != orchestration.Scheduled ||
		r.GetIdempotencyKey() != "scheduled "+dep.GetId()+" 2026-01-01T00:01:00Z" || !r.GetExpectedStartTime().AsTime().Equal(t0.Add(30*time.Second)) {
		t.Fatalf("first run = %v", r)
	}
	if got := e.pass(s); got.Created != 0 || got.Evaluated != 0 {
		t.Fatalf("second pass = %+v, want nothing evaluated or created", got)
	}

	// A restart reopens the store; the watermark carries the state.
	e.reopen()
	s = e.scheduler()
	if got := e.pass(s); got.Created != 0 || got.Evaluated != 1 {
		t.Fatalf("pass after restart = %+v, want 1 evaluated and 0 created", got)
	}
	e.clock.Advance(10 * time.Minute)
	if got := e.pass(s); got.Created != 10 {
		t.Fatalf("pass 10 minutes later created %d, want 10", got.Created)
	}

	// Without a watermark the idempotency keys alone prevent duplicates.
	e.update(func(tx store.Tx) error {
		d, err := tx.Deployment(dep.GetId())
		if err != nil {
			return err
		}
		d.ScheduleWatermark = nil
		return tx.PutDeployment(d)
	})
	var wg sync.WaitGroup
	for range 3 { // racing schedulers
		wg.Add(1)
		go func() { defer wg.Done(); e.pass(e.scheduler()) }()
	}
	wg.Wait()
	rs = e.runs(dep.GetId())
	checkUnique(t, rs)
	if len(rs) != 71 {
		t.Fatalf("%d runs after racing passes, want 71", len(rs))
	}
}

func TestScheduler_EditPauseDelete(t *testing.T) {
	e := newEnv(t, t0)
	dep := e.upsert(cron("* * * * *"))
	s := e.scheduler()
	e.pass(s)

	// A manual run and a claimed auto-scheduled run survive every change.
	var manualID, claimedID string
	e.update(func(tx store.Tx) error {
		d, _ := tx.Deployment(dep.GetId())
		f, _ := tx.Flow(d.GetFlowId())
		m, _, err := runs.Create(tx, runs.Request{Flow: f, Deployment: d, ScheduledTime: timestamppb.New(t0.Add(time.Hour))})
		if err != nil {
			return err
		}
		manualID = m.GetId()
		rs, _, _ := tx.ListFlowRuns(store.FlowRunFilter{DeploymentID: d.GetId()})
		// An auto-scheduled run to claim. Runs made at the same instant of
		// the fake clock have no creation order, so pick by flag.
		i := slices.IndexFunc(rs, func(r *orionv1.FlowRun) bool { return r.GetAutoScheduled() })
		if i < 0 {
			return errors.New("no auto-scheduled run to claim")
		}
		c := rs[i]
		claimedID = c.GetId()
		c.State = &orionv1.State{Id: "claimed", Type: orchestration.Pending, Name: "Pending", Timestamp: timestamppb.New(tx.Now())}
		return tx.PutFlowRun(c)
	})
	kept := func(when string) {
		t.Helper()
		var ids []string
		for _, r := range e.runs(dep.GetId()) {
			ids = append(ids, r.GetId())
		}
		if !slices.Contains(ids, manualID) || !slices.Contains(ids, claimedID) {
			t.Fatalf("%s: manual or claimed run deleted", when)
		}
	}

	// Editing the schedule replaces the unstarted auto-scheduled runs.
	dep = e.upsert(cron("*/5 * * * *"))
	kept("after edit")
	if n := len(e.runs(dep.GetId())); n != 2 {
		t.Fatalf("%d runs right after the edit, want the manual and the claimed one", n)
	}
	e.pass(s)
	onGrid := 0 // 00:05 ... 01:05; the claimed run keeps its date if it is one
	for _, r := range e.runs(dep.GetId()) {
		switch {
		case !r.GetAutoScheduled():
		case r.GetExpectedStartTime().AsTime().Minute()%5 == 0:
			onGrid++
		case r.GetId() != claimedID:
			t.Fatalf("run of the old schedule at %s survived", r.GetExpectedStartTime().AsTime())
		}
	}
	if onGrid != 13 {
		t.Fatalf("%d auto-scheduled runs on the new grid, want 13", onGrid)
	}

	// Pausing deletes them; a redeploy does not resume; resuming refills.
	e.update(func(tx store.Tx) error { _, err := deployments.SetScheduleActive(tx, dep.GetId(), false); return err })
	if n := len(e.runs(dep.GetId())); n != 2 {
		t.Fatalf("%d runs after pause, want 2", n)
	}
	dep = e.upsert(cron("*/5 * * * *"))
	if dep.GetIsScheduleActive() {
		t.Fatal("a redeploy re-activated a paused schedule")
	}
	if got := e.pass(s); got.Created != 0 {
		t.Fatalf("paused schedule created %d runs", got.Created)
	}
	e.update(func(tx store.Tx) error { _, err := deployments.SetScheduleActive(tx, dep.GetId(), true); return err })
	if got := e.pass(s); got.Created < 12 {
		t.Fatalf("resumed schedule created %d runs, want 12 or 13", got.Created)
	}

	e.update(func(tx store.Tx) error { _, err := deployments.Delete(tx, dep.GetId()); return err })
	kept("after delete")
	if n := len(e.runs(dep.GetId())); n != 2 {
		t.Fatalf("%d runs after delete, want 2", n)
	}
}

func TestScheduler_IntervalAnchorAndBackfill(t *testing.T) {
	e := newEnv(t, t0)
	every := func(d time.Duration) *orionv1.Schedule {
		return &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(d)}}}
	}
	dep := e.upsert(every(time.Hour))
	anchor := dep.GetSchedule().GetInterval().GetAnchorDate().AsTime()
	if !anchor.Equal(t0) {
		t.Fatalf("anchor = %s, want creation time %s", anchor, t0)
	}
	e.pass(e.scheduler())
	e.clock.Advance(17 * time.Minute)
	if got := e.upsert(every(time.Hour)); !got.GetSchedule().GetInterval().GetAnchorDate().AsTime().Equal(t0) || got.GetScheduleWatermark() == nil {
		t.Fatalf("redeploy changed the anchor or lost the watermark: %v", got.GetSchedule())
	}
	if got := e.upsert(every(2 * time.Hour)); !got.GetSchedule().GetInterval().GetAnchorDate().AsTime().Equal(e.clock.Now()) {
		t.Fatalf("a new interval kept the old anchor: %v", got.GetSchedule())
	}

	// Backfill the previous day; the second time creates nothing.
	for i, want := range []int{12, 0} {
		var created, existing int
		e.update(func(tx store.Tx) (err error) {
			created, existing, err = scheduler.Backfill(tx, dep.GetId(), t0.Add(-24*time.Hour), t0.Add(-time.Minute))
			return err
		})
		if created != want || created+existing != 12 {
			t.Fatalf("backfill %d: created %d existing %d, want %d created of 12", i, created, existing, want)
		}
	}
	checkUnique(t, e.runs(dep.GetId()))
}

// TestScheduler_PauseKeepsRunsAwaitingRetry: an auto-scheduled run that ran,
// failed and waits in SCHEDULED (AwaitingRetry) for its retry has started,
// so pausing, editing or deleting keeps it (Prefect deletes only runs with
// run_count 0); its never-run siblings go.
func TestScheduler_PauseKeepsRunsAwaitingRetry(t *testing.T) {
	for _, change := range []string{"pause", "edit", "delete"} {
		t.Run(change, func(t *testing.T) {
			e := newEnv(t, t0)
			dep := e.upsert(cron("* * * * *"))
			e.pass(e.scheduler())
			var retryID string
			e.update(func(tx store.Tx) error {
				rs, _, err := tx.ListFlowRuns(store.FlowRunFilter{DeploymentID: dep.GetId()})
				if err != nil {
					return err
				}
				r := rs[0]
				retryID = r.GetId()
				r.RunCount = 1
				r.State = &orionv1.State{Id: "retry", Type: orchestration.Scheduled, Name: orchestration.NameAwaitingRetry,
					Timestamp: timestamppb.New(tx.Now()), ScheduledTime: timestamppb.New(tx.Now().Add(time.Minute))}
				return tx.PutFlowRun(r)
			})
			e.update(func(tx store.Tx) (err error) {
				switch change {
				case "pause":
					_, err = deployments.SetScheduleActive(tx, dep.GetId(), false)
				case "edit":
					_, _, err = deployments.Upsert(tx, &orionv1.Deployment{
						Name: "every", FlowName: "tick", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, Schedule: cron("0 * * * *"),
					})
				case "delete":
					_, err = deployments.Delete(tx, dep.GetId())
				}
				return err
			})
			rs := e.runs(dep.GetId())
			if len(rs) != 1 || rs[0].GetId() != retryID {
				t.Fatalf("after %s: %d runs left, want only the run awaiting its retry (%s)", change, len(rs), retryID)
			}
		})
	}
}

// TestScheduler_RedeployReplacesStaleRuns: a redeploy that changes what the
// runs carry (here the parameters) replaces the unstarted auto-scheduled
// runs with ones carrying the new values; an unchanged redeploy keeps them.
func TestScheduler_RedeployReplacesStaleRuns(t *testing.T) {
	e := newEnv(t, t0)
	deploy := func(greeting string) *orionv1.Deployment {
		var d *orionv1.Deployment
		params, _ := structpb.NewStruct(map[string]any{"greeting": greeting})
		e.update(func(tx store.Tx) (err error) {
			d, _, err = deployments.Upsert(tx, &orionv1.Deployment{
				Name: "every", FlowName: "tick", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"},
				Schedule: cron("*/10 * * * *"), Parameters: params,
			})
			return err
		})
		return d
	}
	greetings := func(depID string) map[string]int {
		out := map[string]int{}
		for _, r := range e.runs(depID) {
			out[r.GetParameters().AsMap()["greeting"].(string)]++
		}
		return out
	}
	dep := deploy("hello")
	s := e.scheduler()
	e.pass(s)
	before := e.runs(dep.GetId())
	if len(before) == 0 {
		t.Fatal("no runs scheduled")
	}

	deploy("hello") // unchanged: the same runs
	if after := e.runs(dep.GetId()); len(after) != len(before) || after[0].GetId() != before[0].GetId() {
		t.Fatalf("an unchanged redeploy replaced the runs: %d → %d", len(before), len(after))
	}

	deploy("bonjour")
	if n := len(e.runs(dep.GetId())); n != 0 {
		t.Fatalf("%d stale runs kept after the parameters changed", n)
	}
	e.pass(s)
	if g := greetings(dep.GetId()); g["hello"] != 0 || g["bonjour"] != len(before) {
		t.Fatalf("runs after the redeploy by greeting: %v, want %d bonjour", g, len(before))
	}
}

// latestStart is the latest expected start time of runs.
func latestStart(runs []*orionv1.FlowRun) time.Time {
	var last time.Time
	for _, r := range runs {
		if at := r.GetExpectedStartTime().AsTime(); at.After(last) {
			last = at
		}
	}
	return last
}

// everyMinute creates n deployments on a 1-minute cron.
func (e *env) everyMinute(n int) []*orionv1.Deployment {
	var deps []*orionv1.Deployment
	for i := range n {
		var d *orionv1.Deployment
		e.update(func(tx store.Tx) (err error) {
			d, _, err = deployments.Upsert(tx, &orionv1.Deployment{
				Name: fmt.Sprintf("d%02d", i), FlowName: "tick", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, Schedule: cron("* * * * *"),
			})
			return err
		})
		deps = append(deps, d)
	}
	return deps
}

// TestScheduler_SpreadStaggersTopUps: with Spread, deployments on the same
// cron do not all get their next run in the same pass — each pass tops up
// a share of them — and every schedule still keeps at least MinTime ahead.
func TestScheduler_SpreadStaggersTopUps(t *testing.T) {
	e := newEnv(t, t0)
	const n = 60
	deps := e.everyMinute(n)
	limits := exactLimits
	limits.Spread = time.Minute
	s := scheduler.New(e.st, scheduler.Config{Now: e.clock.Now, Limits: limits})
	e.pass(s)
	most, total := 0, 0
	for range 18 { // three minutes of 10 s passes
		e.clock.Advance(10 * time.Second)
		st := e.pass(s)
		most, total = max(most, st.Created), total+st.Created
		for _, d := range deps {
			last := latestStart(e.runs(d.GetId()))
			if last.Before(e.clock.Now().Add(time.Hour)) {
				t.Fatalf("deployment %s has runs only until %s, less than an hour ahead of %s", d.GetName(), last, e.clock.Now())
			}
		}
	}
	if total != 3*n {
		t.Fatalf("%d runs created in three minutes, want %d (one a minute each)", total, 3*n)
	}
	if most > n/2 {
		t.Fatalf("one pass created %d of the %d deployments' runs: the top-ups were not spread", most, n)
	}
}

// TestScheduler_SpreadBatchesTopUps: with a Spread of five minutes, a
// deployment on a 1-minute cron is written once per five minutes, at its
// slot, with five runs (not once a minute with one), the deployments'
// slots are spread over the passes, and every schedule still keeps at
// least MinTime ahead.
func TestScheduler_SpreadBatchesTopUps(t *testing.T) {
	e := newEnv(t, t0)
	const n = 60
	deps := e.everyMinute(n)
	limits := exactLimits
	limits.Spread = 5 * time.Minute
	s := scheduler.New(e.st, scheduler.Config{Now: e.clock.Now, Limits: limits})
	e.pass(s)
	counts := map[string]int{}
	for _, d := range deps {
		counts[d.GetId()] = len(e.runs(d.GetId()))
	}
	writes := map[string]int{}
	most, total := 0, 0
	for range 60 { // ten minutes of 10 s passes
		e.clock.Advance(10 * time.Second)
		st := e.pass(s)
		most, total = max(most, st.Created), total+st.Created
		for _, d := range deps {
			rs := e.runs(d.GetId())
			if added := len(rs) - counts[d.GetId()]; added > 0 {
				writes[d.GetId()]++
				if added != 5 {
					t.Fatalf("deployment %s got %d runs at once, want 5 (five minutes of a 1-minute cron)", d.GetName(), added)
				}
			}
			counts[d.GetId()] = len(rs)
			last := latestStart(rs)
			if last.Before(e.clock.Now().Add(time.Hour)) {
				t.Fatalf("deployment %s has runs only until %s, less than an hour ahead of %s", d.GetName(), last, e.clock.Now())
			}
		}
	}
	if total != 10*n {
		t.Fatalf("%d runs created in ten minutes, want %d (one a minute each)", total, 10*n)
	}
	for _, d := range deps {
		if writes[d.GetId()] != 2 {
			t.Fatalf("deployment %s was topped up in %d passes of ten minutes, want 2 (once per Spread)", d.GetName(), writes[d.GetId()])
		}
	}
	if most > n {
		t.Fatalf("one pass created %d runs of the %d of five minutes: the slots were not spread", most, 5*n)
	}
}
