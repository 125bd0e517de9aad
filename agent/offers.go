package agent

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/client"
)

// maxBacklog bounds the offers remembered while the agent is at its limit.
// Past it, offers are dropped and the stream is reopened once a slot frees,
// which makes the server offer every due run again.
const maxBacklog = 256

// claimAttempts bounds retries of one claim on transient errors (with the
// same transition id, so a retry cannot claim twice).
const claimAttempts = 5

// claimState is a claim in flight.
type claimState struct {
	// cancel is a cancel request that arrived before the claim's answer.
	cancel *agentv1.CancelRequest
	// abandoned is closed when the agent stops waiting for this claim (it
	// is shutting down); a claim waiting out a WAIT gives up.
	abandoned chan struct{}
}

func (c *claimState) abandon() {
	select {
	case <-c.abandoned:
	default:
		close(c.abandoned)
	}
}

// backlog remembers offers deferred because the agent was at its limit, in
// arrival order, without duplicates.
type backlog struct {
	order      []*orionv1.FlowRun
	ids        map[string]bool
	overflowed bool
}

func (b *backlog) add(run *orionv1.FlowRun) {
	if b.ids == nil {
		b.ids = make(map[string]bool)
	}
	if b.ids[run.GetId()] {
		return
	}
	if len(b.order) >= maxBacklog {
		b.overflowed = true
		return
	}
	b.ids[run.GetId()] = true
	b.order = append(b.order, run)
}

func (b *backlog) pop() *orionv1.FlowRun {
	if len(b.order) == 0 {
		return nil
	}
	run := b.order[0]
	b.order[0] = nil
	b.order = b.order[1:]
	delete(b.ids, run.GetId())
	return run
}

func (b *backlog) clear() { *b = backlog{} }

// atLimitLocked reports whether the agent holds or is claiming Limit runs.
func (a *Agent) atLimitLocked() bool {
	return a.cfg.Limit > 0 && len(a.held)+len(a.claiming) >= a.cfg.Limit
}

// offer handles a WorkOffer: duplicates of runs held or being claimed are
// ignored (the server may offer a run again), offers past the limit wait in
// the backlog, the rest are claimed.
func (a *Agent) offer(run *orionv1.FlowRun) {
	id := run.GetId()
	if id == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.draining:
		return
	case a.held[id] != nil || a.claiming[id] != nil:
		a.logger.Debug("offer for a run already held or being claimed ignored", "flow_run_id", id)
		return
	case a.atLimitLocked():
		a.logger.Debug("at the concurrency limit; offer deferred", "flow_run_id", id, "limit", a.cfg.Limit)
		a.backlog.add(run)
		return
	}
	a.startClaimLocked(run)
}

func (a *Agent) startClaimLocked(run *orionv1.FlowRun) {
	c := &claimState{abandoned: make(chan struct{})}
	a.claiming[run.GetId()] = c
	a.runs.Go(func() { a.claim(run.GetId(), c) })
}

// fillSlotsLocked claims deferred offers while there is room. When offers
// were dropped from a full backlog and it has emptied, it reopens the stream
// so the server offers every due run again.
func (a *Agent) fillSlotsLocked() {
	for !a.draining && !a.atLimitLocked() {
		run := a.backlog.pop()
		if run == nil {
			break
		}
		if a.held[run.GetId()] != nil || a.claiming[run.GetId()] != nil {
			continue
		}
		a.startClaimLocked(run)
	}
	if !a.draining && a.backlog.overflowed && len(a.backlog.order) == 0 && !a.atLimitLocked() {
		a.backlog.overflowed = false
		if a.streamCancel != nil {
			a.streamCancel()
		}
	}
}

// claim asks the server for the run. ACCEPT starts supervising it; ABORT
// (another agent won, or the run is no longer claimable) drops it quietly;
// WAIT waits out the delay and claims again.
func (a *Agent) claim(id string, c *claimState) {
	log := a.logger.With("flow_run_id", id)
	resp := a.claimUntilDecided(log, id, c)

	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.claiming, id)
	defer a.fillSlotsLocked()
	if resp == nil {
		return
	}
	h := newHeldRun(resp.GetFlowRun(), resp.GetDeployment(), resp.GetLease().GetEpoch())
	if h.run.GetId() == "" {
		h.run.Id = id
	}
	h.id = id
	a.held[id] = h
	log.Debug("flow run claimed", "lease_epoch", h.epoch, "flow_run_name", h.run.GetName())
	if c.cancel != nil && (c.cancel.GetLeaseEpoch() == 0 || c.cancel.GetLeaseEpoch() == h.epoch) {
		h.stop.stop(stopCancel, c.cancel.GetMessage())
	}
	a.runs.Go(func() { a.supervise(h) })
}

// claimUntilDecided returns the accepted claim, or nil when the run is not
// ours to run.
func (a *Agent) claimUntilDecided(log hclog.Logger, id string, c *claimState) *agentv1.ClaimFlowRunResponse {
	for {
		resp, err := a.claimOnce(log, id, c)
		if err != nil {
			if client.IsNotFound(err) {
				// The run was deleted, or the server lost our registration
				// (the next heartbeat notices and registers again).
				log.Debug("claim refused: run or agent unknown", "error", err)
			} else {
				log.Warn("claim failed", "error", err)
			}
			return nil
		}
		res := resp.GetResult()
		switch res.GetStatus() {
		case orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT:
			if resp.GetLease() == nil {
				log.Error("claim accepted without a lease; dropping the run")
				return nil
			}
			return resp
		case orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_WAIT:
			delay := max(res.GetDelay().AsDuration(), 10*time.Millisecond)
			log.Debug("claim deferred by the server", "delay", delay, "reason", res.GetReason())
			select {
			case <-a.cfg.After(delay):
			case <-c.abandoned:
				return nil
			case <-a.life.Done():
				return nil
			}
		default:
			log.Debug("claim not granted", "status", res.GetStatus().String(), "reason", res.GetReason())
			return nil
		}
	}
}

// claimOnce makes one claim, retrying transient failures with the same
// transition id (the server returns the first answer to a repeat).
func (a *Agent) claimOnce(log hclog.Logger, id string, c *claimState) (*agentv1.ClaimFlowRunResponse, error) {
	req := &agentv1.ClaimFlowRunRequest{AgentId: a.sess.agentID(), FlowRunId: id, TransitionId: uuid.NewString()}
	bo := newBackoff(100*time.Millisecond, 2*time.Second)
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(a.life, rpcTimeout)
		resp, err := a.calls.claim(ctx, req)
		cancel()
		if err == nil || !retryable(err) || attempt == claimAttempts {
			return resp, err
		}
		log.Debug("claim failed; retrying", "error", err, "attempt", attempt)
		select {
		case <-a.cfg.After(bo.next()):
		case <-c.abandoned:
			return nil, err
		case <-a.life.Done():
			return nil, err
		}
	}
}

// cancelRun handles a CancelRequest (from the stream or a heartbeat).
func (a *Agent) cancelRun(req *agentv1.CancelRequest) {
	id := req.GetFlowRunId()
	a.mu.Lock()
	if h := a.held[id]; h != nil {
		a.mu.Unlock()
		if req.GetLeaseEpoch() != 0 && req.GetLeaseEpoch() != h.epoch {
			a.logger.Debug("cancel for another lease epoch ignored", "flow_run_id", id, "lease_epoch", req.GetLeaseEpoch())
			return
		}
		a.logger.Info("cancelling flow run", "flow_run_id", id, "lease_epoch", h.epoch)
		h.stop.stop(stopCancel, req.GetMessage())
		return
	}
	if c := a.claiming[id]; c != nil {
		c.cancel = req
		a.mu.Unlock()
		return
	}
	draining := a.draining
	a.mu.Unlock()
	if draining || req.GetLeaseEpoch() == 0 {
		return
	}
	// Not running here (any more): nothing to stop, so tell the server the
	// run is cancelled. A stale epoch makes this a harmless ABORTED.
	a.bg.Go(func() {
		rep := a.leaseReporter(id, req.GetLeaseEpoch())
		_, _, err := proposeState(a.life, a.cfg.After, rep, cancelledState(), "", nil, nil)
		a.logger.Debug("cancel for a run not held here answered", "flow_run_id", id, "error", err)
	})
}
