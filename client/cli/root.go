// Package cli is Orion's user command line: `orion deployment ...` and
// `orion flow-run ...`. It talks to the server only through package client,
// and to the Python runtime only through package sdk/python.
//
// Every subcommand lives in its own file (deployment_run.go,
// flow_run_logs.go, ...) and is built by a constructor that takes the shared
// *meta, which holds the global flags and the seams tests replace.
//
// cmd/orion builds the tree with NewRootCommand, adding the commands that
// live elsewhere (server, agent) through Extensions, and runs it with Main.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// ExecuteFunc runs a flow run of dep in this process (`orion deployment
// execute`). run is already in PENDING. It writes the flow's output to out and
// returns the run as it ended; its state decides the exit code.
type ExecuteFunc func(ctx context.Context, c *client.Client, dep *orionv1.Deployment, run *orionv1.FlowRun, out io.Writer) (*orionv1.FlowRun, error)

// Extensions are the parts of the command tree that live outside this
// package, wired in by cmd/orion.
type Extensions struct {
	// Commands are added to the root command as they are (e.g. server, agent).
	Commands []*cobra.Command
	// Execute runs a deployment's flow locally. When nil, `orion deployment
	// execute` fails with a clear message.
	Execute ExecuteFunc
	// PreviewSchedule computes schedule dates for `orion schedule preview`
	// and `orion deployment preview`. When nil, both fail with a clear
	// message.
	PreviewSchedule PreviewFunc
}

// apiURLFlag is the name of the persistent flag that selects the server.
const apiURLFlag = "api-url"

// meta holds what every command shares: the global flags and the seams that
// tests replace (the Python runtime, the time zone used for display, the
// delay between reconnects).
type meta struct {
	apiURL string
	ext    Extensions

	// py loads deployment specs and inspects flows by running Python.
	py pythonRuntime
	// home is Orion's home folder, handed to the Python runtime.
	home func() string
	// loc is the time zone times are printed in.
	loc *time.Location
	// retryDelay is how long to wait before reconnecting a broken stream
	// for the n-th consecutive time (n starts at 1).
	retryDelay func(n int) time.Duration
}

func defaultMeta(ext Extensions) *meta {
	return &meta{
		ext:        ext,
		py:         sdkRuntime{},
		home:       client.Home,
		loc:        time.Local,
		retryDelay: backoff,
	}
}

// backoff doubles from 250ms up to 4s.
func backoff(n int) time.Duration {
	d := 250 * time.Millisecond
	for i := 1; i < n && d < 4*time.Second; i++ {
		d *= 2
	}
	return min(d, 4*time.Second)
}

// url returns the API URL commands talk to.
func (m *meta) url() string { return client.APIURL(m.apiURL) }

// dial connects to the server. The connection is lazy: an unreachable server
// shows up as Unavailable on the first call, which Main reports.
func (m *meta) dial() (*client.Client, error) {
	return client.Dial(m.url())
}

// NewRootCommand builds the `orion` command tree: the deployment and flow-run
// command groups, plus ext.Commands. Errors are not printed by cobra; run the
// tree with Main.
func NewRootCommand(ext Extensions) *cobra.Command {
	return newRootCommand(defaultMeta(ext))
}

func newRootCommand(m *meta) *cobra.Command {
	root := &cobra.Command{
		Use:           "orion",
		Short:         "Orion: workflow orchestration",
		Long:          "Orion runs and schedules flows through deployments, work queues and agents.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgs,
		RunE:          groupRun,
	}
	root.PersistentFlags().StringVar(&m.apiURL, apiURLFlag, client.APIURL(""),
		"URL of the Orion server (env "+client.EnvAPIURL+")")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newDeploymentCommand(m), newFlowRunCommand(m), newWorkQueueCommand(m), newTokenCommand(m), newKubernetesCommand())
	root.AddCommand(m.ext.Commands...)
	addAgentCommands(m, root)
	addScheduleCommands(m, root)
	return root
}

// groupRun shows a command group's help, or fails on an unknown subcommand
// (cobra would otherwise print help and exit 0).
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command '%s' for '%s' (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return cmd.Help()
}

// noArgs lets groupRun report unknown subcommands itself.
func noArgs(*cobra.Command, []string) error { return nil }

// Main runs root until it finishes or is interrupted (SIGINT, SIGTERM) and
// returns the process exit code. An error is printed to root's stderr as one
// line, "Error: <message>": gRPC errors by their message, an unreachable
// server as a hint to start it. Commands choose other exit codes with
// *ExitError.
func Main(root *cobra.Command) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default handling so that a second
	// Ctrl-C kills a command that does not stop in time.
	go func() {
		<-ctx.Done()
		stop()
	}()
	_, err := root.ExecuteContextC(ctx)
	return report(root.ErrOrStderr(), rootAPIURL(root), err, ctx.Err() != nil)
}

// rootAPIURL returns the API URL the root's flag selected.
func rootAPIURL(root *cobra.Command) string {
	if f := root.PersistentFlags().Lookup(apiURLFlag); f != nil {
		return client.APIURL(f.Value.String())
	}
	return client.APIURL("")
}
