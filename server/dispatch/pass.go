package dispatch

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// maxOffersPerPass bounds the work of one pass; the loop comes back at once
// when it was reached.
const maxOffersPerPass = 1000

// pass offers due runs, sweeps expired leases, and returns when the next
// pass is needed (zero: no known deadline).
func (d *Dispatcher) pass(ctx context.Context) (time.Time, error) {
	now := d.cfg.Clock()
	var due []*orionv1.FlowRun
	var nextDue time.Time
	var expired []string
	var nextExpiry time.Time
	paused := map[string]bool{}
	err := d.store.View(ctx, func(tx store.Tx) error {
		queues, err := tx.ListWorkQueues()
		if err != nil {
			return err
		}
		for _, q := range queues {
			paused[q.GetName()] = q.GetIsPaused()
		}
		horizon := now.Add(24 * time.Hour)
		err = tx.RunsByState(orchestration.Scheduled, horizon, func(r *orionv1.FlowRun) bool {
			if t := store.StateTimeKey(r); t.After(now) {
				nextDue = t
				return false
			}
			if r.GetDeploymentId() != "" {
				due = append(due, r)
			}
			return len(due) < maxOffersPerPass
		})
		if err != nil {
			return err
		}
		for _, t := range []orionv1.StateType{orchestration.Pending, orchestration.Running, orchestration.Cancelling} {
			err := tx.RunsByState(t, horizon, func(r *orionv1.FlowRun) bool {
				exp := r.GetLeaseExpireTime()
				if exp == nil {
					return true // a run without a lease (e.g. `deployment execute`) is not swept
				}
				if exp.AsTime().After(now) {
					if nextExpiry.IsZero() || exp.AsTime().Before(nextExpiry) {
						nextExpiry = exp.AsTime()
					}
					return false
				}
				expired = append(expired, r.GetId())
				return true
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	for _, id := range expired {
		if err := d.expireLease(ctx, id); err != nil {
			d.log.Error("lease expiry failed", "flow_run_id", id, "error", err)
		}
	}
	next := earliest(nextDue, nextExpiry)
	if retry := d.offerAll(due, paused, now); !retry.IsZero() {
		next = earliest(next, retry)
	}
	if len(due) >= maxOffersPerPass {
		next = now
	}
	return next, nil
}

// offerAll offers each due run to one connected agent of its queue and
// returns when an unclaimed offer should be repeated.
func (d *Dispatcher) offerAll(due []*orionv1.FlowRun, paused map[string]bool, now time.Time) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	live := make(map[string]bool, len(due))
	var retry time.Time
	for _, r := range due {
		live[r.GetId()] = true
		if paused[r.GetWorkQueueName()] {
			continue
		}
		if last, ok := d.offered[r.GetId()]; ok && now.Sub(last.at) < d.cfg.ReofferInterval {
			retry = earliest(retry, last.at.Add(d.cfg.ReofferInterval))
			continue
		}
		s := d.pickSession(r.GetWorkQueueName(), d.offered[r.GetId()].agentID)
		if s == nil {
			continue
		}
		msg := &agentv1.StreamWorkResponse{Event: &agentv1.StreamWorkResponse_Offer{Offer: &agentv1.WorkOffer{FlowRun: r}}}
		select {
		case s.out <- msg:
			d.offered[r.GetId()] = offer{agentID: s.agentID, at: now}
			retry = earliest(retry, now.Add(d.cfg.ReofferInterval))
		default:
			d.log.Warn("agent stream is full; offer deferred", "agent_id", s.agentID, "flow_run_id", r.GetId())
		}
	}
	// Forget offers of runs that are no longer due (claimed, cancelled...).
	for id := range d.offered {
		if !live[id] {
			delete(d.offered, id)
		}
	}
	return retry
}

// pickSession chooses an agent serving queue, preferring one other than the
// agent the run was last offered to (so a stuck agent does not starve it).
// The caller holds d.mu.
func (d *Dispatcher) pickSession(queue, avoid string) *session {
	var fallback, best *session
	bestLoad := -1
	for _, s := range d.sessions {
		if !s.queues[queue] {
			continue
		}
		if s.agentID == avoid {
			fallback = s
			continue
		}
		if load := len(s.out); best == nil || load < bestLoad {
			best, bestLoad = s, load
		}
	}
	if best == nil {
		return fallback
	}
	return best
}

// expireLease handles a run whose agent stopped renewing its lease.
func (d *Dispatcher) expireLease(ctx context.Context, runID string) error {
	return d.store.Update(ctx, func(tx store.Tx) error {
		run, err := tx.FlowRun(runID)
		if err != nil {
			return err
		}
		now := tx.Now()
		exp := run.GetLeaseExpireTime()
		if exp == nil || exp.AsTime().After(now) || !orchestration.IsHeld(run.GetState().GetType()) {
			return nil // renewed or finished since the pass looked
		}
		agent := run.GetAgentId()
		var s *orionv1.State
		switch run.GetState().GetType() {
		case orchestration.Pending:
			if run.GetDeliveryCount() >= d.cfg.MaxDeliveries {
				s = &orionv1.State{Type: orchestration.Crashed, Message: fmt.Sprintf("Flow run was claimed %d times and never started; the last agent (%s) lost its lease.", run.GetDeliveryCount(), agent)}
			} else {
				s = &orionv1.State{Type: orchestration.Scheduled, ScheduledTime: timestamppb.New(now), Message: fmt.Sprintf("Agent %s lost its lease before starting the run; rescheduled.", agent)}
			}
		case orchestration.Cancelling:
			s = &orionv1.State{Type: orchestration.Cancelled, Message: fmt.Sprintf("Agent %s lost its lease while cancelling; the run is considered cancelled.", agent)}
		default:
			s = &orionv1.State{Type: orchestration.Crashed, Message: fmt.Sprintf("Agent %s stopped heartbeating; the flow run's infrastructure is presumed lost.", agent)}
		}
		s.Name = orchestration.DefaultName(s.Type)
		s.Timestamp = timestamppb.New(now)
		d.log.Warn("lease expired", "flow_run_id", runID, "agent_id", agent, "to_state", s.Name)
		return orchestration.Write(tx, run, s, nil)
	})
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}
