package cli

import (
	"github.com/spf13/cobra"
)

// newDeploymentInspectCommand is `orion deployment inspect NAME_OR_ID`.
func newDeploymentInspectCommand(m *meta) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "inspect NAME_OR_ID",
		Short: "Show a deployment",
		Long: `Show a deployment as indented JSON. NAME_OR_ID is "<flow-name>/<deployment-name>"
or the deployment's id. With -o json every field is shown, set or not.`,
		Args: exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if _, err := parseDeploymentRef(args[0]); err != nil {
				return err
			}
			c, dep, err := m.dialDeployment(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			return writeProto(cmd.OutOrStdout(), dep, output == outputJSON)
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}
