package cli

import "github.com/spf13/cobra"

// newDeploymentCommand is the `orion deployment` group.
func newDeploymentCommand(m *meta) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "deployment",
		Aliases: []string{"deployments"},
		Short:   "Create, inspect and run deployments",
		Long: `A deployment is a stored configuration for running a flow through the API:
its flow, default parameters, schedule, infrastructure and work queue.
Humans address a deployment as "<flow-name>/<deployment-name>" (or by id).`,
		Args: noArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(
		newDeploymentCreateCommand(m),
		newDeploymentListCommand(m),
		newDeploymentInspectCommand(m),
		newDeploymentRunCommand(m),
		newDeploymentExecuteCommand(m),
		newDeploymentDeleteCommand(m),
	)
	return cmd
}
