package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/cmd/internal/logging"
	"github.com/orion-run/orion/cmd/orion/internal/bench"
)

func benchCommand() *cobra.Command {
	var (
		opts         = bench.DefaultOptions()
		only, output string
		logLevel     string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Orion end to end: a real server and agents on loopback, load through the public API",
		Long: `bench starts a server (this binary, a fresh store in a temp folder, fsync on) and
agent processes on loopback ports, drives load through the public API and prints
the figures of docs/performance.md. Phases (--only, comma-separated):

  startup     server start on an existing store; 'orion deployment create' of the hello-world flow
  rss         idle resident memory of the server and of an agent
  dispatch    due -> claimed latency at --rate due runs/s across --agents agents, for --duration
  throughput  create -> Completed runs/s: --runs noop runs, then --runs/40 subprocess runs
  api         GetFlowRun over gRPC and HTTP (16 in flight), CreateFlowRun over gRPC (64), --duration each
  e2e         hello-world run request -> Completed, real Python subprocesses (--runs/400 runs, 5 to 50)
  scheduler   one scheduler pass over --scheduler-deployments 1-minute cron deployments (in process, CPU time)
  list        a ListFlowRuns page with --list-runs runs stored

Children are stopped and the temp folder removed on exit and on Ctrl-C. A phase
that fails makes the command exit 1; slow figures never do.`,
		Example: `  orion bench                                   # everything (several minutes: the 1M-run store takes a while)
  orion bench --only dispatch,api --duration 3s  # a quick look
  orion bench --only throughput --runs 2000 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("invalid output format '%s': expected 'table' or 'json'", output)
			}
			if only != "" {
				opts.Phases = strings.Split(only, ",")
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the orion binary: %w", err)
			}
			opts.Binary = exe
			opts.Logger = logging.New("orion.bench", logLevel, false, cmd.ErrOrStderr())
			res, err := bench.Run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else if err := res.WriteTable(out); err != nil {
				return err
			}
			return res.Failed()
		},
	}
	f := cmd.Flags()
	f.StringVar(&only, "only", "", "phases to run, comma-separated: "+strings.Join(bench.PhaseNames(), ","))
	f.IntVar(&opts.Runs, "runs", opts.Runs, "runs pushed through in the throughput phase (a 40th with subprocesses; a 400th, 5 to 50, in e2e)")
	f.IntVar(&opts.Agents, "agents", opts.Agents, "agent processes in the dispatch, throughput, e2e and rss phases")
	f.DurationVar(&opts.Duration, "duration", opts.Duration, "length of the dispatch phase and of each API measurement")
	f.IntVar(&opts.DispatchRate, "rate", opts.DispatchRate, "due runs per second in the dispatch phase")
	f.IntVar(&opts.ListRuns, "list-runs", opts.ListRuns, "runs stored for the list phase")
	f.IntVar(&opts.SchedulerDeployments, "scheduler-deployments", opts.SchedulerDeployments, "deployments in the scheduler phase")
	f.BoolVar(&opts.Keep, "keep", false, "keep the temp folder (stores and the children's logs) and print its path")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	f.StringVar(&logLevel, "log-level", "info", "progress messages on stderr: debug, info, warn, error or off")
	return cmd
}
