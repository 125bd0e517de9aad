// Command orion is Orion's all-in-one binary: the server, the agent and the
// CLI. (cmd/orion-agent is the agent alone; `orion agent start` hands over
// to it when it is installed beside orion.)
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/agent/runner/process"
	"github.com/orion-run/orion/client/cli"
	"github.com/orion-run/orion/server/scheduler"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// A flow run's supervisor is this binary re-executed by the agent's
	// subprocess runner; it never returns from here.
	process.ShimMain()
	root := cli.NewRootCommand(cli.Extensions{
		Commands:        []*cobra.Command{serverCommand(), agentCommand(), sdkCommand(), benchCommand()},
		Execute:         executeLocally,
		PreviewSchedule: scheduler.Dates,
	})
	root.Version = version
	os.Exit(cli.Main(root))
}
