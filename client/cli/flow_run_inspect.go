package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newFlowRunInspectCommand is `orion flow-run inspect ID`.
func newFlowRunInspectCommand(m *meta) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "inspect ID",
		Short: "Show a flow run and its state history",
		Long: `Show a flow run and its state history. With -o json the output is
{"flow_run": {...}, "states": [...]}.`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			id := strings.TrimSpace(args[0])
			c, err := m.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			resp, err := c.FlowRuns.GetFlowRun(ctx, &orionv1.GetFlowRunRequest{Id: id})
			if err != nil {
				return runErr(err, id)
			}
			hist, err := c.FlowRuns.ListFlowRunStates(ctx, &orionv1.ListFlowRunStatesRequest{FlowRunId: id})
			if err != nil {
				return runErr(err, id)
			}
			if output == outputJSON {
				return writeRunJSON(cmd.OutOrStdout(), resp.GetFlowRun(), hist.GetStates())
			}
			return writeRunDetails(cmd.OutOrStdout(), resp.GetFlowRun(), hist.GetStates(), m.loc)
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

// writeRunJSON prints {"flow_run": ..., "states": [...]}.
func writeRunJSON(w io.Writer, run *orionv1.FlowRun, states []*orionv1.State) error {
	r, err := protoJSON(run, true)
	if err != nil {
		return err
	}
	s, err := protoList(states, true)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		FlowRun json.RawMessage   `json:"flow_run"`
		States  []json.RawMessage `json:"states"`
	}{r, s})
}

// writeRunDetails prints the run's key fields, then its STATE HISTORY.
func writeRunDetails(w io.Writer, r *orionv1.FlowRun, states []*orionv1.State, loc *time.Location) error {
	state := stateName(r.GetState())
	if msg := oneLine(r.GetState().GetMessage()); msg != "" {
		state += " - " + msg
	}
	deployment := "-"
	if r.GetDeploymentId() != "" {
		deployment = fmt.Sprintf("%s/%s (%s)", r.GetFlowName(), r.GetDeploymentName(), r.GetDeploymentId())
	}
	params := "-"
	if len(r.GetParameters().GetFields()) > 0 {
		if b, err := protoJSON(r.GetParameters(), false); err == nil {
			params = string(b)
		}
	}
	kv := newTable(w)
	for _, f := range [][2]string{
		{"ID", r.GetId()},
		{"Name", r.GetName()},
		{"Flow", r.GetFlowName()},
		{"Deployment", deployment},
		{"Work queue", r.GetWorkQueueName()},
		{"State", state},
		{"Parameters", params},
		{"Tags", strings.Join(r.GetTags(), ", ")},
		{"Expected start", fmtTime(r.GetExpectedStartTime(), loc, layoutDateTime)},
		{"Start", fmtTime(r.GetStartTime(), loc, layoutDateTime)},
		{"End", fmtTime(r.GetEndTime(), loc, layoutDateTime)},
		{"Total run time", fmtProtoDuration(r.GetTotalRunTime())},
		{"Run count", fmt.Sprint(r.GetRunCount())},
		{"Retries", fmt.Sprint(r.GetRetries())},
		{"Agent", r.GetAgentId()},
		{"Infrastructure PID", r.GetInfrastructurePid()},
	} {
		kv.row(f[0], f[1])
	}
	if err := kv.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "STATE HISTORY")
	t := newTable(w, "TIME", "TYPE", "NAME", "MESSAGE")
	for _, s := range states {
		t.row(fmtTime(s.GetTimestamp(), loc, layoutDateTime), typeShort(s.GetType()), stateName(s), s.GetMessage())
	}
	return t.flush()
}
