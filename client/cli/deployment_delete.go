package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newDeploymentDeleteCommand is `orion deployment delete NAME_OR_ID`.
func newDeploymentDeleteCommand(m *meta) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME_OR_ID",
		Short: "Delete a deployment and its runs that have not started",
		Args:  exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseDeploymentRef(args[0]); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, dep, err := m.dialDeployment(ctx, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Deployments.DeleteDeployment(ctx, &orionv1.DeleteDeploymentRequest{Id: dep.GetId()})
			if client.IsNotFound(err) {
				return deploymentNotFound(args[0])
			}
			if err != nil {
				return apiErr(err, "")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted deployment '%s'\n", fullName(dep))
			return nil
		},
	}
}
