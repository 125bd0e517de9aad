package cli

import (
	"cmp"
	"context"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newDeploymentListCommand is `orion deployment ls`.
func newDeploymentListCommand(m *meta) *cobra.Command {
	var flowName, output string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List deployments",
		Long:    "List deployments, sorted by flow name, then deployment name.",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			deps, err := listDeployments(cmd.Context(), c, flowName)
			if err != nil {
				return err
			}
			if output == outputJSON {
				return writeProtoList(cmd.OutOrStdout(), deps)
			}
			return writeDeploymentTable(cmd.OutOrStdout(), deps)
		},
	}
	cmd.Flags().StringVar(&flowName, "flow-name", "", "only deployments of this flow")
	addOutputFlag(cmd, &output)
	return cmd
}

// listDeployments pages through all deployments (of one flow, if given).
func listDeployments(ctx context.Context, c *client.Client, flowName string) ([]*orionv1.Deployment, error) {
	var all []*orionv1.Deployment
	token := ""
	for {
		resp, err := c.Deployments.ListDeployments(ctx, &orionv1.ListDeploymentsRequest{
			FlowName: flowName, PageSize: 1000, PageToken: token,
		})
		if err != nil {
			return nil, apiErr(err, "")
		}
		all = append(all, resp.GetDeployments()...)
		if resp.GetNextPageToken() == "" || resp.GetNextPageToken() == token {
			return all, nil
		}
		token = resp.GetNextPageToken()
	}
}

// writeDeploymentTable prints NAME, ID, WORK QUEUE and SCHEDULE, sorted by
// flow then deployment name (the server sorts too; this keeps the output
// right whatever the pages were).
func writeDeploymentTable(w io.Writer, deps []*orionv1.Deployment) error {
	deps = slices.Clone(deps)
	slices.SortStableFunc(deps, func(a, b *orionv1.Deployment) int {
		return cmp.Or(cmp.Compare(a.GetFlowName(), b.GetFlowName()), cmp.Compare(a.GetName(), b.GetName()))
	})
	t := newTable(w, "NAME", "ID", "WORK QUEUE", "SCHEDULE")
	for _, d := range deps {
		t.row(fullName(d), d.GetId(), d.GetWorkQueueName(), scheduleText(d.GetSchedule(), d.GetIsScheduleActive()))
	}
	return t.flush()
}
