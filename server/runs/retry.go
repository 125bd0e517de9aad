package runs

import (
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// Retry is the manual retry of a finished run of a deployment: it proposes
// SCHEDULED (named AwaitingRetry, due now) through the orchestration rules
// with the manual-retry exception, inside tx. The run gets a fresh delivery
// count; its run count keeps growing, so automatic retries left unused
// still apply and an exhausted budget is not refilled.
// Rule outcomes are in the result; only a missing run is an error.
func Retry(tx store.Tx, runID, message, transitionID string) (*orionv1.OrchestrationResult, *orionv1.FlowRun, error) {
	if message == "" {
		message = "Retried manually."
	}
	return orchestration.Transition(tx, orchestration.Proposal{
		RunID:        runID,
		State:        &orionv1.StateProposal{Type: orchestration.Scheduled, Message: message},
		ManualRetry:  true,
		TransitionID: transitionID,
		OnWrite: func(r *orionv1.FlowRun, _ *orionv1.State) {
			r.DeliveryCount = 0
			r.AgentId = ""
			r.InfrastructurePid = ""
		},
	})
}
