// Package config holds the server's configuration: defaults, then ORION_*
// environment variables, then command-line flags (applied by the caller),
// then Validate.
package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Config configures an Orion server.
type Config struct {
	// Host and Port of the one listener serving gRPC and HTTP/JSON.
	Host string
	Port int
	// Home is Orion's data folder; the store lives at Home/orion.db unless
	// DBPath says otherwise.
	Home   string
	DBPath string
	// LogLevel is trace, debug, info, warn or error; LogJSON selects JSON logs.
	LogLevel string
	LogJSON  bool
	// Leases and heartbeats handed to agents.
	LeaseDuration     time.Duration
	HeartbeatInterval time.Duration
	// LateAfter is how long after its scheduled time a SCHEDULED run that
	// has not started is renamed Late (15s).
	LateAfter time.Duration
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration
	// FirstByteTimeout bounds how long a new connection may stay silent
	// before it is told apart as gRPC or HTTP; a silent one is dropped, so
	// it can neither pile up nor hold up a shutdown.
	FirstByteTimeout time.Duration
	// Security. Auth is on when a token exists or RequireAuth is set; a
	// server on a non-loopback address refuses to start without auth unless
	// Insecure. TLSCert/TLSKey serve TLS; TLSClientCA verifies client
	// certificates when given (agents then must present one).
	RequireAuth bool
	Insecure    bool
	TLSCert     string
	TLSKey      string
	TLSClientCA string
	// Scheduler: the longest time between two passes, and how far ahead it
	// keeps each active schedule's runs (at least SchedulerMinRuns runs and
	// SchedulerMinTime ahead, at most SchedulerMaxRuns and SchedulerMaxTime).
	SchedulerLoopInterval time.Duration
	SchedulerMinRuns      int
	SchedulerMaxRuns      int
	SchedulerMinTime      time.Duration
	SchedulerMaxTime      time.Duration
	// SchedulerSpread batches and staggers the scheduler's top-ups: each
	// deployment is topped up once per Spread, at a slot of its own
	// (scheduler.Limits.Spread, 5m).
	SchedulerSpread time.Duration
	// LogLinesPerSecond bounds how fast one flow run may write log lines
	// (bursts of ten seconds' worth); requests beyond it get
	// ResourceExhausted (HTTP 429) and are retried by agents. 0 means no
	// limit.
	LogLinesPerSecond float64
	// Pprof serves Go's profiles at /debug/pprof/ (ORION_PPROF=1; admin
	// scope when authentication is on).
	Pprof bool
}

// Default returns the defaults: 127.0.0.1:4200, ~/.orion, info logs.
func Default() Config {
	home := ".orion"
	if dir, err := os.UserHomeDir(); err == nil {
		home = filepath.Join(dir, ".orion")
	}
	return Config{
		Host:              "127.0.0.1",
		Port:              4200,
		Home:              home,
		LogLevel:          "info",
		LeaseDuration:     15 * time.Second,
		HeartbeatInterval: 5 * time.Second,
		LateAfter:         15 * time.Second,
		ShutdownTimeout:   5 * time.Second,
		FirstByteTimeout:  5 * time.Second,

		SchedulerLoopInterval: 10 * time.Second,
		SchedulerMinRuns:      3,
		SchedulerMaxRuns:      100,
		SchedulerMinTime:      time.Hour,
		SchedulerMaxTime:      100 * 24 * time.Hour,
		SchedulerSpread:       5 * time.Minute,
		LogLinesPerSecond:     2000,
	}
}

// FromEnv applies ORION_HOME, ORION_SERVER_HOST, ORION_SERVER_PORT,
// ORION_DB_PATH, ORION_LOG_LEVEL, ORION_LOG_FORMAT=json,
// ORION_LOG_LINES_PER_SECOND, ORION_SCHEDULER_{MIN,MAX}_RUNS,
// ORION_SCHEDULER_{MIN,MAX}_SCHEDULED_TIME, ORION_SCHEDULER_LOOP_INTERVAL,
// ORION_SCHEDULER_SPREAD,
// ORION_LATE_AFTER,
// ORION_LEASE_DURATION and ORION_HEARTBEAT_INTERVAL (Go durations such as
// "3s") over c.
func (c Config) FromEnv(getenv func(string) string) (Config, error) {
	if v := getenv("ORION_HOME"); v != "" {
		c.Home = v
	}
	if v := getenv("ORION_SERVER_HOST"); v != "" {
		c.Host = v
	}
	if v := getenv("ORION_SERVER_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("ORION_SERVER_PORT=%q is not a port number", v)
		}
		c.Port = p
	}
	if v := getenv("ORION_DB_PATH"); v != "" {
		c.DBPath = v
	}
	if v := getenv("ORION_LOG_LEVEL"); v != "" {
		c.LogLevel = v
	}
	if getenv("ORION_LOG_FORMAT") == "json" {
		c.LogJSON = true
	}
	if v := getenv("ORION_PPROF"); v == "1" || v == "true" {
		c.Pprof = true
	}
	if v := getenv("ORION_LOG_LINES_PER_SECOND"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < 0 {
			return c, fmt.Errorf("ORION_LOG_LINES_PER_SECOND=%q is not a rate such as 2000 (0 for no limit)", v)
		}
		c.LogLinesPerSecond = n
	}
	for _, n := range []struct {
		key string
		dst *int
	}{
		{"ORION_SCHEDULER_MIN_RUNS", &c.SchedulerMinRuns},
		{"ORION_SCHEDULER_MAX_RUNS", &c.SchedulerMaxRuns},
	} {
		if v := getenv(n.key); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < 0 {
				return c, fmt.Errorf("%s=%q is not a count such as 100", n.key, v)
			}
			*n.dst = i
		}
	}
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{
		{"ORION_LEASE_DURATION", &c.LeaseDuration},
		{"ORION_HEARTBEAT_INTERVAL", &c.HeartbeatInterval},
		{"ORION_LATE_AFTER", &c.LateAfter},
		{"ORION_SCHEDULER_MIN_SCHEDULED_TIME", &c.SchedulerMinTime},
		{"ORION_SCHEDULER_MAX_SCHEDULED_TIME", &c.SchedulerMaxTime},
		{"ORION_SCHEDULER_LOOP_INTERVAL", &c.SchedulerLoopInterval},
		{"ORION_SCHEDULER_SPREAD", &c.SchedulerSpread},
	} {
		if v := getenv(d.key); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur <= 0 {
				return c, fmt.Errorf("%s=%q is not a positive duration such as 15s", d.key, v)
			}
			*d.dst = dur
		}
	}
	return c, nil
}

// Validate checks the configuration and fills derived values.
func (c *Config) Validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("--port %d is out of range: use 0-65535", c.Port)
	}
	if c.Host == "" {
		return fmt.Errorf("--host is empty: use an address such as 127.0.0.1")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together: give both or neither")
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		return fmt.Errorf("--tls-client-ca needs --tls-cert and --tls-key")
	}
	if c.Home == "" {
		return fmt.Errorf("ORION_HOME is empty: set it to a folder for Orion's data")
	}
	if c.DBPath == "" {
		c.DBPath = filepath.Join(c.Home, "orion.db")
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q is not one of trace, debug, info, warn, error", c.LogLevel)
	}
	if c.LeaseDuration <= c.HeartbeatInterval {
		return fmt.Errorf("lease duration %s must be longer than the heartbeat interval %s", c.LeaseDuration, c.HeartbeatInterval)
	}
	if c.SchedulerLoopInterval <= 0 || c.SchedulerMinRuns < 0 || c.SchedulerMaxRuns < max(c.SchedulerMinRuns, 1) || c.SchedulerMaxTime < c.SchedulerMinTime {
		return fmt.Errorf("scheduler limits are inconsistent: need a positive loop interval, 0 <= min runs <= max runs (>= 1) and min time <= max time")
	}
	return nil
}

// Addr is the listen address.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// IsLoopback reports whether the server listens on a loopback address only.
func (c Config) IsLoopback() bool {
	if c.Host == "localhost" {
		return true
	}
	ip := net.ParseIP(c.Host)
	return ip != nil && ip.IsLoopback()
}
