package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newWorkQueuePreviewCommand is `orion work-queue preview NAME_OR_ID`.
func newWorkQueuePreviewCommand(m *meta) *cobra.Command {
	var hours int32
	var output string
	cmd := &cobra.Command{
		Use:   "preview NAME_OR_ID",
		Short: "Show the runs a queue will dispatch in the next hours",
		Long:  "Show the scheduled runs of a queue due within --hours (default 1), at most 10. (**) denotes a late run.",
		Args:  exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, q, err := m.dialWorkQueue(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.WorkQueues.PreviewWorkQueue(cmd.Context(), &orionv1.PreviewWorkQueueRequest{Id: q.GetId(), Hours: hours, PageSize: 10})
			if err != nil {
				return apiErr(err, "")
			}
			if output == outputJSON {
				return writeProtoList(cmd.OutOrStdout(), resp.GetFlowRuns())
			}
			t := newTable(cmd.OutOrStdout(), "SCHEDULED START TIME", "RUN ID", "NAME", "DEPLOYMENT ID")
			now := time.Now()
			for _, r := range resp.GetFlowRuns() {
				when := fmtTime(r.GetNextScheduledStartTime(), m.loc, layoutDateTime)
				if r.GetState().GetName() == "Late" || isLate(r.GetNextScheduledStartTime(), now) {
					when += " (**)"
				}
				t.row(when, r.GetId(), r.GetName(), r.GetDeploymentId())
			}
			if err := t.flush(); err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "(**) denotes a late run")
			return err
		},
	}
	cmd.Flags().Int32Var(&hours, "hours", 1, "how far ahead to look")
	addOutputFlag(cmd, &output)
	return cmd
}

func isLate(ts *timestamppb.Timestamp, now time.Time) bool {
	return ts != nil && ts.AsTime().Before(now)
}

// newWorkQueuePauseCommand is `orion work-queue pause|resume NAME_OR_ID`.
func newWorkQueuePauseCommand(m *meta, pause bool) *cobra.Command {
	use, short, verb := "resume NAME_OR_ID", "Resume a paused work queue", "Resumed"
	if pause {
		use, short, verb = "pause NAME_OR_ID", "Pause a work queue: it dispatches nothing until resumed", "Paused"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.updateWorkQueue(cmd, args[0], &orionv1.UpdateWorkQueueRequest{IsPaused: &pause},
				verb+" work queue %s\n")
		},
	}
}

// newWorkQueueSetLimitCommand is `orion work-queue set-concurrency-limit NAME_OR_ID N`.
func newWorkQueueSetLimitCommand(m *meta) *cobra.Command {
	return &cobra.Command{
		Use:   "set-concurrency-limit NAME_OR_ID LIMIT",
		Short: "Limit how many runs of a queue may be pending or running at once (0: none)",
		Args:  exactArgs("NAME_OR_ID", "LIMIT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseInt(args[1], 10, 32)
			if err != nil || n < 0 {
				return fmt.Errorf("invalid concurrency limit '%s': expected a whole number >= 0", args[1])
			}
			limit := int32(n)
			return m.updateWorkQueue(cmd, args[0], &orionv1.UpdateWorkQueueRequest{ConcurrencyLimit: &limit},
				fmt.Sprintf("Concurrency limit of %d set on work queue %%s\n", limit))
		},
	}
}

// newWorkQueueClearLimitCommand is `orion work-queue clear-concurrency-limit NAME_OR_ID`.
func newWorkQueueClearLimitCommand(m *meta) *cobra.Command {
	return &cobra.Command{
		Use:   "clear-concurrency-limit NAME_OR_ID",
		Short: "Remove a work queue's concurrency limit",
		Args:  exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.updateWorkQueue(cmd, args[0], &orionv1.UpdateWorkQueueRequest{ClearConcurrencyLimit: true},
				"Concurrency limits removed on work queue %s\n")
		},
	}
}

// newWorkQueueDeleteCommand is `orion work-queue delete NAME_OR_ID`.
func newWorkQueueDeleteCommand(m *meta) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME_OR_ID",
		Short: "Delete a work queue",
		Args:  exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, q, err := m.dialWorkQueue(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.WorkQueues.DeleteWorkQueue(cmd.Context(), &orionv1.DeleteWorkQueueRequest{Id: q.GetId()}); err != nil {
				return apiErr(err, "")
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Deleted work queue %s\n", q.GetId())
			return err
		},
	}
}

// updateWorkQueue resolves arg, applies req to it and prints format with the
// queue's id.
func (m *meta) updateWorkQueue(cmd *cobra.Command, arg string, req *orionv1.UpdateWorkQueueRequest, format string) error {
	c, q, err := m.dialWorkQueue(cmd.Context(), arg)
	if err != nil {
		return err
	}
	defer c.Close()
	req.Id = q.GetId()
	if _, err := c.WorkQueues.UpdateWorkQueue(cmd.Context(), req); err != nil {
		return apiErr(err, "")
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), format, q.GetId())
	return err
}
