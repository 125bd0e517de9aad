package scheduler

import (
	"errors"
	"math"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/runs"
	"github.com/orion-run/orion/server/store"
)

// AutoScheduledTag is the tag of every run the scheduler creates.
const AutoScheduledTag = "auto-scheduled"

// IdempotencyKey is the key of the run a deployment's schedule has at date,
// Prefect's "scheduled <deployment_id> <date>" with the date in RFC 3339
// UTC. The store keeps keys unique per flow, so a date never gets two runs
// however often, concurrently or after however many restarts it is
// scheduled. A schedule edit deletes the old schedule's unstarted runs in
// the same transaction, so the key needs no schedule id.
func IdempotencyKey(deploymentID string, date time.Time) string {
	return "scheduled " + deploymentID + " " + date.UTC().Format(time.RFC3339Nano)
}

// createRuns creates dep's runs at dates inside tx through the ordinary run
// creation path, in SCHEDULED at each date, auto_scheduled and tagged. It
// returns how many were new (the others already existed).
func createRuns(tx store.Tx, flow *orionv1.Flow, dep *orionv1.Deployment, dates []time.Time, extraTags ...string) (int, error) {
	created := 0
	tags := append([]string{AutoScheduledTag}, extraTags...)
	for _, d := range dates {
		at := timestamppb.New(d)
		_, isNew, err := runs.Create(tx, runs.Request{
			Flow:           flow,
			Deployment:     dep,
			Tags:           tags,
			IdempotencyKey: IdempotencyKey(dep.GetId(), d),
			State:          &orionv1.StateProposal{Type: orchestration.Scheduled, ScheduledTime: at},
			ScheduledTime:  at,
			AutoScheduled:  true,
		})
		if err != nil {
			return created, err
		}
		if isNew {
			created++
		}
	}
	return created, nil
}

// DeleteAutoScheduled deletes dep's auto-scheduled runs that have not
// started (still SCHEDULED and never run) inside tx. Manual runs, runs an
// agent has claimed and runs that already ran and wait in SCHEDULED for a
// retry (AwaitingRetry, run_count > 0, as Prefect keeps them) are kept.
// Because it runs in the caller's transaction and the
// scheduler re-checks the deployment in its own before writing, no run of
// an old schedule can appear after the edit that removed it.
func DeleteAutoScheduled(tx store.Tx, deploymentID string) (int, error) {
	// The deployment's SCHEDULED runs, from their index (auto-scheduled
	// runs always carry their scheduled time).
	runs, _, err := tx.ScheduledRuns(deploymentID, time.Time{}, math.MaxInt)
	if err != nil {
		return 0, err
	}
	var doomed []string
	for _, r := range runs {
		if r.GetAutoScheduled() && r.GetRunCount() == 0 {
			doomed = append(doomed, r.GetId())
		}
	}
	for _, id := range doomed {
		if err := tx.DeleteFlowRun(id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
	}
	return len(doomed), nil
}

// PrepareUpsert runs inside the transaction that stores d over old (nil
// for a new deployment), before d is written. It anchors an interval
// schedule that has none: at the stored anchor when the schedule is
// otherwise unchanged (a redeploy keeps its grid), else at now. An
// unchanged deployment keeps its watermark and its runs; any change the
// runs would carry clears the watermark and deletes the unstarted
// auto-scheduled runs, which the scheduler then creates anew.
func PrepareUpsert(tx store.Tx, old, d *orionv1.Deployment) error {
	if iv := d.GetSchedule().GetInterval(); iv != nil && iv.GetAnchorDate() == nil {
		if oldIv := old.GetSchedule().GetInterval(); oldIv.GetAnchorDate() != nil {
			candidate := proto.Clone(iv).(*orionv1.IntervalSchedule)
			candidate.AnchorDate = oldIv.GetAnchorDate()
			if proto.Equal(candidate, oldIv) {
				iv.AnchorDate = oldIv.GetAnchorDate()
			}
		}
		if iv.AnchorDate == nil {
			iv.AnchorDate = timestamppb.New(tx.Now())
		}
	}
	d.ScheduleWatermark = nil
	if old == nil {
		return nil
	}
	if sameRuns(old, d) {
		d.ScheduleWatermark = old.GetScheduleWatermark()
		return nil
	}
	_, err := DeleteAutoScheduled(tx, old.GetId())
	return err
}

// sameRuns reports whether the scheduler would create the same runs from d
// as from old: everything but identity, timestamps, the watermark, the
// pause state and the description is equal. A redeploy that changes
// anything else (parameters, tags, work queue, infrastructure, retries,
// the flow's source) replaces the unstarted auto-scheduled runs, as
// Prefect does on every upsert, so none runs with stale settings; an
// unchanged redeploy keeps them.
func sameRuns(old, d *orionv1.Deployment) bool {
	strip := func(x *orionv1.Deployment) *orionv1.Deployment {
		c := proto.Clone(x).(*orionv1.Deployment)
		c.Id, c.CreateTime, c.UpdateTime, c.ScheduleWatermark = "", nil, nil, nil
		c.IsScheduleActive, c.Description = false, ""
		return c
	}
	return proto.Equal(strip(old), strip(d))
}

// SetActive pauses (false) or resumes (true) d's schedule inside tx and
// stores d. Pausing deletes the unstarted auto-scheduled runs; both clear
// the watermark, so a resumed schedule starts again from now.
func SetActive(tx store.Tx, d *orionv1.Deployment, active bool) error {
	if !active {
		if _, err := DeleteAutoScheduled(tx, d.GetId()); err != nil {
			return err
		}
	}
	if d.GetIsScheduleActive() != active {
		d.ScheduleWatermark = nil
	}
	d.IsScheduleActive = active
	d.UpdateTime = timestamppb.New(tx.Now())
	return tx.PutDeployment(d)
}
