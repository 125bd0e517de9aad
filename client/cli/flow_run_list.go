package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// defaultRunLimit is how many runs `flow-run ls` shows by default.
const defaultRunLimit = 20

// newFlowRunListCommand is `orion flow-run ls`.
func newFlowRunListCommand(m *meta) *cobra.Command {
	var (
		flowName, deployment, output string
		states                       []string
		limit                        int
	)
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List flow runs, newest first",
		Example: `  orion flow-run ls --deployment hello/daily --state failed --state crashed`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if limit < 0 {
				return fmt.Errorf("invalid --limit %d: expected 0 (no limit) or more", limit)
			}
			req := &orionv1.ListFlowRunsRequest{FlowName: flowName}
			for _, s := range states {
				t, err := parseStateType(s)
				if err != nil {
					return err
				}
				req.StateTypes = append(req.StateTypes, t)
			}
			if deployment != "" {
				if _, err := parseDeploymentRef(deployment); err != nil {
					return err
				}
			}
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			if deployment != "" {
				dep, err := resolveDeployment(ctx, c, deployment)
				if err != nil {
					return err
				}
				req.DeploymentId = dep.GetId()
			}
			var runs []*orionv1.FlowRun
			for {
				req.PageSize = 1000
				if limit > 0 {
					req.PageSize = int32(min(limit-len(runs), 1000))
				}
				resp, err := c.FlowRuns.ListFlowRuns(ctx, req)
				if err != nil {
					return apiErr(err, "")
				}
				runs = append(runs, resp.GetFlowRuns()...)
				next := resp.GetNextPageToken()
				if next == "" || next == req.PageToken || (limit > 0 && len(runs) >= limit) {
					break
				}
				req.PageToken = next
			}
			if limit > 0 && len(runs) > limit {
				runs = runs[:limit]
			}
			if output == outputJSON {
				return writeProtoList(cmd.OutOrStdout(), runs)
			}
			return writeFlowRunTable(cmd.OutOrStdout(), runs, m.loc)
		},
	}
	cmd.Flags().StringVar(&flowName, "flow-name", "", "only runs of this flow")
	cmd.Flags().StringVar(&deployment, "deployment", "", "only runs of this deployment (NAME_OR_ID)")
	cmd.Flags().StringSliceVar(&states, "state", nil,
		"only runs in this state type: scheduled, pending, running, completed, failed, cancelled, crashed, paused, cancelling (repeatable)")
	cmd.Flags().IntVar(&limit, "limit", defaultRunLimit, "maximum number of runs to show (0: all)")
	addOutputFlag(cmd, &output)
	return cmd
}

// parseStateType parses "failed", "FAILED" or "STATE_TYPE_FAILED".
func parseStateType(s string) (orionv1.StateType, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	name = strings.TrimPrefix(name, "STATE_TYPE_")
	if v, ok := orionv1.StateType_value["STATE_TYPE_"+name]; ok && v != 0 {
		return orionv1.StateType(v), nil
	}
	valid := make([]string, 0, len(orionv1.StateType_name))
	for v := int32(1); v < int32(len(orionv1.StateType_name)); v++ {
		valid = append(valid, strings.ToLower(typeShort(orionv1.StateType(v))))
	}
	return 0, fmt.Errorf("invalid state type '%s': expected one of %s", s, strings.Join(valid, ", "))
}

// writeFlowRunTable prints runs in the order given (the server's: newest
// first).
func writeFlowRunTable(w io.Writer, runs []*orionv1.FlowRun, loc *time.Location) error {
	t := newTable(w, "ID", "NAME", "FLOW", "DEPLOYMENT", "STATE", "EXPECTED START", "START")
	for _, r := range runs {
		t.row(r.GetId(), r.GetName(), r.GetFlowName(), r.GetDeploymentName(), stateName(r.GetState()),
			fmtTime(r.GetExpectedStartTime(), loc, layoutDateTime), fmtTime(r.GetStartTime(), loc, layoutDateTime))
	}
	return t.flush()
}
