package agent

import (
	"cmp"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/localstate"
	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/infra"
)

// stopReason says why a run's infrastructure is stopped, which decides the
// state reported afterwards.
type stopReason int

const (
	stopNone stopReason = iota
	// stopCancel: the server asked; report CANCELLED.
	stopCancel
	// stopLost: the lease is gone; report nothing.
	stopLost
	// stopShutdown: the agent is stopping; report CRASHED "Agent stopped".
	stopShutdown
	// stopInterrupt: a foreground Execute was interrupted; report CRASHED.
	stopInterrupt
)

// stopper carries one stop request to a run. The first request wins.
type stopper struct {
	once   sync.Once
	ch     chan struct{}
	mu     sync.Mutex
	reason stopReason
	msg    string
}

func newStopper() *stopper { return &stopper{ch: make(chan struct{})} }

// stop requests a stop; later requests are ignored.
func (s *stopper) stop(r stopReason, msg string) {
	s.once.Do(func() {
		s.mu.Lock()
		s.reason, s.msg = r, msg
		s.mu.Unlock()
		close(s.ch)
	})
}

// done is closed once a stop was requested.
func (s *stopper) done() <-chan struct{} { return s.ch }

// why returns the reason of the stop (stopNone when none was requested).
func (s *stopper) why() (stopReason, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason, s.msg
}

// heldRun is a run the agent holds a lease on: being executed, or left by
// the previous agent process and being cleaned up.
type heldRun struct {
	id    string
	epoch int64
	run   *orionv1.FlowRun
	dep   *orionv1.Deployment
	stop  *stopper
}

func newHeldRun(run *orionv1.FlowRun, dep *orionv1.Deployment, epoch int64) *heldRun {
	if run == nil {
		run = &orionv1.FlowRun{}
	}
	if dep == nil {
		dep = &orionv1.Deployment{}
	}
	return &heldRun{id: run.GetId(), epoch: epoch, run: run, dep: dep, stop: newStopper()}
}

// heldRuns lists the runs and epochs for a heartbeat.
func (a *Agent) heldRuns() []*agentv1.HeldRun {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*agentv1.HeldRun, 0, len(a.held))
	for _, h := range a.held {
		out = append(out, &agentv1.HeldRun{FlowRunId: h.id, LeaseEpoch: h.epoch})
	}
	return out
}

// loseRun stops a run whose lease the server says we no longer hold.
func (a *Agent) loseRun(id string) {
	a.mu.Lock()
	h := a.held[id]
	a.mu.Unlock()
	if h != nil {
		a.logger.Warn("lease lost; stopping flow run", "flow_run_id", id, "lease_epoch", h.epoch)
		h.stop.stop(stopLost, "")
	}
}

// release forgets a finished run and lets deferred offers in.
func (a *Agent) release(h *heldRun) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held[h.id] == h {
		delete(a.held, h.id)
	}
	a.fillSlotsLocked()
}

// leaseReporter reports states for a run with the agent's lease.
func (a *Agent) leaseReporter(id string, epoch int64) reporter {
	return &leaseReporter{calls: a.calls, agentID: a.sess.agentID, reportLogs: a.sess.reportsLogs, flowRunID: id, epoch: epoch}
}

// supervise executes a claimed run, keeping its local record up to date so
// a restarted agent knows what was left in flight.
func (a *Agent) supervise(h *heldRun) {
	defer a.release(h)
	log := a.logger.With("flow_run_id", h.id, "lease_epoch", h.epoch)
	workdir, _ := a.exec.workdir(h.id, h.epoch) // "" for an invalid id, which execute reports
	// The record lets a restarted agent find infrastructure it left
	// running, with the runner of its type even before the handle is
	// saved (Locate); a noop run starts none, so it keeps no record.
	typ := infra.NormalizeType(cmp.Or(h.run.GetInfrastructure().GetType(), h.dep.GetInfrastructure().GetType()))
	keep := typ != infra.TypeNoop
	rec := localstate.Run{
		FlowRunID:          h.id,
		Epoch:              h.epoch,
		Workdir:            workdir,
		Started:            a.cfg.Clock().UTC(),
		InfrastructureType: typ,
	}
	saveRecord := func(rec localstate.Run) {
		if keep {
			a.saveRecord(log, rec)
		}
	}
	saveRecord(rec)
	j := &job{
		run:    h.run,
		dep:    h.dep,
		epoch:  h.epoch,
		rep:    a.leaseReporter(h.id, h.epoch),
		stop:   h.stop,
		logger: log,
		onStart: func(hd runner.Handle) {
			rec.PID, rec.InfrastructureType, rec.HandleID, rec.HandleData = hd.ID, hd.Type, hd.ID, hd.Data
			saveRecord(rec)
		},
		onUndelivered: func(p *orionv1.StateProposal) {
			rec.PendingState = pendingOf(p)
			saveRecord(rec)
		},
	}
	begin := time.Now()
	o := a.exec.execute(a.life, j)
	if !o.settled {
		log.Warn("final state not delivered; the next agent process will report it")
		return
	}
	if keep {
		if err := a.state.DeleteRun(h.id); err != nil {
			log.Warn("cannot remove the run from the local state", "error", err)
		}
	}
	if o.proposed == nil {
		log.Info("flow run dropped", "error", o.err)
		return
	}
	log.Info("flow run finished", "state", o.finalType().String(), "duration", time.Since(begin).Round(time.Millisecond))
}

func (a *Agent) saveRecord(log hclog.Logger, rec localstate.Run) {
	if err := a.state.PutRun(rec); err != nil {
		log.Warn("cannot save the run in the local state", "error", err)
	}
}

// pendingOf records an undelivered final state in the local record.
func pendingOf(p *orionv1.StateProposal) *localstate.PendingState {
	if p == nil {
		return nil
	}
	ps := &localstate.PendingState{Type: p.GetType().String(), Message: p.GetMessage()}
	if p.ExitCode != nil {
		c := int(p.GetExitCode())
		ps.ExitCode = &c
	}
	return ps
}

// proposalOf turns a recorded pending state back into a proposal.
func proposalOf(ps *localstate.PendingState) *orionv1.StateProposal {
	t, ok := orionv1.StateType_value[ps.Type]
	if !ok || t == 0 {
		return nil
	}
	p := &orionv1.StateProposal{Type: orionv1.StateType(t), Message: ps.Message}
	if ps.ExitCode != nil {
		c := int32(*ps.ExitCode)
		p.ExitCode = &c
	}
	return p
}
