package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/localstate"
	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/sdk/python"
)

// Messages of the states reported for runs left by a previous agent
// process.
const (
	msgRestartedInFlight = "Agent restarted while the run was in flight"
	msgRestartedStopped  = "Agent restarted; the run's process was stopped"
	msgVanished          = "Agent restarted and the run's process was gone without an exit status"
)

// holdLeftovers takes over the runs recorded by the previous agent process:
// they are held (so heartbeats keep their leases, cancels reach them and
// offers for them are ignored) while each is reattached or reported in the
// background.
func (a *Agent) holdLeftovers(recs []localstate.Run) {
	if len(recs) == 0 {
		return
	}
	a.logger.Info("taking over runs left by the previous agent process", "count", len(recs))
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

// recoverRun deals with one leftover run. An undelivered final state is
// reported. Otherwise, when its infrastructure still runs (or ended and
// recorded how), the agent reattaches and supervises it to the end like a
// run it started itself; when it vanished, the run is reported CRASHED.
// Nothing is ever started again.
func (a *Agent) recoverRun(rec localstate.Run, h *heldRun) {
	defer a.release(h)
	log := a.logger.With("flow_run_id", rec.FlowRunID, "lease_epoch", rec.Epoch)

	if rec.PendingState == nil {
		if rn, hd, ok := a.findLeftover(log, rec); ok {
			a.reattach(log, rec, h, rn, hd)
			return
		}
		if rec.HandleID == "" && a.stillPending(log, rec) {
			// Claimed but never started (a flow starts only once RUNNING
			// was accepted): let the lease lapse so the server puts the
			// run back in the queue, rather than crash a run that never
			// ran.
			log.Info("leftover run never started; leaving it to be re-queued when its lease lapses")
			a.forget(log, rec)
			return
		}
	}
	var p *orionv1.StateProposal
	if rec.PendingState != nil {
		p = proposalOf(rec.PendingState)
	}
	if p == nil {
		p = crashedState(msgRestartedInFlight)
	}
	switch reason, _ := h.stop.why(); reason {
	case stopLost:
		p = nil
	case stopCancel:
		p = cancelledState()
	}
	if p != nil {
		_, _, err := proposeState(a.life, a.cfg.After, a.leaseReporter(rec.FlowRunID, rec.Epoch), p, rec.PID, nil, nil)
		if !settledBy(err) {
			log.Warn("cannot report the leftover run; will retry after the next restart", "error", err)
			return
		}
		log.Info("leftover run reported", "state", p.GetType().String(), "message", p.GetMessage(), "error", err)
	}
	a.forget(log, rec)
}

// stillPending reports whether the server has the run PENDING under the
// record's lease, i.e. claimed by the previous process but never started.
func (a *Agent) stillPending(log hclog.Logger, rec localstate.Run) bool {
	ctx, cancel := context.WithTimeout(a.life, rpcTimeout)
	defer cancel()
	resp, err := a.client.FlowRuns.GetFlowRun(ctx, &orionv1.GetFlowRunRequest{Id: rec.FlowRunID})
	if err != nil {
		log.Debug("cannot read the leftover run's state", "error", err)
		return false
	}
	run := resp.GetFlowRun()
	return run.GetState().GetType() == orionv1.StateType_STATE_TYPE_PENDING && run.GetLeaseEpoch() == rec.Epoch
}

// findLeftover returns the runner and handle of a leftover run's
// infrastructure: from the record, or, when the previous process died
// before saving the handle, located from the run's working directory.
func (a *Agent) findLeftover(log hclog.Logger, rec localstate.Run) (runner.Runner, runner.Handle, bool) {
	rn, err := a.cfg.Runners.Get(rec.InfrastructureType)
	if err != nil {
		log.Warn("cannot check the leftover run's infrastructure", "error", err)
		return nil, runner.Handle{}, false
	}
	hd := runner.Handle{Type: rec.InfrastructureType, ID: rec.HandleID, Data: rec.HandleData}
	if rec.HandleID != "" {
		return rn, hd, true
	}
	loc, ok := rn.(runner.Locator)
	if !ok || rec.Workdir == "" {
		return nil, runner.Handle{}, false
	}
	hd, err = loc.Locate(rec.Workdir)
	if err != nil {
		if !errors.Is(err, runner.ErrNotRunning) {
			log.Warn("cannot look for the leftover run's infrastructure", "error", err)
		}
		return nil, runner.Handle{}, false
	}
	log.Info("found the leftover run's infrastructure from its working directory", "infrastructure_pid", hd.ID)
	return rn, hd, true
}

// reattach resumes supervising a leftover run: its output is shipped from
// where the previous process stopped, it is heartbeated, stopped when
// cancelled or when its lease is lost, and its final state is reported.
func (a *Agent) reattach(log hclog.Logger, rec localstate.Run, h *heldRun, rn runner.Runner, hd runner.Handle) {
	rec.InfrastructureType, rec.HandleID, rec.HandleData, rec.PID = hd.Type, hd.ID, hd.Data, hd.ID
	a.saveRecord(log, rec)
	j := &job{
		run:    h.run,
		dep:    h.dep,
		epoch:  h.epoch,
		rep:    a.leaseReporter(h.id, h.epoch),
		stop:   h.stop,
		logger: log,
		onUndelivered: func(p *orionv1.StateProposal) {
			rec.PendingState = pendingOf(p)
			a.saveRecord(log, rec)
		},
	}
	o := a.exec.resume(a.life, j, rn, hd, rec.Workdir)
	if !o.settled {
		log.Warn("final state not delivered; the next agent process will report it")
		return
	}
	log.Info("reattached flow run finished", "state", o.finalType().String())
	a.forget(log, rec)
}

// forget removes a finished leftover run's record and working directory.
func (a *Agent) forget(log hclog.Logger, rec localstate.Run) {
	if err := a.state.DeleteRun(rec.FlowRunID); err != nil {
		log.Warn("cannot remove the run from the local state", "error", err)
	}
	if rec.Workdir != "" {
		_ = os.RemoveAll(rec.Workdir)
	}
}

// resume is execute for infrastructure started by an earlier agent process:
// reattach to it, ship the rest of its output, wait for it (or stop it when
// asked) and propose the final state.
func (e *executor) resume(ctx context.Context, j *job, rn runner.Runner, hd runner.Handle, workdir string) outcome {
	log := j.logger
	ship := newLogShipper(ctx, e.client.Logs, j.run.GetId(), e.clock, e.after, log)
	defer ship.close()
	var err error
	if ra, ok := rn.(runner.Reattacher); ok {
		err = ra.Reattach(ctx, hd, shipOutput(ship, j.echo, j.epoch), ship.sync)
	} else {
		err = rn.Recover(ctx, hd)
	}
	if err != nil {
		reason, _ := j.stop.why()
		p := stoppedState(reason)
		switch {
		case reason != stopNone:
		case errors.Is(err, runner.ErrNotRunning):
			p = crashedState(msgVanished)
		default:
			p = crashedState(fmt.Sprintf("%s: cannot reattach: %v", msgRestartedInFlight, err))
		}
		log.Warn("cannot reattach to the leftover run", "error", err)
		return e.finish(ctx, j, ship, p, hd.ID)
	}
	log.Info("reattached to the flow run", "infrastructure", hd.Type, "infrastructure_pid", hd.ID)
	ship.add(logNameAgent, levelInfo, fmt.Sprintf("Agent restarted; reattached to %s %s", hd.Type, hd.ID))

	exit, reason, waitErr := e.await(ctx, j, rn, hd)
	runner.Release(rn, hd)
	var py *python.RunResult
	if resultFile := filepath.Join(workdir, resultFileName); workdir != "" && reason == stopNone {
		if py, err = python.ReadResult(resultFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("cannot read the flow's result file", "error", err)
		}
	}
	return e.finish(ctx, j, ship, finalState(exit, reason, waitErr, py), hd.ID)
}
