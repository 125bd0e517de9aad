package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/docker"
	"github.com/orion-run/orion/agent/runner/kubernetes"
	"github.com/orion-run/orion/agent/runner/process"
	"github.com/orion-run/orion/client"
)

// Defaults applied by New to a zero Config.
const (
	// DefaultWorkQueue is the queue an agent serves when none is given.
	DefaultWorkQueue = "default"
	// DefaultStopGrace is how long a flow process may take to exit after
	// SIGTERM before it is killed.
	DefaultStopGrace = 10 * time.Second
	// DefaultShutdownGrace is how long in-flight runs may keep running after
	// the agent was asked to stop, before they are stopped and reported
	// CRASHED. With DefaultStopGrace it fits in Kubernetes' default 30 s
	// termination grace period.
	DefaultShutdownGrace = 15 * time.Second
	// DefaultStreamIdleTimeout is how long the work stream may stay silent
	// (the server sends a keepalive about every 10 s) before the agent
	// considers it dead and reconnects.
	DefaultStreamIdleTimeout = 35 * time.Second
)

// Config configures an Agent. Zero fields get the defaults described on
// each field.
type Config struct {
	// APIURL is the server's URL (default: client.APIURL("")).
	APIURL string
	// Client, when set, is used instead of dialing APIURL. The agent does
	// not close it.
	Client *client.Client
	// Name identifies the agent to the server and names its local state
	// directory. Default: "agent-<short hostname>", made unique on this
	// machine when another agent already uses it.
	Name string
	// WorkQueues the agent takes runs from (default ["default"]).
	WorkQueues []string
	// Limit caps concurrent runs; 0 means no limit.
	Limit int
	// Home is Orion's home directory (default client.Home()); the agent
	// keeps its state and the runs' working directories under Home/agent.
	Home string
	// Logger receives the agent's logs (default: a null logger). The agent
	// names its logger "agent".
	Logger hclog.Logger
	// Version is reported to the server at registration.
	Version string
	// Runners maps infrastructure types to runners (default DefaultRunners()).
	Runners *runner.Registry
	// Env is the base environment of every flow process (default
	// os.Environ()).
	Env []string
	// StopGrace is the SIGTERM-to-SIGKILL grace when stopping a flow
	// (default DefaultStopGrace).
	StopGrace time.Duration
	// ShutdownGrace is how long in-flight runs may finish once Run's context
	// is cancelled (default DefaultShutdownGrace).
	ShutdownGrace time.Duration
	// StreamIdleTimeout (default DefaultStreamIdleTimeout).
	StreamIdleTimeout time.Duration
	// Clock and After replace time.Now and time.After in tests.
	Clock func() time.Time
	After func(time.Duration) <-chan time.Time

	// nameDefaulted is set when Name was chosen by withDefaults, which lets
	// the agent pick another name when the default one is taken.
	nameDefaulted bool
	// runnersDefaulted is set when withDefaults made Runners, which the
	// agent then closes when it stops.
	runnersDefaulted bool
}

// DefaultRunners returns a registry with the built-in runners:
// "subprocess", "docker", "kubernetes" and "noop". The container runners
// connect to their engine or cluster on first use, so an agent on a machine
// without Docker or a cluster starts fine and fails only those runs.
func DefaultRunners() *runner.Registry { return defaultRunners(nil) }

func defaultRunners(log hclog.Logger) *runner.Registry {
	r := runner.NewRegistry()
	r.Register(runner.TypeSubprocess, process.New())
	r.Register(runner.TypeDocker, docker.New(docker.Config{Logger: log}))
	r.Register(runner.TypeKubernetes, kubernetes.New(kubernetes.Config{Logger: log}))
	r.Register(runner.TypeNoop, runner.Noop{})
	return r
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Validate checks the fields that are set; zero fields are valid (they get
// defaults).
func (c *Config) Validate() error {
	var errs []error
	if c.Name != "" && !namePattern.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("invalid agent name %q: use up to 63 letters, digits, '.', '_' or '-'", c.Name))
	}
	for _, q := range c.WorkQueues {
		if strings.TrimSpace(q) == "" {
			errs = append(errs, errors.New("work queue names must not be empty"))
			break
		}
	}
	if c.Limit < 0 {
		errs = append(errs, fmt.Errorf("invalid limit %d: must be 0 (no limit) or more", c.Limit))
	}
	if c.StopGrace < 0 || c.ShutdownGrace < 0 || c.StreamIdleTimeout < 0 {
		errs = append(errs, errors.New("grace periods and timeouts must not be negative"))
	}
	if c.APIURL != "" {
		if _, _, err := client.Target(c.APIURL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns a copy of c with every zero field defaulted.
func (c Config) withDefaults() Config {
	if c.APIURL == "" {
		if c.Client != nil {
			c.APIURL = c.Client.URL()
		} else {
			c.APIURL = client.APIURL("")
		}
	}
	if c.Name == "" {
		c.Name = defaultName()
		c.nameDefaulted = true
	}
	if len(c.WorkQueues) == 0 {
		c.WorkQueues = []string{DefaultWorkQueue}
	}
	if c.Home == "" {
		c.Home = client.Home()
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Runners == nil {
		c.Runners = defaultRunners(c.Logger)
		c.runnersDefaulted = true
	}
	if c.Env == nil {
		c.Env = os.Environ()
	}
	if c.StopGrace == 0 {
		c.StopGrace = DefaultStopGrace
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.StreamIdleTimeout == 0 {
		c.StreamIdleTimeout = DefaultStreamIdleTimeout
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.After == nil {
		c.After = time.After
	}
	return c
}

// defaultName is "agent-" plus the short host name (stable across restarts,
// so a restarted agent finds its state file), or a random suffix when the
// host name is unusable.
func defaultName() string {
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	host = strings.ToLower(host)
	var b strings.Builder
	for _, r := range host {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
	}
	if s := strings.Trim(b.String(), "-"); s != "" {
		if len(s) > 40 {
			s = s[:40]
		}
		return "agent-" + s
	}
	buf := make([]byte, 4)
	_, _ = rand.Read(buf)
	return "agent-" + hex.EncodeToString(buf)
}

// hostname is reported at registration.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
