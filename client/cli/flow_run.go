package cli

import "github.com/spf13/cobra"

// newFlowRunCommand is the `orion flow-run` group.
func newFlowRunCommand(m *meta) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "flow-run",
		Aliases: []string{"flow-runs"},
		Short:   "List, inspect, follow and cancel flow runs",
		Args:    noArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(
		newFlowRunListCommand(m),
		newFlowRunInspectCommand(m),
		newFlowRunLogsCommand(m),
		newFlowRunCancelCommand(m),
		newFlowRunRetryCommand(m),
	)
	return cmd
}
