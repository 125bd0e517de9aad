// Command orion is Orion's single binary: the server, the agent and the CLI.
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := cli.NewRootCommand(cli.Extensions{
		Commands: []*cobra.Command{serverCommand(), agentCommand()},
		Execute:  executeLocally,
	})
	root.Version = version
	os.Exit(cli.Main(root))
}
