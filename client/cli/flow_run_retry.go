package cli

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newFlowRunRetryCommand is `orion flow-run retry ID`.
func newFlowRunRetryCommand(m *meta) *cobra.Command {
	var message string
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Run a finished flow run of a deployment again",
		Long: `Send a finished (Completed, Failed, Cancelled or Crashed) flow run of a
deployment back to Scheduled, named AwaitingRetry; an agent of its work
queue runs it again. The run keeps its id, parameters and state history.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.FlowRuns.RetryFlowRun(cmd.Context(), &orionv1.RetryFlowRunRequest{
				Id: id, Message: message, TransitionId: uuid.NewString(),
			})
			if err != nil {
				return runErr(err, id)
			}
			run, res := resp.GetFlowRun(), resp.GetResult()
			if res.GetStatus() != orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT {
				return exitCode1(fmt.Errorf("cannot retry flow run '%s' (%s): %s", run.GetName(), run.GetId(), res.GetReason()))
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Retrying flow run '%s' (%s)\n", run.GetName(), run.GetId())
			return err
		},
	}
	cmd.Flags().StringVar(&message, "message", "", "why the run is retried (kept in its state)")
	return cmd
}
