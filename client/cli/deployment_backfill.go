package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newDeploymentBackfillCommand is `orion deployment backfill NAME_OR_ID
// --start T --end T`.
func newDeploymentBackfillCommand(m *meta) *cobra.Command {
	var startS, endS string
	cmd := &cobra.Command{
		Use:   "backfill NAME_OR_ID --start RFC3339 --end RFC3339",
		Short: "Create the runs a deployment's schedule had in a window",
		Long: `Create the runs the deployment's schedule has between --start and --end
(both inclusive), usually a past window; past runs are due at once. Dates
that already have a run are skipped (the scheduler's idempotency keys), so
running the same backfill twice creates nothing the second time. At most
1,000 dates per call.`,
		Args: exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			start, end, err := backfillWindow(startS, endS)
			if err != nil {
				return usageErr(err)
			}
			ctx := cmd.Context()
			c, dep, err := m.dialDeployment(ctx, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.Deployments.BackfillDeployment(ctx, &orionv1.BackfillDeploymentRequest{
				Id: dep.GetId(), StartTime: timestamppb.New(start), EndTime: timestamppb.New(end),
			})
			if client.IsNotFound(err) {
				return deploymentNotFound(args[0])
			}
			if err != nil {
				return apiErr(err, "")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created %d runs of deployment '%s' between %s and %s (%d already existed)\n",
				resp.GetCreated(), fullName(dep), start.Format(time.RFC3339), end.Format(time.RFC3339), resp.GetExisting())
			return nil
		},
	}
	cmd.Flags().StringVar(&startS, "start", "", "start of the window, inclusive (RFC 3339; required)")
	cmd.Flags().StringVar(&endS, "end", "", "end of the window, inclusive (RFC 3339; required)")
	return cmd
}

// backfillWindow parses and checks --start and --end.
func backfillWindow(startS, endS string) (start, end time.Time, err error) {
	if startS == "" || endS == "" {
		return start, end, fmt.Errorf("--start and --end are both required")
	}
	if start, err = parseTimestamp(startS, ""); err != nil {
		return start, end, fmt.Errorf("--start: %v", err)
	}
	if end, err = parseTimestamp(endS, ""); err != nil {
		return start, end, fmt.Errorf("--end: %v", err)
	}
	if end.Before(start) {
		return start, end, fmt.Errorf("--end %s is before --start %s", endS, startS)
	}
	return start, end, nil
}
