package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/infra"
)

// newDeploymentRunCommand is `orion deployment run NAME_OR_ID`.
func newDeploymentRunCommand(m *meta) *cobra.Command {
	var (
		params    paramFlags
		tags      []string
		watch     bool
		scheduled string
		overrides []string
	)
	cmd := &cobra.Command{
		Use:   "run NAME_OR_ID",
		Short: "Create a flow run of a deployment for an agent to pick up",
		Long: `Create a flow run of a deployment, in SCHEDULED, due now (or at --scheduled-time).
An agent serving the deployment's work queue runs it.

With --watch, follow the run and print every state it goes through; the
exit code is 0 when it completes and 1 when it fails, crashes or is cancelled.

--infra-override changes the deployment's infrastructure for this run only:
type=docker, image=..., env.NAME=value, resources.limits.memory=1Gi,
labels.team=data (dots reach into mappings; JSON values are decoded). The
merged infrastructure is validated before the run is created.`,
		Example: `  orion deployment run hello/daily --param name=Marvin --param count=3
  orion deployment run hello/daily --params '{"name": "Marvin"}' --watch
  orion deployment run etl/nightly --infra-override image=python:3.12-slim --infra-override resources.limits.memory=2Gi`,
		Args: exactArgs("NAME_OR_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseDeploymentRef(args[0]); err != nil {
				return err
			}
			paramOverrides, err := params.parse()
			if err != nil {
				return err
			}
			infraOverride, err := infra.ParseOverrides(overrides)
			if err != nil {
				return err
			}
			req := &orionv1.CreateDeploymentFlowRunRequest{Parameters: paramOverrides, Tags: tags, Infrastructure: infraOverride}
			if strings.TrimSpace(scheduled) != "" {
				t, err := parseTimestampIn(scheduled, m.loc)
				if err != nil {
					return fmt.Errorf("invalid --scheduled-time: %v", err)
				}
				req.ScheduledTime = timestamppb.New(t)
			}
			ctx := cmd.Context()
			c, dep, err := m.dialDeployment(ctx, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			req.DeploymentId = dep.GetId()
			if infraOverride != nil {
				if _, err := infra.Parse(infra.Merge(dep.GetInfrastructure(), infraOverride)); err != nil {
					return fmt.Errorf("invalid --infra-override: %v", err)
				}
			}
			resp, err := c.Deployments.CreateDeploymentFlowRun(ctx, req)
			if client.IsNotFound(err) {
				return deploymentNotFound(args[0])
			}
			if err != nil {
				return apiErr(err, "")
			}
			run := resp.GetFlowRun()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created flow run '%s' (%s)\n", run.GetName(), run.GetId())
			if !watch {
				return nil
			}
			final, err := m.watchRun(ctx, c, run, out)
			if err != nil {
				return err
			}
			if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_COMPLETED {
				return finishedError(final)
			}
			return nil
		},
	}
	params.register(cmd)
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "tag to add to the run (repeatable)")
	cmd.Flags().StringArrayVar(&overrides, "infra-override", nil, "infrastructure setting for this run only, key=value (repeatable; e.g. image=python:3.12-slim, env.NAME=value)")
	cmd.Flags().BoolVar(&watch, "watch", false, "follow the run's states until it finishes; exit 1 unless it completes")
	cmd.Flags().StringVar(&scheduled, "scheduled-time", "",
		"when the run is due, RFC 3339 (e.g. 2024-05-01T09:00:00Z; without an offset: local time); default now")
	return cmd
}
