package agent

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/client"
)

// Messages of the states the agent reports itself.
const (
	msgCancelled    = "Flow run was cancelled"
	msgAgentStopped = "Agent stopped"
	msgInterrupted  = "Execution was interrupted"
)

func runningState() *orionv1.StateProposal {
	return &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_RUNNING}
}

func cancelledState() *orionv1.StateProposal {
	return &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_CANCELLED, Message: msgCancelled}
}

func crashedState(msg string) *orionv1.StateProposal {
	return &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_CRASHED, Message: msg}
}

// maxStateMessage is the server's limit on a state's message, in bytes
// (validate.MaxStateMessage; a test keeps the two equal). A proposal with a
// longer one is refused with InvalidArgument, so a flow that raised an
// exception carrying a whole document would never have its end recorded.
const maxStateMessage = 64 << 10

// boundedMessage returns p, or when its message is over maxStateMessage a
// copy whose message keeps the beginning (the exception's type and text),
// cut on a character boundary, and says how long the original was.
func boundedMessage(p *orionv1.StateProposal) *orionv1.StateProposal {
	msg := p.GetMessage()
	if len(msg) <= maxStateMessage {
		return p
	}
	note := fmt.Sprintf(" … (cut: the message was %d bytes; %d are kept)", len(msg), maxStateMessage)
	i := maxStateMessage - len(note)
	for i > 0 && !utf8.RuneStart(msg[i]) {
		i-- // do not split a multi-byte character
	}
	q := proto.Clone(p).(*orionv1.StateProposal)
	q.Message = msg[:i] + note
	return q
}

// reporter proposes states for one run. The agent reports through its lease
// (AgentService.ReportFlowRunState); a foreground Execute through the public
// FlowRunService.SetFlowRunState. Everything else about executing a run is
// shared.
type reporter interface {
	// report makes one proposal. transitionID makes a retried proposal
	// idempotent; infraPID identifies the infrastructure, when known; logs
	// (only when carriesLogs) are stored with the state.
	report(ctx context.Context, p *orionv1.StateProposal, transitionID, infraPID string, logs []*orionv1.Log) (*orionv1.OrchestrationResult, *orionv1.FlowRun, error)
	// carriesLogs reports whether report stores log lines with the state.
	carriesLogs() bool
}

// leaseReporter reports as the agent holding the run's lease. The run it
// gets back is nil: the agent does not need it, so the server sends none.
type leaseReporter struct {
	calls      *calls
	agentID    func() string
	reportLogs func() bool // the server stores a report's log lines
	flowRunID  string
	epoch      int64
}

func (r *leaseReporter) report(ctx context.Context, p *orionv1.StateProposal, transitionID, infraPID string, logs []*orionv1.Log) (*orionv1.OrchestrationResult, *orionv1.FlowRun, error) {
	resp, err := r.calls.report(ctx, &agentv1.ReportFlowRunStateRequest{
		AgentId:           r.agentID(),
		FlowRunId:         r.flowRunID,
		LeaseEpoch:        r.epoch,
		State:             p,
		TransitionId:      transitionID,
		InfrastructurePid: infraPID,
		Logs:              logs,
		OmitFlowRun:       true,
	})
	if err != nil {
		return nil, nil, err
	}
	return resp.GetResult(), resp.GetFlowRun(), nil
}

func (r *leaseReporter) carriesLogs() bool { return r.reportLogs != nil && r.reportLogs() }

// directReporter reports through the public API, without a lease.
type directReporter struct {
	flowRuns  orionv1.FlowRunServiceClient
	flowRunID string
}

func (r *directReporter) carriesLogs() bool { return false }

func (r *directReporter) report(ctx context.Context, p *orionv1.StateProposal, transitionID, _ string, _ []*orionv1.Log) (*orionv1.OrchestrationResult, *orionv1.FlowRun, error) {
	resp, err := r.flowRuns.SetFlowRunState(ctx, &orionv1.SetFlowRunStateRequest{
		FlowRunId:    r.flowRunID,
		State:        p,
		TransitionId: transitionID,
	})
	if err != nil {
		return nil, nil, err
	}
	return resp.GetResult(), resp.GetFlowRun(), nil
}

// errInterrupted is returned by proposeState when its interrupt channel
// closed before the server decided.
var errInterrupted = errors.New("interrupted")

// transient reports whether a call failed because the server could not be
// reached or was overloaded: repeating it is always worth it.
func transient(err error) bool {
	switch client.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return true
	}
	return false
}

// retryable reports whether a failed call may succeed if repeated a few
// times: transient failures, and server-side errors that may be (a store
// hiccup) but may also be deterministic, so are retried only a few times.
func retryable(err error) bool {
	switch client.Code(err) {
	case codes.Internal, codes.Unknown:
		return true
	}
	return transient(err)
}

// maxServerErrors bounds retries of a proposal on Internal/Unknown errors.
const maxServerErrors = 5

// settledBy reports whether a proposal's outcome leaves nothing to retry
// later: the server decided (err == nil), the run is not ours any more
// (lease lost, run deleted), or the server keeps refusing the proposal.
// Giving up because the agent is stopping or the server is unreachable
// leaves it unsettled.
func settledBy(err error) bool {
	if err == nil {
		return true
	}
	return !transient(err) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// proposeState proposes p until the server decides. On WAIT it waits the
// given delay and proposes again (with a new transition id, since a repeat
// of the old one returns the old answer). Transient errors are retried with
// backoff and the same transition id until ctx is done (server errors
// only maxServerErrors times). A close of interrupt
// (nil for none) while waiting returns errInterrupted. *logs (logs may be
// nil) go with the proposal (rep.carriesLogs must hold); proposeState sets
// *logs to nil once an answer stored them, so what is left after an error
// was not stored.
func proposeState(ctx context.Context, after func(time.Duration) <-chan time.Time, rep reporter, p *orionv1.StateProposal, infraPID string, logs *[]*orionv1.Log, interrupt <-chan struct{}) (*orionv1.OrchestrationResult, *orionv1.FlowRun, error) {
	var lines []*orionv1.Log
	if logs != nil {
		lines = *logs
	}
	p = boundedMessage(p)
	transitionID := uuid.NewString()
	bo := newBackoff(200*time.Millisecond, 5*time.Second)
	serverErrors := 0
	for {
		rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		res, run, err := rep.report(rctx, p, transitionID, infraPID, lines)
		cancel()
		if err == nil && logs != nil {
			lines, *logs = nil, nil // stored with the answer
		}
		var wait time.Duration
		switch {
		case err == nil && res.GetStatus() == orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_WAIT:
			wait = max(res.GetDelay().AsDuration(), 10*time.Millisecond)
			transitionID = uuid.NewString()
		case err == nil:
			return res, run, nil
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case transient(err):
			wait = bo.next()
		case retryable(err) && serverErrors < maxServerErrors:
			serverErrors++
			wait = bo.next()
		default:
			return nil, nil, err
		}
		select {
		case <-after(wait):
		case <-interrupt:
			return nil, nil, errInterrupted
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}
