package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// row is one line of the table: a figure, its value and issue 8's target.
type row struct {
	name, value, target string
}

// rows lists the figures present in r, in the order of issue 8.
func (r *Result) rows() []row {
	var out []row
	add := func(name string, v *float64, unit, target string) {
		if v != nil {
			out = append(out, row{name, fmt.Sprintf("%.2f %s", *v, unit), target})
		}
	}
	if l := r.DispatchLatencyMs; l != nil {
		out = append(out, row{"dispatch_latency_ms", fmt.Sprintf("p50 %.2f  p90 %.2f  p99 %.2f  max %.2f", l.P50, l.P90, l.P99, l.Max), "p50 <= 5, p99 <= 25"})
	}
	add("runs_per_second", r.RunsPerSecond, "runs/s", ">= 2,000 (noop)")
	add("runs_per_second_steady", r.RunsPerSecondSteady, "runs/s", "(10th to 90th percentile of ends)")
	add("runs_per_second_subprocess", r.RunsPerSecondSubprocess, "runs/s", "")
	add("api_read_rps_grpc", r.APIReadRPSGRPC, "req/s", ">= 15,000")
	add("api_read_p99_ms_grpc", r.APIReadP99MsGRPC, "ms", "<= 10")
	add("api_read_rps_http", r.APIReadRPSHTTP, "req/s", ">= 5,000")
	add("api_read_p99_ms_http", r.APIReadP99MsHTTP, "ms", "<= 25")
	add("api_write_rps_grpc", r.APIWriteRPSGRPC, "req/s", ">= 3,000")
	add("api_write_p99_ms_grpc", r.APIWriteP99MsGRPC, "ms", "")
	for _, c := range []struct {
		name string
		v    *CPUPerOp
	}{{"api_read_cpu_us_grpc", r.APIReadCPUUsGRPC}, {"api_read_cpu_us_http", r.APIReadCPUUsHTTP}, {"api_write_cpu_us_grpc", r.APIWriteCPUUsGRPC}} {
		if c.v != nil {
			out = append(out, row{c.name, fmt.Sprintf("server %.1f  client %.1f µs/req", c.v.Server, c.v.Client), ""})
		}
	}
	add("list_p99_ms_1m", r.ListP99Ms1M, "ms", "<= 10")
	for _, name := range sortedKeys(r.ListP99Ms1MByFilter) {
		v := r.ListP99Ms1MByFilter[name]
		add("  list p99 "+name, &v, "ms", "")
	}
	add("server_start_ms_1m", r.ServerStartMs1M, "ms", "")
	add("scheduler_pass_ms_10k", r.SchedulerPassMs10K, "cpu ms", "<= 200")
	add("scheduler_first_pass_ms_10k", r.SchedulerFirstPassMs10K, "cpu ms", "")
	add("scheduler_first_minute_pass_ms_10k", r.SchedulerFirstMinuteMs10K, "cpu ms", "")
	add("scheduler_runs_created_per_pass", r.SchedulerRunsCreatedPerPass, "runs", "")
	add("server_start_ms", r.ServerStartMs, "ms", "<= 100")
	add("deployment_create_ms", r.DeploymentCreateMs, "ms", "<= 300")
	if q := r.HelloWorldE2EMs; q != nil {
		out = append(out, row{"hello_world_e2e_ms", fmt.Sprintf("p50 %.2f  p99 %.2f", q.P50, q.P99), "p50 <= 150"})
	}
	add("server_rss_mb_idle", r.ServerRSSMBIdle, "MB", "<= 40")
	name := "agent_rss_mb_idle"
	if r.AgentBinary != "" {
		name += " (" + r.AgentBinary + ")"
	}
	add(name, r.AgentRSSMBIdle, "MB", "<= 25")
	add("agent_rss_mb_idle_in_process (orion)", r.AgentRSSMBIdleInProcess, "MB", "")
	return out
}

// WriteTable prints r for people: the figures with their targets, then the
// machine and the parameters, then any failed phase.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tTARGET (2 cores)")
	for _, x := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", x.name, x.value, x.target)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p := r.Parameters
	fmt.Fprintf(w, "\n%s, %d CPUs (%s), load average %s\n", r.GoVersion, r.CPUs, r.CPUModel, r.LoadAvg)
	fmt.Fprintf(w, "phases %s; runs %d (subprocess %d, e2e %d), agents %d, duration %s, dispatch %d runs/s, list %d runs, scheduler %d deployments, fsync on\n",
		strings.Join(p.Phases, ","), p.Runs, p.SubprocessRuns, p.E2ERuns, p.Agents, p.Duration, p.DispatchRate, p.ListRuns, p.SchedulerDeployments)
	for _, name := range PhaseNames() {
		if msg, ok := r.Errors[name]; ok {
			fmt.Fprintf(w, "FAILED %s: %s\n", name, msg)
		}
	}
	return nil
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
