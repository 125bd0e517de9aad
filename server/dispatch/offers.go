package dispatch

import (
	"time"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

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
