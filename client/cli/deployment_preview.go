package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// newDeploymentPreviewCommand is `orion deployment preview NAME_OR_ID [-n N]`:
// `orion schedule preview` for a stored deployment's schedule, from now.
func newDeploymentPreviewCommand(m *meta) *cobra.Command {
	var (
		n      int
		output string
	)
	cmd := &cobra.Command{
		Use:   "preview NAME_OR_ID [-n N]",
		Short: "Print the next dates of a deployment's schedule",
		Long: `Print the next -n dates (default 1) of a deployment's stored schedule, from
now, in the schedule's time zone. A paused schedule is previewed as if it
were active, with a note on stderr.`,
		Args: exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if m.ext.PreviewSchedule == nil {
				return errors.New("schedule preview is not available in this build")
			}
			if err := checkOutput(output); err != nil {
				return usageErr(err)
			}
			if n < 1 {
				return usageErr(fmt.Errorf("-n must be at least 1, got %d", n))
			}
			ctx := cmd.Context()
			c, dep, err := m.dialDeployment(ctx, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			if dep.GetSchedule().GetKind() == nil {
				return fmt.Errorf("deployment '%s' has no schedule", fullName(dep))
			}
			if !dep.GetIsScheduleActive() {
				fmt.Fprintf(cmd.ErrOrStderr(), "Note: the schedule of '%s' is paused; these dates will not run until it is resumed.\n", fullName(dep))
			}
			dates, err := m.ext.PreviewSchedule(dep.GetSchedule(), time.Now(), time.Time{}, n)
			if err != nil {
				return err
			}
			return writeDates(cmd.OutOrStdout(), output, dates)
		},
	}
	cmd.Flags().IntVarP(&n, "n", "n", 1, "number of dates")
	addOutputFlag(cmd, &output)
	return cmd
}
