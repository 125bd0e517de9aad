package cli

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// newAgentListCommand is `orion agent ls`.
func newAgentListCommand(m *meta) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List agents with their queues, runs in flight and last heartbeat",
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
			resp, err := c.WorkQueues.ListAgents(cmd.Context(), &orionv1.ListAgentsRequest{})
			if err != nil {
				return apiErr(err, "")
			}
			if output == outputJSON {
				return writeProtoList(cmd.OutOrStdout(), resp.GetAgents())
			}
			t := newTable(cmd.OutOrStdout(), "NAME", "ID", "WORK QUEUES", "RUNS IN FLIGHT", "CONNECTED", "LAST HEARTBEAT")
			for _, a := range resp.GetAgents() {
				inFlight := strconv.Itoa(int(a.GetRunsInFlight()))
				if a.GetLimit() > 0 {
					inFlight += "/" + strconv.Itoa(int(a.GetLimit()))
				}
				t.row(a.GetName(), a.GetId(), strings.Join(a.GetWorkQueues(), ","), inFlight,
					strconv.FormatBool(a.GetConnected()), fmtTime(a.GetLastHeartbeatTime(), m.loc, layoutDateTime))
			}
			return t.flush()
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

// addAgentCommands adds `agent ls` to the `agent` group that cmd/orion
// provides (agent start), or creates the group when there is none.
func addAgentCommands(m *meta, root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() == "agent" {
			c.AddCommand(newAgentListCommand(m))
			return
		}
	}
	group := &cobra.Command{Use: "agent", Short: "List agents", Args: noArgs, RunE: groupRun}
	group.AddCommand(newAgentListCommand(m))
	root.AddCommand(group)
}
