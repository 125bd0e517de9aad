package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/agent"
	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func agentCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "agent", Short: "Run an agent that executes flow runs"}
	cmd.AddCommand(agentStartCommand())
	return cmd
}

func agentStartCommand() *cobra.Command {
	var (
		queues                    []string
		name, logLevel, logFormat string
		limit                     int
		logJSON, hideBanner       bool
	)
	cmd := &cobra.Command{
		Use:   "start [WORK_QUEUE]",
		Short: "Start an agent: it receives due runs from the server the moment they are due and runs them",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				queues = append(queues, args[0]) // Prefect's positional form: `agent start QUEUE`
			}
			if len(queues) == 0 {
				queues = []string{"default"}
			}
			apiURL := client.APIURL(flagString(cmd, "api-url"))
			jsonLogs, err := parseLogFormat(logFormat)
			if err != nil {
				return err
			}
			log := newLogger("orion", logLevel, jsonLogs || logJSON, cmd.ErrOrStderr())
			a, err := agent.New(agent.Config{
				APIURL:     apiURL,
				Name:       name,
				WorkQueues: queues,
				Limit:      limit,
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
					fmt.Fprintf(out, "Agent started! Looking for work from queue '%s'...\n", strings.Join(queues, "', '"))
				case <-ctx.Done():
				}
			}()
			if err := a.Run(ctx); err != nil && err != context.Canceled {
				return err
			}
			fmt.Fprintln(out, "Agent stopped!")
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&queues, "work-queue", "q", nil, "work queue to take runs from (repeatable; default \"default\")")
	cmd.Flags().StringVar(&name, "name", "", "agent name shown by the server (default: derived from the host name)")
	cmd.Flags().IntVar(&limit, "limit", 0, "maximum concurrent flow runs (0: no limit)")
	cmd.Flags().StringVar(&logLevel, "log-level", envOr("ORION_LOG_LEVEL", "info"), "trace, debug, info, warn or error (ORION_LOG_LEVEL)")
	cmd.Flags().StringVar(&logFormat, "log-format", envOr("ORION_LOG_FORMAT", "text"), "text or json (ORION_LOG_FORMAT)")
	cmd.Flags().BoolVar(&logJSON, "log-json", false, "write logs as JSON")
	cmd.Flags().MarkDeprecated("log-json", "use --log-format json") //nolint:errcheck // the flag exists
	cmd.Flags().BoolVar(&hideBanner, "hide-welcome", false, "accepted for Prefect compatibility")
	return cmd
}

// envOr is the environment variable key, or def when it is unset or empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// parseLogFormat reports whether a --log-format value asks for JSON logs.
func parseLogFormat(v string) (bool, error) {
	switch v {
	case "json":
		return true, nil
	case "text":
		return false, nil
	default:
		return false, fmt.Errorf("--log-format %q is not text or json", v)
	}
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
	log := newLogger("orion", "warn", false, os.Stderr)
	return agent.Execute(ctx, c, client.Home(), dep, run, out, log)
}
