package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// addScheduleCommands adds `orion schedule` to root and the schedule
// subcommands (preview, pause-schedule, resume-schedule, backfill) to
// `orion deployment`.
func addScheduleCommands(m *meta, root *cobra.Command) {
	root.AddCommand(newScheduleCommand(m))
	for _, c := range root.Commands() {
		if c.Name() == "deployment" {
			c.AddCommand(
				newDeploymentPreviewCommand(m),
				newDeploymentScheduleActiveCommand(m, false),
				newDeploymentScheduleActiveCommand(m, true),
				newDeploymentBackfillCommand(m),
			)
		}
	}
}

// newDeploymentScheduleActiveCommand is `orion deployment pause-schedule`
// (active false) or `resume-schedule` (active true).
func newDeploymentScheduleActiveCommand(m *meta, active bool) *cobra.Command {
	use, short, done := "pause-schedule", "Pause a deployment's schedule and remove its runs that have not started", "Paused"
	if active {
		use, short, done = "resume-schedule", "Resume a deployment's paused schedule", "Resumed"
	}
	return &cobra.Command{
		Use:   use + " NAME_OR_ID",
		Short: short,
		Long: short + `.

Pausing deletes the auto-scheduled runs that have not started; manual runs
and runs an agent already claimed are kept. A redeploy never resumes a
paused schedule.`,
		Args: exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, dep, err := m.dialDeployment(ctx, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			if dep.GetSchedule().GetKind() == nil {
				return fmt.Errorf("deployment '%s' has no schedule", fullName(dep))
			}
			_, err = c.Deployments.SetDeploymentScheduleActive(ctx, &orionv1.SetDeploymentScheduleActiveRequest{Id: dep.GetId(), Active: active})
			if client.IsNotFound(err) {
				return deploymentNotFound(args[0])
			}
			if err != nil {
				return apiErr(err, "")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s the schedule of deployment '%s'\n", done, fullName(dep))
			return nil
		},
	}
}
