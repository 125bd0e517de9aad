// Package metrics holds the server's Prometheus metrics: gRPC and HTTP
// request metrics, store commit latency and size, flow run state
// transitions, and the dispatcher's and scheduler's figures. Everything is
// registered on one registry served at /metrics.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/dispatch"
	"github.com/orion-run/orion/server/scheduler"
	"github.com/orion-run/orion/server/store/bolt"
)

// Metrics is the server's set of collectors.
type Metrics struct {
	Registry *prometheus.Registry
	// GRPC provides the gRPC server interceptors.
	GRPC *grpcprom.ServerMetrics

	transitions     *prometheus.CounterVec
	commitLatency   prometheus.Histogram
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
	dispatchLatency prometheus.Histogram
	agentsConnected prometheus.Gauge
	leaseExpiries   *prometheus.CounterVec
	schedulerLag    prometheus.Gauge
	schedulerPass   prometheus.Histogram
	scheduledRuns   prometheus.Counter
}

// New builds and registers every collector. storeSize reports the store
// file's size; runsInState counts the runs currently in a state.
func New(storeSize func() int64, runsInState func() map[orionv1.StateType]int) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		GRPC: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}),
		)),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orion_flow_run_transitions_total",
			Help: "Flow run state changes committed, by previous and new state type.",
		}, []string{"from_state", "to_state"}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "orion_store_commit_seconds",
			Help:    "Time of a store write transaction, lock wait and fsync included.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orion_http_requests_total",
			Help: "HTTP requests served, by method, route prefix and status code.",
		}, []string{"method", "route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orion_http_request_seconds",
			Help:    "HTTP request latency, by method and route prefix.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		dispatchLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "orion_dispatch_latency_seconds",
			Help:    "From the moment a run is due to the moment an agent claimed it.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		agentsConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orion_agents_connected",
			Help: "Agents holding a work stream open.",
		}),
		leaseExpiries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orion_lease_expiries_total",
			Help: "Leases that expired, by the state the run was moved to.",
		}, []string{"to_state"}),
		schedulerLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orion_scheduler_lag_seconds",
			Help: "How late the last scheduler pass started compared to when it was due.",
		}),
		schedulerPass: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "orion_scheduler_pass_seconds",
			Help:    "Wall time of a scheduler pass.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}),
		scheduledRuns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orion_scheduler_runs_created_total",
			Help: "Runs the scheduler created for active schedules.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.GRPC, m.transitions, m.commitLatency, m.httpRequests, m.httpDuration,
		m.dispatchLatency, m.agentsConnected, m.leaseExpiries, m.schedulerLag, m.schedulerPass, m.scheduledRuns,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "orion_store_size_bytes",
			Help: "Size of the store file.",
		}, func() float64 { return float64(storeSize()) }),
		&runsCollector{count: runsInState, desc: prometheus.NewDesc(
			"orion_flow_runs", "Flow runs currently in each non-terminal state type.", []string{"state"}, nil)},
	)
	return m
}

// Committed implements bolt.Observer.
func (m *Metrics) Committed(d time.Duration, changes []bolt.StateChange) {
	m.commitLatency.Observe(d.Seconds())
	for _, c := range changes {
		m.transitions.WithLabelValues(stateLabel(c.From), stateLabel(c.To)).Inc()
	}
}

var _ bolt.Observer = (*Metrics)(nil)

// RunClaimed implements dispatch.Observer.
func (m *Metrics) RunClaimed(sinceDue time.Duration) { m.dispatchLatency.Observe(sinceDue.Seconds()) }

// AgentsConnected implements dispatch.Observer.
func (m *Metrics) AgentsConnected(n int) { m.agentsConnected.Set(float64(n)) }

// LeaseExpired implements dispatch.Observer.
func (m *Metrics) LeaseExpired(to orionv1.StateType) {
	m.leaseExpiries.WithLabelValues(stateLabel(to)).Inc()
}

// PassDone implements scheduler.Observer.
func (m *Metrics) PassDone(lag, took time.Duration, stats scheduler.PassStats) {
	m.schedulerLag.Set(lag.Seconds())
	m.schedulerPass.Observe(took.Seconds())
	m.scheduledRuns.Add(float64(stats.Created))
}

var (
	_ dispatch.Observer  = (*Metrics)(nil)
	_ scheduler.Observer = (*Metrics)(nil)
)

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// WrapHTTP records request counts and latency for h. Routes are reduced to
// their first segments (/api/v1/flow_runs) so ids do not explode label sets.
func (m *Metrics) WrapHTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		route := routeOf(r.URL.Path)
		m.httpRequests.WithLabelValues(r.Method, route, strconv.Itoa(rec.code)).Inc()
		m.httpDuration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
	})
}

func routeOf(path string) string {
	parts := strings.SplitN(strings.Trim(path, "/"), "/", 4)
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return "/" + strings.Join(parts, "/")
}

func stateLabel(t orionv1.StateType) string {
	if t == orionv1.StateType_STATE_TYPE_UNSPECIFIED {
		return "none"
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "STATE_TYPE_"))
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush keeps streaming responses (log following) working through the wrapper.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// runsCollector reports the count of runs per non-terminal state at scrape time.
type runsCollector struct {
	count func() map[orionv1.StateType]int
	desc  *prometheus.Desc
}

func (c *runsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *runsCollector) Collect(ch chan<- prometheus.Metric) {
	for t, n := range c.count() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), stateLabel(t))
	}
}
