package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// executeMessage is the message of the PENDING state a local execution
// starts in.
const executeMessage = "Executing locally"

// newDeploymentExecuteCommand is `orion deployment execute NAME_OR_ID`.
func newDeploymentExecuteCommand(m *meta) *cobra.Command {
	var params paramFlags
	cmd := &cobra.Command{
		Use:   "execute NAME_OR_ID",
		Short: "Run a deployment's flow in this process, without an agent",
		Long: `Create a flow run of a deployment and run it here, in the foreground, with the
deployment's parameters (plus overrides). No agent is involved and the
deployment's infrastructure settings are ignored. The exit code is 0 when the
run completes and 1 otherwise.`,
		Args: exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseDeploymentRef(args[0]); err != nil {
				return err
			}
			overrides, err := params.parse()
			if err != nil {
				return err
			}
			if m.ext.Execute == nil {
				return errors.New("local execution is not available in this build of orion")
			}
			ctx := cmd.Context()
			c, dep, err := m.dialDeployment(ctx, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{
				DeploymentId: dep.GetId(),
				Parameters:   overrides,
				State: &orionv1.StateProposal{
					Type:    orionv1.StateType_STATE_TYPE_PENDING,
					Message: executeMessage,
				},
			})
			if client.IsNotFound(err) {
				return deploymentNotFound(args[0])
			}
			if err != nil {
				return apiErr(err, "")
			}
			run := resp.GetFlowRun()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created flow run '%s' (%s)\n", run.GetName(), run.GetId())
			final, err := m.ext.Execute(ctx, c, dep, run, out)
			if err != nil {
				return err
			}
			if final == nil {
				return exitCode1(fmt.Errorf("flow run '%s' (%s) ended without a final state", run.GetName(), run.GetId()))
			}
			if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_COMPLETED {
				return finishedError(final)
			}
			return nil
		},
	}
	params.register(cmd)
	return cmd
}
