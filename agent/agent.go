// Package agent is Orion's agent daemon (`orion agent start`): it registers
// with the server, holds a StreamWork stream open to be offered due runs,
// claims them (a compare-and-set on the server, so each run goes to one
// agent), runs each through a runner, ships its output as logs, and reports
// its states with the lease epoch as a fencing token. It heartbeats the runs
// it holds, obeys cancel requests, reconnects with backoff, and keeps its
// in-flight runs in a local state file so a restarted agent can clean up
// after its previous process.
//
// Execute runs one flow run in the foreground through the same execution
// path, without an agent or a lease (`orion deployment execute`).
package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/orion-run/orion/agent/localstate"
	"github.com/orion-run/orion/client"
	python "github.com/orion-run/orion/sdk/python"
)

// rpcTimeout bounds each unary call to the server.
const rpcTimeout = 15 * time.Second

// reportBound is how long, after stopping runs at shutdown, the agent waits
// for their final states to reach the server before giving up (their local
// records then make the next agent process report them).
const reportBound = 30 * time.Second

// Agent takes runs from work queues and executes them. Create it with New
// and call Run once.
type Agent struct {
	cfg    Config
	logger hclog.Logger
	client *client.Client
	owned  bool // the agent dialed client and must close it
	exec   *executor
	ready  chan struct{}
	once   sync.Once
	ran    atomic.Bool

	// Set by Run before any goroutine starts.
	life  context.Context // outlives Run's ctx until in-flight runs are done
	state *localstate.Store
	sess  *session
	calls *calls

	// runs counts claims and supervised runs; bg counts the loops.
	runs sync.WaitGroup
	bg   sync.WaitGroup

	mu           sync.Mutex
	held         map[string]*heldRun
	claiming     map[string]*claimState
	backlog      backlog
	draining     bool
	streamCancel context.CancelFunc
}

// New checks cfg, applies defaults and returns an agent. It dials the server
// lazily: an unreachable server is retried by Run, not reported here.
func New(cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	a := &Agent{
		cfg:      cfg,
		logger:   cfg.Logger.Named("agent"),
		client:   cfg.Client,
		ready:    make(chan struct{}),
		held:     make(map[string]*heldRun),
		claiming: make(map[string]*claimState),
	}
	if a.client == nil {
		c, err := client.Dial(cfg.APIURL)
		if err != nil {
			return nil, err
		}
		a.client, a.owned = c, true
	}
	a.exec = &executor{
		client:    a.client,
		home:      cfg.Home,
		apiURL:    cfg.APIURL,
		baseEnv:   cfg.Env,
		runners:   cfg.Runners,
		clock:     cfg.Clock,
		after:     cfg.After,
		stopGrace: cfg.StopGrace,
	}
	return a, nil
}

// Name returns the agent's name (defaulted, and possibly suffixed by Run
// when the default name was in use by another agent on this machine).
func (a *Agent) Name() string { return a.cfg.Name }

// WorkQueues returns the work queues the agent serves.
func (a *Agent) WorkQueues() []string { return append([]string(nil), a.cfg.WorkQueues...) }

// Ready is closed once the agent has registered and its first work stream
// is open. It is never closed if Run fails or stops before that.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Run registers the agent and serves its work queues until ctx is
// cancelled. It then stops taking work, lets in-flight runs finish for up to
// ShutdownGrace, stops the rest (reporting them CRASHED "Agent stopped") and
// returns nil. It fails only when the agent cannot start (for example its
// state file is locked by another agent with the same name).
func (a *Agent) Run(ctx context.Context) error {
	if !a.ran.CompareAndSwap(false, true) {
		return errors.New("agent: Run called twice")
	}
	if a.owned {
		defer a.client.Close()
	}
	if a.cfg.runnersDefaulted {
		defer a.cfg.Runners.Close() //nolint:errcheck // connections being closed at exit
	}
	st, err := a.openState()
	if err != nil {
		return err
	}
	defer st.Close()
	agentID, err := st.AgentID()
	if err != nil {
		return fmt.Errorf("read agent state: %w", err)
	}
	a.state = st
	a.sess = newSession(a, agentID)

	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	defer endLife()
	a.life = life
	a.calls = newCalls(life, a.client.Agent, a.sess.batchesCalls)
	a.logger.Info("agent starting", "agent_name", a.cfg.Name, "work_queues", a.cfg.WorkQueues, "limit", a.cfg.Limit)
	// Find the Python interpreter's own binary now, not at the first run.
	a.bg.Go(func() { python.Executable() })

	leftovers, err := st.Runs()
	if err != nil {
		a.logger.Error("cannot read in-flight runs of the previous agent process", "error", err)
	}
	a.holdLeftovers(leftovers)

	a.bg.Go(func() { a.heartbeatLoop(life) })
	a.bg.Go(func() { a.connLoop(ctx) })

	<-ctx.Done()
	a.logger.Info("agent stopping")
	a.drain()
	endLife()
	a.runs.Wait()
	a.bg.Wait()
	a.calls.wait()
	a.logger.Info("agent stopped")
	return nil
}

// openState opens the agent's state file. When the default name is taken by
// another agent on this machine, it tries "<name>-2" ... "<name>-9".
func (a *Agent) openState() (*localstate.Store, error) {
	base := a.cfg.Name
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = base + "-" + strconv.Itoa(i)
		}
		st, err := localstate.Open(localstate.Path(a.cfg.Home, name), 500*time.Millisecond)
		if err == nil {
			a.cfg.Name = name
			return st, nil
		}
		if !errors.Is(err, localstate.ErrLocked) || !a.cfg.nameDefaulted || i >= 9 {
			if errors.Is(err, localstate.ErrLocked) {
				return nil, fmt.Errorf("another agent named %q is running on this machine (%w); give this one another name", name, err)
			}
			return nil, err
		}
	}
}

// drain stops taking work and waits for in-flight runs: for ShutdownGrace,
// then it stops them and waits for their final reports, within bounds.
func (a *Agent) drain() {
	a.mu.Lock()
	a.draining = true
	a.backlog.clear()
	n := len(a.held) + len(a.claiming)
	a.mu.Unlock()

	done := make(chan struct{})
	go func() {
		a.runs.Wait()
		close(done)
	}()
	if n == 0 {
		<-done
		return
	}
	a.logger.Info("waiting for in-flight runs", "count", n, "grace", a.cfg.ShutdownGrace)
	select {
	case <-done:
		return
	case <-a.cfg.After(a.cfg.ShutdownGrace):
	}
	a.mu.Lock()
	for _, h := range a.held {
		h.stop.stop(stopShutdown, "")
	}
	for _, c := range a.claiming {
		c.abandon()
	}
	a.mu.Unlock()
	a.logger.Warn("stopping in-flight runs")
	select {
	case <-done:
	case <-a.cfg.After(a.cfg.StopGrace + reportBound):
		a.logger.Error("gave up waiting for runs to stop; their state is left for the next agent process")
	}
}
