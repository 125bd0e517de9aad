package orchestration

import (
	"errors"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// Proposal is a request to move a run into a new state.
type Proposal struct {
	RunID string
	// Run, when set, is the run as the caller just read it in this same
	// transaction (it is not read again, and is updated in place).
	Run          *orionv1.FlowRun
	State        *orionv1.StateProposal
	Force        bool
	ManualRetry  bool
	TransitionID string
	// OnWrite, when set, is called with the run and the state about to be
	// written (after ACCEPT or REJECT) so the caller can record more in the
	// same transaction (a lease, an infrastructure id).
	OnWrite func(run *orionv1.FlowRun, s *orionv1.State)
}

// Transition evaluates p against the run's current state and writes the
// outcome, all inside tx: the read, the rule check and the write are one
// transaction. A repeated transition id returns the first answer. Only a
// malformed proposal (ErrInvalidProposal) or a missing run (store.ErrNotFound)
// is an error; rule outcomes are in the result.
func Transition(tx store.Tx, p Proposal) (*orionv1.OrchestrationResult, *orionv1.FlowRun, error) {
	run := p.Run
	if run == nil {
		var err error
		if run, err = tx.FlowRun(p.RunID); err != nil {
			return nil, nil, err
		}
	}
	if p.TransitionID != "" {
		prev, err := tx.Transition(p.RunID, p.TransitionID)
		switch {
		case err == nil:
			return prev, run, nil
		case !errors.Is(err, store.ErrNotFound):
			return nil, nil, err
		}
	}
	now := tx.Now()
	proposed, err := NewState(p.State, now, store.NewID(), p.TransitionID)
	if err != nil {
		return nil, nil, err
	}
	d := Evaluate(Input{Run: run, Proposed: proposed, Now: now, Force: p.Force, ManualRetry: p.ManualRetry})
	if d.Status == Accept || d.Status == Reject {
		if err := Write(tx, run, d.State, p.OnWrite); err != nil {
			return nil, nil, err
		}
	}
	res := d.Result(run.GetState())
	// WAIT is not remembered: proposing again later must be re-evaluated.
	if p.TransitionID != "" && d.Status != Wait {
		if err := tx.PutTransition(p.RunID, p.TransitionID, res); err != nil {
			return nil, nil, err
		}
	}
	return res, run, nil
}

// Write applies s to run with the bookkeeping transforms and stores both the
// run and the new history entry. Callers that decided on their own (a new
// run's first state, the lease sweeper) use it directly.
func Write(tx store.Tx, run *orionv1.FlowRun, s *orionv1.State, onWrite func(*orionv1.FlowRun, *orionv1.State)) error {
	if s.GetId() == "" {
		s.Id = store.NewID()
	}
	if s.GetTimestamp() == nil {
		return errors.New("orchestration: state without timestamp")
	}
	Apply(run, s)
	if onWrite != nil {
		onWrite(run, s)
	}
	if err := tx.PutFlowRun(run); err != nil {
		return err
	}
	return tx.AppendState(run.GetId(), s)
}

// Due reports whether a SCHEDULED run is due at now.
func Due(run *orionv1.FlowRun, now time.Time) bool {
	t := run.GetNextScheduledStartTime()
	return run.GetState().GetType() == Scheduled && (t == nil || !t.AsTime().After(now))
}
