package orchestration

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// Status is the outcome of evaluating a proposal.
type Status = orionv1.OrchestrationStatus

// The four outcomes, as in Prefect's SetStateStatus.
const (
	Accept = orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT
	Reject = orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_REJECT
	Wait   = orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_WAIT
	Abort  = orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ABORT
)

// Input is everything a rule may look at. It is a value: rules never modify
// the run.
type Input struct {
	// Run is the run as stored; Run.State is the initial state (nil for a run
	// being created).
	Run *orionv1.FlowRun
	// Proposed is the state asked for, already normalized by NewState.
	Proposed *orionv1.State
	// Now is the decision time.
	Now time.Time
	// Force bypasses every rule. It is for administrators only: the rules
	// trust it, and the SetFlowRunState handler (server/rpc) is the one
	// place that checks the caller may set it.
	Force bool
	// ManualRetry marks an explicit retry request (RetryFlowRun): the one
	// exception to "a terminal run cannot move".
	ManualRetry bool
}

// Decision is a rule's verdict.
type Decision struct {
	Status Status
	// State is the state to write: the proposal (ACCEPT, possibly renamed) or
	// the replacement chosen by the server (REJECT). Nil for WAIT and ABORT.
	State  *orionv1.State
	Reason string
	Delay  time.Duration
}

// Result converts the decision into the API's OrchestrationResult, given the
// run's current state after the decision.
func (d Decision) Result(current *orionv1.State) *orionv1.OrchestrationResult {
	res := &orionv1.OrchestrationResult{Status: d.Status, State: current, Reason: d.Reason}
	if d.Status == Wait {
		res.Delay = durationpb.New(d.Delay)
	}
	return res
}

// rule decides on a transition. It returns ok=false when it has no opinion,
// so the next rule in priority order is asked.
type rule struct {
	name   string
	decide func(in Input, proposed *orionv1.State) (Decision, bool)
}

// rules is the core flow policy, in priority order.
var rules = []rule{
	{"prevent_transitions_from_terminal_states", preventFromTerminal},
	{"prevent_pending_transitions", preventPendingTransitions},
	{"enforce_cancelling_to_cancelled", enforceCancellingToCancelled},
	{"cancel_without_infrastructure", cancelWithoutInfrastructure},
	{"wait_for_scheduled_time", waitForScheduledTime},
	{"retry_failed_flows", retryFailedFlows},
	{"rename_reruns", renameReruns},
}

// Evaluate applies the rules in priority order to a proposed transition.
// The first rule that decides ABORT, WAIT or REJECT ends the evaluation; a
// rule may also rewrite the proposal (e.g. rename it) and let later rules see
// the rewritten state. With no objection the (possibly rewritten) proposal is
// accepted.
func Evaluate(in Input) Decision {
	proposed := in.Proposed
	if in.Force {
		return Decision{Status: Accept, State: proposed}
	}
	if in.ManualRetry {
		return manualRetry(in, proposed)
	}
	for _, r := range rules {
		d, ok := r.decide(in, proposed)
		if !ok {
			continue
		}
		if d.Status != Accept {
			return d
		}
		proposed = d.State
	}
	return Decision{Status: Accept, State: proposed}
}

func initialType(in Input) orionv1.StateType { return in.Run.GetState().GetType() }

func preventFromTerminal(in Input, _ *orionv1.State) (Decision, bool) {
	if IsTerminal(initialType(in)) {
		return Decision{Status: Abort, Reason: "This run has already terminated."}, true
	}
	return Decision{}, false
}

// preventPendingTransitions makes the claim a compare-and-set: only one
// proposer can ever move a run into PENDING.
func preventPendingTransitions(in Input, p *orionv1.State) (Decision, bool) {
	if p.GetType() != Pending {
		return Decision{}, false
	}
	switch from := initialType(in); from {
	case Pending, Running, Cancelling, Cancelled:
		return Decision{Status: Abort, Reason: fmt.Sprintf("This run is already %s; it cannot move to Pending again.", DefaultName(from))}, true
	}
	return Decision{}, false
}

func enforceCancellingToCancelled(in Input, p *orionv1.State) (Decision, bool) {
	if initialType(in) != Cancelling {
		return Decision{}, false
	}
	if p.GetType() == Cancelled || IsTerminal(p.GetType()) {
		return Decision{}, false
	}
	return Decision{Status: Abort, Reason: "This run is being cancelled; it may only become Cancelled."}, true
}

// cancelWithoutInfrastructure sends a CANCELLING proposal for a run that
// has nothing to stop (not claimed, or claimed but not started) straight to
// CANCELLED: no agent would ever finish the cancellation.
func cancelWithoutInfrastructure(in Input, p *orionv1.State) (Decision, bool) {
	if p.GetType() != Cancelling {
		return Decision{}, false
	}
	switch initialType(in) {
	case Running:
		return Decision{}, false
	case Pending:
		if in.Run.GetInfrastructurePid() != "" {
			return Decision{}, false
		}
	}
	s := cloneState(p)
	s.Type, s.Name = Cancelled, DefaultName(Cancelled)
	return Decision{Status: Reject, State: s, Reason: "The run has no infrastructure to stop; it is cancelled at once."}, true
}

// waitForScheduledTime lets agents claim early (prefetch) but never start
// early: RUNNING before the scheduled time is WAIT.
func waitForScheduledTime(in Input, p *orionv1.State) (Decision, bool) {
	if p.GetType() != Running {
		return Decision{}, false
	}
	if t := initialType(in); t != Scheduled && t != Pending {
		return Decision{}, false
	}
	due := in.Run.GetNextScheduledStartTime()
	if due == nil {
		due = in.Run.GetState().GetScheduledTime()
	}
	if due == nil {
		return Decision{}, false
	}
	if wait := due.AsTime().Sub(in.Now); wait > 0 {
		return Decision{Status: Wait, Delay: wait, Reason: "Scheduled time is in the future."}, true
	}
	return Decision{}, false
}

// manualRetry is the policy for an explicit retry request: only a terminal
// run of a deployment may go back, and only to SCHEDULED (named
// AwaitingRetry so the next RUNNING is named Retrying).
func manualRetry(in Input, p *orionv1.State) Decision {
	switch {
	case !IsTerminal(initialType(in)):
		return Decision{Status: Abort, Reason: fmt.Sprintf("Only a finished run can be retried; this run is %s.", in.Run.GetState().GetName())}
	case in.Run.GetDeploymentId() == "":
		return Decision{Status: Abort, Reason: "Only a run of a deployment can be retried."}
	case p.GetType() != Scheduled:
		return Decision{Status: Abort, Reason: "A retried run must go back to Scheduled."}
	}
	retry := cloneState(p)
	if retry.GetName() == DefaultName(Scheduled) {
		retry.Name = NameAwaitingRetry
	}
	return Decision{Status: Accept, State: retry}
}

// retryFailedFlows turns RUNNING → FAILED (or CRASHED: the agent or the
// infrastructure died) into AwaitingRetry while the run has retries left.
func retryFailedFlows(in Input, p *orionv1.State) (Decision, bool) {
	if (p.GetType() != Failed && p.GetType() != Crashed) || initialType(in) != Running {
		return Decision{}, false
	}
	if in.Run.GetRetries() == 0 || in.Run.GetRunCount() > in.Run.GetRetries() {
		return Decision{}, false
	}
	delay := in.Run.GetRetryDelay().AsDuration()
	retry := &orionv1.State{
		Type:          Scheduled,
		Name:          NameAwaitingRetry,
		Message:       p.GetMessage(),
		Timestamp:     timestamppb.New(in.Now),
		ScheduledTime: timestamppb.New(in.Now.Add(delay)),
		TransitionId:  p.GetTransitionId(),
		ExitCode:      p.ExitCode,
	}
	return Decision{Status: Reject, State: retry, Reason: fmt.Sprintf("Retrying in %s (attempt %d of %d).", delay, in.Run.GetRunCount()+1, in.Run.GetRetries()+1)}, true
}

// renameReruns names a RUNNING state that is not the first run: Retrying
// when the retry policy sent it back (it came from AwaitingRetry, directly
// or through the agent's PENDING claim, and is within its retry budget),
// Rerunning otherwise.
func renameReruns(in Input, p *orionv1.State) (Decision, bool) {
	if p.GetType() != Running || in.Run.GetRunCount() == 0 || p.GetName() != DefaultName(Running) {
		return Decision{}, false
	}
	renamed := cloneState(p)
	renamed.Name = NameRerunning
	initial := in.Run.GetState()
	if initial.GetName() == NameAwaitingRetry || (initial.GetType() == Pending && in.Run.GetRunCount() <= in.Run.GetRetries()) {
		renamed.Name = NameRetrying
	}
	return Decision{Status: Accept, State: renamed}, true
}
