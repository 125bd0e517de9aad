package dispatch

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// cutLeases ends, now, the leases of every run held by an agent whose stream
// ended and did not come back within ReconnectGrace (its process most likely
// died). The next pass sweeps them like any expired lease. An agent that
// reconnects later finds its runs lost through its heartbeat.
func (d *Dispatcher) cutLeases(ctx context.Context, agentID string) error {
	d.mu.Lock()
	_, live := d.sessions[agentID]
	d.mu.Unlock()
	if live {
		return nil // it came back after all
	}
	var cut int
	err := d.store.Update(ctx, func(tx store.Tx) error {
		now := timestamppb.New(tx.Now())
		var runs []*orionv1.FlowRun
		for _, t := range heldTypes {
			err := tx.RunsByState(t, store.NoLease.Add(-time.Nanosecond), func(r *orionv1.FlowRun) bool { // every run with a lease
				if r.GetAgentId() == agentID && r.GetLeaseExpireTime() != nil && r.GetLeaseExpireTime().AsTime().After(now.AsTime()) {
					runs = append(runs, r)
				}
				return true
			})
			if err != nil {
				return err
			}
		}
		for _, r := range runs {
			r.LeaseExpireTime = now
			if err := tx.PutFlowRun(r); err != nil {
				return err
			}
		}
		cut = len(runs)
		return nil
	})
	if err == nil && cut > 0 {
		d.log.Warn("agent stream lost; leases cut short", "agent_id", agentID, "runs", cut, "grace", d.cfg.ReconnectGrace)
	}
	return err
}

// expireLease handles a run whose agent stopped renewing its lease. The new
// state goes through the orchestration rules, so a CRASHED run with retries
// left becomes AwaitingRetry.
func (d *Dispatcher) expireLease(ctx context.Context, runID string) error {
	var to string
	var toType orionv1.StateType
	err := d.store.Update(ctx, func(tx store.Tx) error {
		to = ""
		run, err := tx.FlowRun(runID)
		if err != nil {
			return err
		}
		now := tx.Now()
		exp := run.GetLeaseExpireTime()
		if exp == nil || exp.AsTime().After(now) || !orchestration.IsHeld(run.GetState().GetType()) {
			return nil // renewed or finished since the pass looked
		}
		agent := agentLabel(tx, run.GetAgentId())
		var p *orionv1.StateProposal
		switch run.GetState().GetType() {
		case orchestration.Pending:
			if run.GetDeliveryCount() >= d.cfg.MaxDeliveries {
				p = &orionv1.StateProposal{Type: orchestration.Crashed, Message: fmt.Sprintf("Flow run was claimed %d times and never started; the last agent (%s) lost its lease.", run.GetDeliveryCount(), agent)}
			} else {
				p = &orionv1.StateProposal{Type: orchestration.Scheduled, ScheduledTime: timestamppb.New(now), Message: fmt.Sprintf("Agent %s lost its lease before starting the run; rescheduled.", agent)}
			}
		case orchestration.Cancelling:
			p = &orionv1.StateProposal{Type: orchestration.Cancelled, Message: fmt.Sprintf("Agent %s lost its lease while cancelling; the run is considered cancelled.", agent)}
		default:
			p = &orionv1.StateProposal{Type: orchestration.Crashed, Message: fmt.Sprintf("Agent %s was lost (no heartbeat or stream); the flow run's infrastructure is presumed lost.", agent)}
		}
		res, run, err := orchestration.Transition(tx, orchestration.Proposal{RunID: runID, Run: run, State: p})
		if err != nil {
			return err
		}
		if res.GetStatus() == orchestration.Abort || res.GetStatus() == orchestration.Wait {
			// Cannot happen for the proposals above; never leave a dead
			// lease behind if it does.
			return fmt.Errorf("lease expiry of run %s refused: %s", runID, res.GetReason())
		}
		to, toType = run.GetState().GetName(), run.GetState().GetType()
		return nil
	})
	if err == nil && to != "" {
		d.log.Warn("lease expired", "flow_run_id", runID, "to_state", to)
		d.cfg.Observer.LeaseExpired(toType)
	}
	return err
}

// markLate renames a SCHEDULED run that has not started LateAfter after its
// scheduled time to Late (type stays SCHEDULED; it stays claimable).
func (d *Dispatcher) markLate(ctx context.Context, runID string) error {
	return d.store.Update(ctx, func(tx store.Tx) error {
		run, err := tx.FlowRun(runID)
		if err != nil {
			return err
		}
		due := run.GetNextScheduledStartTime()
		if run.GetState().GetType() != orchestration.Scheduled || run.GetState().GetName() == orchestration.NameLate ||
			due == nil || due.AsTime().Add(d.cfg.LateAfter).After(tx.Now()) {
			return nil // claimed, rescheduled or already late since the pass looked
		}
		_, _, err = orchestration.Transition(tx, orchestration.Proposal{RunID: runID, Run: run, State: &orionv1.StateProposal{
			Type: orchestration.Scheduled, Name: orchestration.NameLate, ScheduledTime: due, Message: run.GetState().GetMessage(),
		}})
		return err
	})
}

// agentLabel names an agent for messages: "name (id)" when it is known.
func agentLabel(tx store.Tx, id string) string {
	if a, err := tx.Agent(id); err == nil && a.GetName() != "" {
		return fmt.Sprintf("'%s' (%s)", a.GetName(), id)
	}
	return id
}
