// Package bench is `orion bench`: it starts a real server and real agents
// (this same binary, in child processes, on loopback ports, with a fresh
// store in a temp folder and fsync on), drives load through the public API
// and reports the figures of issue 8. docs/performance.md describes how
// each figure is measured.
//
// Phases run one after another, each on its own fresh server (and agents
// when it needs them), so that no phase's figure depends on what an earlier
// phase left in the store. A phase that fails is reported in
// Result.Errors; timings never fail.
package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Options select what Run measures. Zero fields take the defaults of
// DefaultOptions.
type Options struct {
	// Phases to run, in any order (they always run in PhaseNames order);
	// empty means all.
	Phases []string
	// Runs is how many runs the noop throughput phase pushes through; the
	// subprocess throughput phase uses a tenth of it and the hello-world
	// phase a hundredth (5 to 50).
	Runs int
	// Agents is how many agent processes the dispatch, throughput and
	// e2e phases start.
	Agents int
	// Duration is how long each timed phase (dispatch, each API figure)
	// runs.
	Duration time.Duration
	// DispatchRate is the steady rate of due runs in the dispatch phase.
	DispatchRate int
	// ListRuns is how many runs the list phase stores.
	ListRuns int
	// SchedulerDeployments is how many 1-minute cron deployments the
	// scheduler phase evaluates.
	SchedulerDeployments int
	// Binary is the orion binary the children run (os.Executable()).
	Binary string
	// Keep leaves the temp folder (stores, logs) in place.
	Keep bool
	// Logger receives progress lines (default: none).
	Logger hclog.Logger
}

// DefaultOptions are the full run's sizes.
func DefaultOptions() Options {
	return Options{
		Runs:                 20000,
		Agents:               10,
		Duration:             10 * time.Second,
		DispatchRate:         100,
		ListRuns:             1_000_000,
		SchedulerDeployments: 10_000,
	}
}

// Concurrency of the API phases (issue 8), and of the creates of the
// throughput phase: enough in flight that the server, not the load
// generator, is the limit (at 64, both cores were idle 16% of the time,
// every create waiting for its commit).
const (
	readConcurrency       = 16
	writeConcurrency      = 64
	throughputConcurrency = 256
	listPageSize          = 50
)

// loadGeneratorGCPercent is the bench process's GOGC: its live heap is a
// few megabytes, so at the default it collects many times a second.
const loadGeneratorGCPercent = 400

// phase is one named measurement.
type phase struct {
	name string
	run  func(ctx context.Context, e *env, r *Result) error
}

// phases in the order they run: the cheap ones first, the 1M-run list last.
var phases = []phase{
	{"startup", runStartup},
	{"rss", runRSS},
	{"dispatch", runDispatch},
	{"throughput", runThroughput},
	{"api", runAPI},
	{"e2e", runE2E},
	{"scheduler", runScheduler},
	{"list", runList},
}

// PhaseNames lists every phase, in the order they run.
func PhaseNames() []string {
	names := make([]string, len(phases))
	for i, p := range phases {
		names[i] = p.name
	}
	return names
}

// withDefaults fills zero fields from DefaultOptions and checks the rest.
func (o Options) withDefaults() (Options, error) {
	def := DefaultOptions()
	if o.Runs == 0 {
		o.Runs = def.Runs
	}
	if o.Agents == 0 {
		o.Agents = def.Agents
	}
	if o.Duration == 0 {
		o.Duration = def.Duration
	}
	if o.DispatchRate == 0 {
		o.DispatchRate = def.DispatchRate
	}
	if o.ListRuns == 0 {
		o.ListRuns = def.ListRuns
	}
	if o.SchedulerDeployments == 0 {
		o.SchedulerDeployments = def.SchedulerDeployments
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	switch {
	case o.Runs < 10:
		return o, fmt.Errorf("--runs %d: use at least 10", o.Runs)
	case o.Agents < 1:
		return o, fmt.Errorf("--agents %d: use at least 1", o.Agents)
	case o.Duration < time.Second:
		return o, fmt.Errorf("--duration %s: use at least 1s", o.Duration)
	case o.DispatchRate < 1 || o.ListRuns < listPageSize || o.SchedulerDeployments < 1:
		return o, errors.New("dispatch rate, list runs and scheduler deployments must be positive")
	case o.Binary == "":
		return o, errors.New("no orion binary to start")
	}
	if len(o.Phases) == 0 {
		o.Phases = PhaseNames()
	}
	for _, p := range o.Phases {
		if !slices.Contains(PhaseNames(), p) {
			return o, fmt.Errorf("unknown phase %q: use %s", p, strings.Join(PhaseNames(), ","))
		}
	}
	return o, nil
}

// subprocessRuns and e2eRuns derive the smaller phases' sizes from Runs.
func (o Options) subprocessRuns() int { return max(10, o.Runs/40) }
func (o Options) e2eRuns() int        { return max(5, min(50, o.Runs/400)) }

// Run runs the selected phases and returns their figures. It returns an
// error only when it could not run at all or ctx was cancelled (the
// children are stopped and the temp folder removed either way); a failed
// phase is recorded in Result.Errors and the next phase runs.
func Run(ctx context.Context, opts Options) (*Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	e, err := newEnv(opts)
	if err != nil {
		return nil, err
	}
	defer e.close()
	// The bench is the load generator, on the cores it measures: it
	// collects its garbage less often so that more of them serve the
	// system under test (a sixth less CPU per gRPC read of its own).
	defer debug.SetGCPercent(debug.SetGCPercent(loadGeneratorGCPercent))
	r := &Result{
		GoVersion: runtime.Version(),
		CPUs:      runtime.NumCPU(),
		CPUModel:  cpuModel(),
		LoadAvg:   loadAvg(),
		Parameters: Parameters{
			Phases: opts.Phases, Runs: opts.Runs, SubprocessRuns: opts.subprocessRuns(), E2ERuns: opts.e2eRuns(),
			Agents: opts.Agents, Duration: opts.Duration.String(), DispatchRate: opts.DispatchRate,
			ReadConcurrency: readConcurrency, WriteConcurrency: writeConcurrency, ThroughputConcurrency: throughputConcurrency,
			ListRuns: opts.ListRuns, ListPageSize: listPageSize, SchedulerDeployments: opts.SchedulerDeployments, Fsync: true,
			LoadGeneratorGOGC: loadGeneratorGCPercent,
		},
	}
	for _, p := range phases {
		if !slices.Contains(opts.Phases, p.name) {
			continue
		}
		begin := time.Now()
		opts.Logger.Info("phase started", "phase", p.name)
		err := p.run(ctx, e.phase(p.name), r)
		e.stopAll()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			if r.Errors == nil {
				r.Errors = map[string]string{}
			}
			r.Errors[p.name] = oneLine(err.Error())
			opts.Logger.Error("phase failed", "phase", p.name, "error", err)
			continue
		}
		opts.Logger.Info("phase done", "phase", p.name, "took", time.Since(begin).Round(time.Millisecond).String())
	}
	return r, nil
}

// Failed returns an error naming the failed phases, or nil.
func (r *Result) Failed() error {
	if len(r.Errors) == 0 {
		return nil
	}
	var parts []string
	for _, p := range PhaseNames() {
		if msg, ok := r.Errors[p]; ok {
			parts = append(parts, p+": "+msg)
		}
	}
	return fmt.Errorf("bench phase failed: %s", strings.Join(parts, "; "))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cpuModel is the first "model name" of /proc/cpuinfo ("" elsewhere).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAvg is the 1, 5 and 15 minute load averages when the run started.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
