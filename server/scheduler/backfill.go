package scheduler

import (
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// MaxBackfill bounds the dates one backfill may cover.
const MaxBackfill = 1000

// BackfillTag marks the runs a backfill created, beside AutoScheduledTag.
const BackfillTag = "backfill"

// ScheduleOf parses a stored deployment's schedule. Interval schedules
// stored before anchors were filled in are anchored at the deployment's
// creation, so the grid is the same on every pass.
func ScheduleOf(d *orionv1.Deployment) (Schedule, error) {
	return Parse(d.GetSchedule(), d.GetCreateTime().AsTime())
}

// Backfill creates, inside tx, the runs deployment id's schedule has in
// [start, end] (both inclusive), with the scheduler's idempotency keys:
// dates that already have a run (scheduled, backfilled or run) are
// skipped, so a repeated backfill creates nothing. It works whether or not
// the schedule is paused, and returns the runs created and found.
func Backfill(tx store.Tx, id string, start, end time.Time) (created, existing int, err error) {
	if start.IsZero() || end.IsZero() {
		return 0, 0, store.Invalidf("start_time and end_time are both required")
	}
	if end.Before(start) {
		return 0, 0, store.Invalidf("end_time %s is before start_time %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	d, err := tx.Deployment(id)
	if err != nil {
		return 0, 0, err
	}
	if d.GetSchedule().GetKind() == nil {
		return 0, 0, store.Conflictf("deployment %s/%s has no schedule to backfill", d.GetFlowName(), d.GetName())
	}
	sched, err := ScheduleOf(d)
	if err != nil {
		return 0, 0, err
	}
	dates := Between(sched, start, end, MaxBackfill+1)
	if len(dates) > MaxBackfill {
		return 0, 0, store.Invalidf("the window holds more than %d dates; backfill a shorter window", MaxBackfill)
	}
	flow, err := tx.Flow(d.GetFlowId())
	if err != nil {
		return 0, 0, err
	}
	created, err = createRuns(tx, flow, d, dates, BackfillTag)
	return created, len(dates) - created, err
}
