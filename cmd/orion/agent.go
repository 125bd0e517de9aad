package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/agent"
	"github.com/orion-run/orion/client"
	"github.com/orion-run/orion/cmd/internal/agentcmd"
	"github.com/orion-run/orion/cmd/internal/logging"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func agentCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "agent", Short: "Run an agent that executes flow runs"}
	cmd.AddCommand(agentcmd.Start(version, true, func(c *cobra.Command) string { return flagString(c, "api-url") }))
	return cmd
}

// flagString reads a persistent flag by name, or "" when it is absent.
func flagString(cmd *cobra.Command, name string) string {
	if f := cmd.Flags().Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// executeLocally runs `orion deployment execute` in this process.
func executeLocally(ctx context.Context, c *client.Client, dep *orionv1.Deployment, run *orionv1.FlowRun, out io.Writer) (*orionv1.FlowRun, error) {
	log := logging.New("orion", "warn", false, os.Stderr)
	return agent.Execute(ctx, c, client.Home(), dep, run, out, log)
}
