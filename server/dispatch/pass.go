package dispatch

import (
	"context"
	"time"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/infra"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// maxOffersPerPass bounds the work of one pass; the loop comes back at once
// when it was reached.
const maxOffersPerPass = 1000

// plan is what one pass read from the store: the work to do now and the
// earliest time something else becomes due.
type plan struct {
	due     []*orionv1.FlowRun // SCHEDULED, due, dispatchable now
	late    []string           // due runs to rename Late
	expired []string           // held runs whose lease expired
	cut     map[string]bool    // agents lost for longer than ReconnectGrace
	next    time.Time          // earliest future deadline (zero: none)
}

// pass marks late runs, sweeps expired leases, cuts the leases of lost
// agents, offers due runs, and returns when the next pass is needed (zero:
// no known deadline). Every deadline is derived from the store: scheduled
// times, lease expiries and late marks all survive a server restart.
func (d *Dispatcher) pass(ctx context.Context) (time.Time, error) {
	now := d.cfg.Clock()
	lost := d.lostAgents(now)
	var p plan
	err := d.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = d.read(tx, now, lost)
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	for agentID := range p.cut {
		if err := d.cutLeases(ctx, agentID); err != nil {
			d.log.Error("cutting leases of a lost agent failed", "agent_id", agentID, "error", err)
		}
		p.next = now // sweep the cut leases on the next pass, at once
	}
	d.forgetLost(now)
	for _, id := range p.expired {
		if err := d.expireLease(ctx, id); err != nil {
			d.log.Error("lease expiry failed", "flow_run_id", id, "error", err)
		}
	}
	for _, id := range p.late {
		if err := d.markLate(ctx, id); err != nil {
			d.log.Error("marking a run late failed", "flow_run_id", id, "error", err)
		}
	}
	if retry := d.offerAll(p.due, now); !retry.IsZero() {
		p.next = earliest(p.next, retry)
	}
	if len(p.due) >= maxOffersPerPass {
		p.next = now
	}
	return p.next, nil
}

// read gathers a pass's plan in one read transaction. lost maps each agent
// whose stream ended to the time its grace period ends.
func (d *Dispatcher) read(tx store.Tx, now time.Time, lost map[string]time.Time) (plan, error) {
	p := plan{cut: map[string]bool{}}
	taken := newSlots(tx)
	admissions := map[string]admission{}
	horizon := now.Add(24 * time.Hour)
	var scanErr error
	err := tx.RunsByState(orchestration.Scheduled, horizon, func(r *orionv1.FlowRun) bool {
		t := store.StateTimeKey(r)
		if t.After(now) {
			p.next = earliest(p.next, t)
			return false
		}
		if r.GetDeploymentId() == "" {
			return true
		}
		if r.GetState().GetName() != orchestration.NameLate {
			if lateAt := t.Add(d.cfg.LateAfter); !lateAt.After(now) {
				p.late = append(p.late, r.GetId())
			} else {
				p.next = earliest(p.next, lateAt)
			}
		}
		key := r.GetWorkQueueName() + "\x00" + r.GetDeploymentId()
		a, ok := admissions[key]
		if !ok {
			if a, scanErr = loadAdmission(tx, r); scanErr != nil {
				return false
			}
			admissions[key] = a
		}
		reason, err := a.refuse(r, taken)
		if err != nil {
			scanErr = err
			return false
		}
		if reason != "" {
			return true // stays SCHEDULED; a freed slot wakes the loop
		}
		if scanErr = a.take(r, taken); scanErr != nil {
			return false
		}
		p.due = append(p.due, r)
		return len(p.due) < maxOffersPerPass
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return p, err
	}
	// Leases, from the by-state index alone (held runs are ordered by lease
	// expiry there): the expired ones, then the next expiry.
	for _, t := range heldTypes {
		err := tx.RunIDsByState(t, store.NoLease.Add(-time.Nanosecond), func(id string, at time.Time) bool {
			if !at.After(now) {
				p.expired = append(p.expired, id)
				return true
			}
			p.next = earliest(p.next, at)
			return false
		})
		if err != nil {
			return p, err
		}
	}
	// Agents whose stream ended: once their grace is over, their leases are
	// cut short, if they hold anything.
	for agentID, until := range lost {
		held, err := tx.HeldCount(store.HeldByAgent, agentID)
		if err != nil {
			return p, err
		}
		switch {
		case held == 0:
		case until.After(now):
			p.next = earliest(p.next, until)
		default:
			p.cut[agentID] = true
		}
	}
	return p, nil
}

// lostAgents returns, for every agent whose last stream ended and that has
// not reopened one, the end of its reconnect grace period.
func (d *Dispatcher) lostAgents(now time.Time) map[string]time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]time.Time, len(d.lost))
	for id, at := range d.lost {
		if _, live := d.sessions[id]; live {
			delete(d.lost, id)
			continue
		}
		out[id] = at.Add(d.cfg.ReconnectGrace)
	}
	return out
}

// forgetLost drops the agents whose grace period ended: their leases were
// cut (or they held nothing).
func (d *Dispatcher) forgetLost(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, at := range d.lost {
		if !at.Add(d.cfg.ReconnectGrace).After(now) {
			delete(d.lost, id)
		}
	}
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

// offerAll offers each due run to one connected agent of its queue and
// returns when an unclaimed offer should be repeated. due holds only runs
// the pass found dispatchable (queue not paused, tags match, a slot free).
func (d *Dispatcher) offerAll(due []*orionv1.FlowRun, now time.Time) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	live := make(map[string]bool, len(due))
	var retry time.Time
	for _, r := range due {
		live[r.GetId()] = true
		if last, ok := d.offered[r.GetId()]; ok && now.Sub(last.at) < d.cfg.ReofferInterval {
			retry = earliest(retry, last.at.Add(d.cfg.ReofferInterval))
			continue
		}
		s := d.pickSession(r.GetWorkQueueName(), infraType(r), d.offered[r.GetId()].agentID)
		if s == nil {
			continue
		}
		msg := &agentv1.StreamWorkResponse{Event: &agentv1.StreamWorkResponse_Offer{Offer: &agentv1.WorkOffer{FlowRun: offered(r)}}}
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

// pickSession chooses an agent serving queue that can run infrastructure
// typ, preferring one other than the agent the run was last offered to (so
// a stuck agent does not starve it). The caller holds d.mu.
func (d *Dispatcher) pickSession(queue, typ, avoid string) *session {
	var fallback, best *session
	bestLoad := -1
	for _, s := range d.sessions {
		if !s.queues[queue] || (s.infra != nil && !s.infra[typ]) {
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

// offered is what an offer carries of a run: who it is and when it is due,
// not its parameters or settings (the claim returns the whole run). An
// offer is encoded for every due run and decoded by an agent that may not
// win it.
func offered(r *orionv1.FlowRun) *orionv1.FlowRun {
	o := &orionv1.FlowRun{
		Id: r.GetId(), Name: r.GetName(), FlowName: r.GetFlowName(), DeploymentId: r.GetDeploymentId(),
		WorkQueueName: r.GetWorkQueueName(), Tags: r.GetTags(), RunCount: r.GetRunCount(),
		ExpectedStartTime: r.GetExpectedStartTime(), NextScheduledStartTime: r.GetNextScheduledStartTime(),
	}
	if st := r.GetState(); st != nil {
		o.State = &orionv1.State{Id: st.GetId(), Type: st.GetType(), Name: st.GetName(), Timestamp: st.GetTimestamp()}
	}
	if t := r.GetInfrastructure().GetType(); t != "" {
		o.Infrastructure = &orionv1.Infrastructure{Type: t}
	}
	return o
}

// infraType is the infrastructure type a run needs, normalized
// ("subprocess" when the run names none).
func infraType(r *orionv1.FlowRun) string {
	return infra.NormalizeType(r.GetInfrastructure().GetType())
}
