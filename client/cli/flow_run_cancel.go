package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newFlowRunCancelCommand is `orion flow-run cancel ID`.
func newFlowRunCancelCommand(m *meta) *cobra.Command {
	var message string
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a flow run",
		Long: `Cancel a flow run. A run that has not started is cancelled at once; a running
one goes to CANCELLING until its agent has stopped it.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.FlowRuns.CancelFlowRun(cmd.Context(), &orionv1.CancelFlowRunRequest{Id: id, Message: message})
			if err != nil {
				return runErr(err, id)
			}
			run := resp.GetFlowRun()
			verb := "Cancelled"
			if run.GetState().GetType() == orionv1.StateType_STATE_TYPE_CANCELLING {
				verb = "Cancelling"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s flow run '%s' (%s)\n", verb, run.GetName(), run.GetId())
			return nil
		},
	}
	cmd.Flags().StringVar(&message, "message", "", "why the run is cancelled (kept in its state)")
	return cmd
}
