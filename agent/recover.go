package agent

import (
	"errors"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/localstate"
	"github.com/orion-run/orion/agent/runner"
)

// Messages of the states reported for runs left by a previous agent
// process.
const (
	msgRestartedInFlight = "Agent restarted while the run was in flight"
	msgRestartedStopped  = "Agent restarted; the run's process was stopped"
)

// holdLeftovers takes over the runs recorded by the previous agent process:
// they are held (so heartbeats keep their leases and offers for them are
// ignored) while they are cleaned up in the background.
func (a *Agent) holdLeftovers(recs []localstate.Run) {
	if len(recs) == 0 {
		return
	}
	a.logger.Info("cleaning up runs left by the previous agent process", "count", len(recs))
	hs := make([]*heldRun, len(recs))
	a.mu.Lock()
	for i, rec := range recs {
		hs[i] = newHeldRun(&orionv1.FlowRun{Id: rec.FlowRunID}, nil, rec.Epoch)
		a.held[rec.FlowRunID] = hs[i]
	}
	a.mu.Unlock()
	a.runs.Go(func() {
		var wg sync.WaitGroup
		for i := range recs {
			wg.Go(func() { a.recoverRun(recs[i], hs[i]) })
		}
		wg.Wait()
	})
}

// recoverRun stops what is left of one run and reports it: its undelivered
// final state when one was recorded, else CRASHED.
func (a *Agent) recoverRun(rec localstate.Run, h *heldRun) {
	defer a.release(h)
	log := a.logger.With("flow_run_id", rec.FlowRunID, "lease_epoch", rec.Epoch)

	var p *orionv1.StateProposal
	if rec.PendingState != nil {
		p = proposalOf(rec.PendingState)
	}
	if p == nil {
		p = crashedState(msgRestartedInFlight)
		if rec.HandleID != "" && a.stopLeftover(log, rec) {
			p = crashedState(msgRestartedStopped)
		}
	}
	switch reason, _ := h.stop.why(); reason {
	case stopLost:
		p = nil
	case stopCancel:
		p = cancelledState()
	}
	if p != nil {
		_, _, err := proposeState(a.life, a.cfg.After, a.leaseReporter(rec.FlowRunID, rec.Epoch), p, rec.PID, nil)
		if !settledBy(err) {
			log.Warn("cannot report the leftover run; will retry after the next restart", "error", err)
			return
		}
		log.Info("leftover run reported", "state", p.GetType().String(), "message", p.GetMessage(), "error", err)
	}
	if err := a.state.DeleteRun(rec.FlowRunID); err != nil {
		log.Warn("cannot remove the run from the local state", "error", err)
	}
	if rec.Workdir != "" {
		_ = os.RemoveAll(rec.Workdir)
	}
}

// stopLeftover stops the infrastructure of a leftover run if it still runs
// and reports whether it did.
func (a *Agent) stopLeftover(log hclog.Logger, rec localstate.Run) bool {
	hd := runner.Handle{Type: rec.InfrastructureType, ID: rec.HandleID, Data: rec.HandleData}
	rn, err := a.cfg.Runners.Get(hd.Type)
	if err != nil {
		log.Warn("cannot check the leftover run's infrastructure", "error", err)
		return false
	}
	if err := rn.Recover(a.life, hd); err != nil {
		if !errors.Is(err, runner.ErrNotRunning) {
			log.Warn("cannot find the leftover run's infrastructure", "error", err)
		}
		return false
	}
	defer runner.Release(rn, hd)
	// Seam for reattaching: a runner whose recovered handles can be waited
	// on with a real exit status and output (a container, a Job) could
	// resume supervising the run here instead of stopping it. A subprocess
	// cannot: it is no longer our child, so its exit status and its output
	// pipes died with the previous agent process.
	log.Info("stopping the process left by the previous agent process", "infrastructure_pid", hd.ID)
	if err := rn.Stop(a.life, hd, a.cfg.StopGrace); err != nil {
		log.Warn("cannot stop the leftover process", "error", err)
	}
	return true
}
