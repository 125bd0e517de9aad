// Command orion-agent is Orion's agent in a binary of its own: the agent of
// `orion agent start` without the server, the dashboard and the CLI, for
// the machines that only run flows. `orion agent start` hands over to it
// when it is installed beside orion.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/agent/runner/process"
	"github.com/orion-run/orion/client"
	"github.com/orion-run/orion/cmd/internal/agentcmd"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// A flow run's supervisor is the agent's binary re-executed by the
	// subprocess runner; it never returns from here.
	process.ShimMain()
	root := newRoot()
	if err := root.Execute(); err != nil {
		// The start command handles SIGINT and SIGTERM itself; what ends
		// here is a bad flag or an agent that could not start. (It does
		// not link orion's CLI for its error printing: see
		// docs/performance.md on the agent's memory.)
		fmt.Fprintf(root.ErrOrStderr(), "Error: %v\n", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	var apiURL string
	root := &cobra.Command{
		Use:           agentcmd.BinaryName,
		Short:         "Orion's agent: runs the flow runs an Orion server sends it",
		Long:          "orion-agent is the agent of `orion agent start` in a binary of its own, for machines that only run flows.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
	}
	root.PersistentFlags().StringVar(&apiURL, "api-url", client.APIURL(""), "URL of the Orion server (env "+client.EnvAPIURL+")")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(agentcmd.Start(version, false, func(*cobra.Command) string { return apiURL }))
	return root
}
