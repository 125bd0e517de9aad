// Package agentcmd is the command that starts an agent. Two binaries build
// it: the all-in-one orion (`orion agent start`) and the agent's own,
// smaller binary orion-agent (`orion-agent start`), which links no server,
// dashboard or CLI code. `orion agent start` hands over to an orion-agent
// installed beside it (see Delegate), so an agent machine runs the small
// binary whichever command started it.
package agentcmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/agent"
	"github.com/orion-run/orion/client"
	"github.com/orion-run/orion/cmd/internal/logging"
)

// options are the flags of the start command.
type options struct {
	queues              []string
	name                string
	limit               int
	logLevel, logFormat string
	logJSON, hideBanner bool
}

// args renders o as orion-agent's command line, with apiURL resolved.
func (o options) args(apiURL string) []string {
	format := o.logFormat
	if o.logJSON {
		format = "json"
	}
	out := []string{"start", "--api-url", apiURL, "--log-level", o.logLevel, "--log-format", format}
	for _, q := range o.queues {
		out = append(out, "--work-queue", q)
	}
	if o.name != "" {
		out = append(out, "--name", o.name)
	}
	if o.limit != 0 {
		out = append(out, "--limit", strconv.Itoa(o.limit))
	}
	return out
}

// Start returns the `start` command of a binary built at version. With
// delegate set (the all-in-one binary), the command first hands over to an
// orion-agent beside the running binary (see Delegate). apiURL reads the
// binary's --api-url flag.
func Start(version string, delegate bool, apiURL func(*cobra.Command) string) *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "start [WORK_QUEUE]",
		Short: "Start an agent: it receives due runs from the server the moment they are due and runs them",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.queues = append(o.queues, args[0]) // Prefect's positional form: `agent start QUEUE`
			}
			if len(o.queues) == 0 {
				o.queues = []string{"default"}
			}
			url := client.APIURL(apiURL(cmd))
			jsonLogs, err := logging.ParseFormat(o.logFormat)
			if err != nil {
				return err
			}
			if delegate {
				if err := Delegate(version, o.args(url)); err != nil {
					return err
				}
			} else if err := checkParentVersion(version); err != nil {
				return err
			}
			return run(cmd, version, url, o, jsonLogs || o.logJSON)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.queues, "work-queue", "q", nil, "work queue to take runs from (repeatable; default \"default\")")
	f.StringVar(&o.name, "name", "", "agent name shown by the server (default: derived from the host name)")
	f.IntVar(&o.limit, "limit", 0, "maximum concurrent flow runs (0: no limit)")
	f.StringVar(&o.logLevel, "log-level", logging.EnvOr("ORION_LOG_LEVEL", "info"), "trace, debug, info, warn or error (ORION_LOG_LEVEL)")
	f.StringVar(&o.logFormat, "log-format", logging.EnvOr("ORION_LOG_FORMAT", "text"), "text or json (ORION_LOG_FORMAT)")
	f.BoolVar(&o.logJSON, "log-json", false, "write logs as JSON")
	f.MarkDeprecated("log-json", "use --log-format json") //nolint:errcheck // the flag exists
	f.BoolVar(&o.hideBanner, "hide-welcome", false, "accepted for Prefect compatibility")
	return cmd
}

// run runs the agent until SIGINT or SIGTERM.
func run(cmd *cobra.Command, version, apiURL string, o options, jsonLogs bool) error {
	log := logging.New("orion", o.logLevel, jsonLogs, cmd.ErrOrStderr())
	a, err := agent.New(agent.Config{
		APIURL:     apiURL,
		Name:       o.name,
		WorkQueues: o.queues,
		Limit:      o.limit,
		Home:       client.Home(),
		Logger:     log,
		Version:    version,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Starting agent connected to %s...\n", apiURL)
	go func() {
		select {
		case <-a.Ready():
			fmt.Fprintf(out, "Agent started! Looking for work from queue '%s'...\n", strings.Join(o.queues, "', '"))
		case <-ctx.Done():
		}
	}()
	if err := a.Run(ctx); err != nil && err != context.Canceled {
		return err
	}
	fmt.Fprintln(out, "Agent stopped!")
	return nil
}

// checkParentVersion fails when `orion agent start` of another version
// handed over to this orion-agent: the two binaries come from different
// builds. It removes the variable, so flow runs do not inherit it.
func checkParentVersion(version string) error {
	want, ok := os.LookupEnv(envParentVersion)
	if !ok {
		return nil
	}
	os.Unsetenv(envParentVersion) //nolint:errcheck // cannot fail for a valid name
	if want == version {
		return nil
	}
	self, _ := os.Executable()
	return fmt.Errorf("%s is version %s, but orion version %s started it: install orion and %s from the same build, or set %s=1 to run the agent inside orion",
		self, version, want, BinaryName, EnvInProcess)
}
