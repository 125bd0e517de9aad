package bench

import (
	"math"
	"slices"
	"time"
)

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Quantiles is the two-quantile summary hello_world_e2e_ms reports.
type Quantiles struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// CPUPerOp is the CPU time one operation cost, in microseconds: the
// server's, and the load generator's (the bench process, using the Go SDK
// or net/http).
type CPUPerOp struct {
	Server float64 `json:"server"`
	Client float64 `json:"client"`
}

// Result is what `orion bench -o json` prints: one key per figure. The
// figures of phases that were not run are absent. Names ending in _1m and
// _10k describe the default sizes; Parameters holds the sizes used.
type Result struct {
	DispatchLatencyMs *Latency `json:"dispatch_latency_ms,omitempty"`

	RunsPerSecond           *float64 `json:"runs_per_second,omitempty"`
	RunsPerSecondSteady     *float64 `json:"runs_per_second_steady,omitempty"`
	RunsPerSecondSubprocess *float64 `json:"runs_per_second_subprocess,omitempty"`

	APIReadRPSGRPC    *float64 `json:"api_read_rps_grpc,omitempty"`
	APIReadP99MsGRPC  *float64 `json:"api_read_p99_ms_grpc,omitempty"`
	APIReadRPSHTTP    *float64 `json:"api_read_rps_http,omitempty"`
	APIReadP99MsHTTP  *float64 `json:"api_read_p99_ms_http,omitempty"`
	APIWriteRPSGRPC   *float64 `json:"api_write_rps_grpc,omitempty"`
	APIWriteP99MsGRPC *float64 `json:"api_write_p99_ms_grpc,omitempty"`
	// The CPU time per request of the server and of the load generator:
	// steadier than the rates on a shared machine, whose speed moves.
	APIReadCPUUsGRPC  *CPUPerOp `json:"api_read_cpu_us_grpc,omitempty"`
	APIReadCPUUsHTTP  *CPUPerOp `json:"api_read_cpu_us_http,omitempty"`
	APIWriteCPUUsGRPC *CPUPerOp `json:"api_write_cpu_us_grpc,omitempty"`

	ListP99Ms1M *float64 `json:"list_p99_ms_1m,omitempty"`
	// ListP99Ms1MByFilter breaks list_p99_ms_1m down by filter, plus
	// filters that are not part of it (see docs/performance.md).
	ListP99Ms1MByFilter map[string]float64 `json:"list_p99_ms_1m_by_filter,omitempty"`
	ServerStartMs1M     *float64           `json:"server_start_ms_1m,omitempty"`

	SchedulerPassMs10K          *float64 `json:"scheduler_pass_ms_10k,omitempty"`
	SchedulerFirstPassMs10K     *float64 `json:"scheduler_first_pass_ms_10k,omitempty"`
	SchedulerFirstMinuteMs10K   *float64 `json:"scheduler_first_minute_pass_ms_10k,omitempty"`
	SchedulerRunsCreatedPerPass *float64 `json:"scheduler_runs_created_per_pass,omitempty"`

	ServerStartMs      *float64   `json:"server_start_ms,omitempty"`
	DeploymentCreateMs *float64   `json:"deployment_create_ms,omitempty"`
	HelloWorldE2EMs    *Quantiles `json:"hello_world_e2e_ms,omitempty"`

	ServerRSSMBIdle *float64 `json:"server_rss_mb_idle,omitempty"`
	AgentRSSMBIdle  *float64 `json:"agent_rss_mb_idle,omitempty"`
	// AgentBinary is the binary the agents ran: orion-agent when it is
	// installed beside orion (`orion agent start` hands over to it), else
	// orion.
	AgentBinary string `json:"agent_binary,omitempty"`
	// AgentRSSMBIdleInProcess is one more agent's, started with
	// ORION_AGENT_IN_PROCESS=1 (inside orion), when AgentBinary is
	// orion-agent.
	AgentRSSMBIdleInProcess *float64 `json:"agent_rss_mb_idle_in_process,omitempty"`

	GoVersion  string     `json:"go_version"`
	CPUs       int        `json:"cpus"`
	CPUModel   string     `json:"cpu_model,omitempty"`
	LoadAvg    string     `json:"load_avg,omitempty"`
	Parameters Parameters `json:"parameters"`
	// Errors maps each phase that failed to its error; the command then
	// exits non-zero.
	Errors map[string]string `json:"errors,omitempty"`
}

// Parameters records the options a run used.
type Parameters struct {
	Phases           []string `json:"phases"`
	Runs             int      `json:"runs"`
	SubprocessRuns   int      `json:"subprocess_runs"`
	E2ERuns          int      `json:"e2e_runs"`
	Agents           int      `json:"agents"`
	Duration         string   `json:"duration"`
	DispatchRate     int      `json:"dispatch_rate"`
	ReadConcurrency  int      `json:"read_concurrency"`
	WriteConcurrency int      `json:"write_concurrency"`
	// ThroughputConcurrency is the creates in flight in the throughput
	// phase.
	ThroughputConcurrency int  `json:"throughput_concurrency"`
	ListRuns              int  `json:"list_runs"`
	ListPageSize          int  `json:"list_page_size"`
	SchedulerDeployments  int  `json:"scheduler_deployments"`
	Fsync                 bool `json:"fsync"`
	// LoadGeneratorGOGC is the bench process's GOGC during the phases
	// it drives.
	LoadGeneratorGOGC int `json:"load_generator_gogc"`
}

// ms converts a duration to milliseconds rounded to 0.01 ms.
func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// ptr returns a pointer to v, for Result's optional fields.
func ptr[T any](v T) *T { return &v }

// quantile returns the nearest-rank q-quantile (0 < q <= 1) of sorted.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// latencyOf summarizes samples (which it sorts).
func latencyOf(samples []time.Duration) *Latency {
	slices.Sort(samples)
	return &Latency{
		P50: ms(quantile(samples, 0.50)),
		P90: ms(quantile(samples, 0.90)),
		P99: ms(quantile(samples, 0.99)),
		Max: ms(quantile(samples, 1)),
	}
}

// median returns the median of samples (which it sorts).
func median(samples []time.Duration) time.Duration {
	slices.Sort(samples)
	return quantile(samples, 0.5)
}
