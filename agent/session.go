package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/client"
)

// Defaults used when the server leaves a registration field unset.
const (
	defaultHeartbeatInterval = 5 * time.Second
	defaultLeaseDuration     = 15 * time.Second
)

// session is the agent's registration. Registering is single-flight: the
// stream loop and the heartbeat loop both call ensure, and only one
// RegisterAgent call is made at a time (regMu). The fields are guarded by mu,
// which is never held across a call, so state reports can read the id while
// a registration is in flight.
type session struct {
	a *Agent

	regMu sync.Mutex

	mu         sync.Mutex
	id         string // the last id the server gave us (kept when invalidated)
	registered bool
	heartbeat  time.Duration
	lease      time.Duration
	reportLogs bool // the server stores log lines sent with a state report
	batchCalls bool // the server serves ClaimFlowRuns and ReportFlowRunStates
	// registrations counts the successful registrations.
	registrations uint64
	// probed records each infrastructure type's last availability.
	probed map[string]bool
}

func newSession(a *Agent, resumeID string) *session {
	return &session{a: a, id: resumeID, heartbeat: defaultHeartbeatInterval, lease: defaultLeaseDuration}
}

// ensure returns the agent id, registering (or re-registering, resuming the
// previous id) when needed.
func (s *session) ensure(ctx context.Context) (string, error) {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	s.mu.Lock()
	id, registered := s.id, s.registered
	s.mu.Unlock()
	if registered {
		return id, nil
	}
	cfg := s.a.cfg
	req := &agentv1.RegisterAgentRequest{
		AgentId:             id,
		Name:                cfg.Name,
		Hostname:            hostname(),
		WorkQueues:          cfg.WorkQueues,
		InfrastructureTypes: s.availableTypes(ctx),
		Limit:               int32(cfg.Limit),
		Version:             cfg.Version,
	}
	resp, err := s.register(ctx, req)
	if err != nil && req.AgentId != "" && (client.IsNotFound(err) || client.IsInvalidArgument(err)) {
		// The server does not know the old id any more: start afresh.
		s.a.logger.Info("cannot resume the previous registration; registering anew", "agent_id", req.AgentId, "error", err)
		req.AgentId = ""
		resp, err = s.register(ctx, req)
	}
	if err != nil {
		return "", err
	}
	if resp.GetAgentId() == "" {
		return "", errors.New("server returned an empty agent id")
	}
	if resp.GetAgentId() != id {
		if err := s.a.state.SetAgentID(resp.GetAgentId()); err != nil {
			s.a.logger.Warn("cannot save the agent id", "error", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.id, s.registered = resp.GetAgentId(), true
	s.reportLogs = resp.GetReportLogs()
	s.batchCalls = resp.GetBatchCalls()
	s.registrations++
	if d := resp.GetHeartbeatInterval().AsDuration(); d > 0 {
		s.heartbeat = d
	}
	if d := resp.GetLeaseDuration().AsDuration(); d > 0 {
		s.lease = d
	}
	s.a.logger.Info("agent registered", "agent_id", s.id, "heartbeat_interval", s.heartbeat, "lease_duration", s.lease)
	return s.id, nil
}

// probeTimeout bounds each runner's availability check at registration.
const probeTimeout = 3 * time.Second

// availableTypes lists the infrastructure types this agent can run now:
// every registered runner, but those that depend on an engine or a cluster
// (runner.Prober) only when it answers. The server offers an agent only
// runs of the types it registered, so a docker run goes to an agent that
// has Docker. Checked at every (re-)registration; changes are logged.
func (s *session) availableTypes(ctx context.Context) []string {
	// The probes run at once: an engine and a cluster that do not answer
	// cost one probeTimeout, not one each.
	all := s.a.cfg.Runners.Types()
	known := make([]bool, len(all))
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, typ := range all {
		rn, err := s.a.cfg.Runners.Get(typ)
		if err != nil {
			continue
		}
		known[i] = true
		if p, ok := rn.(runner.Prober); ok {
			wg.Go(func() {
				pctx, cancel := context.WithTimeout(ctx, probeTimeout)
				defer cancel()
				errs[i] = p.Available(pctx)
			})
		}
	}
	wg.Wait()
	var types []string
	for i, typ := range all {
		if !known[i] {
			continue
		}
		err := errs[i]
		s.mu.Lock()
		was, seen := s.probed[typ]
		if s.probed == nil {
			s.probed = map[string]bool{}
		}
		s.probed[typ] = err == nil
		s.mu.Unlock()
		switch {
		case err == nil && seen && !was:
			s.a.logger.Info("infrastructure available again", "infrastructure", typ)
		case err != nil && (!seen || was):
			s.a.logger.Info("infrastructure not available; its runs go to other agents", "infrastructure", typ, "reason", err.Error())
		}
		if err == nil {
			types = append(types, typ)
		}
	}
	return types
}

func (s *session) register(ctx context.Context, req *agentv1.RegisterAgentRequest) (*agentv1.RegisterAgentResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	return s.a.client.Agent.RegisterAgent(ctx, req)
}

// invalidate forgets the registration when the server said it does not know
// id. A newer registration is left alone.
func (s *session) invalidate(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id == id && s.registered {
		s.registered = false
		s.a.logger.Info("server lost the agent registration; will register again", "agent_id", id)
	}
}

// agentID returns the last id the server gave us, registered or not: state
// reports carry it even while a re-registration is pending.
func (s *session) agentID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// reportsLogs reports whether the server stores log lines sent with a
// state report (RegisterAgentResponse.report_logs).
func (s *session) reportsLogs() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reportLogs
}

// batchesCalls reports whether the server serves batched claims and
// reports (RegisterAgentResponse.batch_calls), and the number of the
// registration that said so.
func (s *session) batchesCalls() (bool, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batchCalls, s.registrations
}

func (s *session) heartbeatInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeat
}

// backoff yields exponentially growing delays with "equal jitter": each
// delay is uniformly random in [d/2, d], where d doubles from min up to max.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max} }

func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.min
	case b.cur < b.max:
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits for d or until ctx is done; it reports whether the full d
// passed.
func (a *Agent) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-a.cfg.After(d):
		return true
	}
}

// errStreamIdle is why a silent stream is dropped.
var errStreamIdle = errors.New("no message from the server within the idle timeout")

// connLoop keeps a work stream open until ctx is done, reconnecting with
// backoff (100 ms doubling to 10 s, jittered) and re-registering when the
// server no longer knows the agent.
func (a *Agent) connLoop(ctx context.Context) {
	bo := newBackoff(100*time.Millisecond, 10*time.Second)
	for {
		healthy, err := a.streamOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if healthy {
			bo.reset()
		}
		d := bo.next()
		if errors.Is(err, errResync) {
			a.logger.Debug("reopening work stream to get offers again")
		} else {
			a.logger.Warn("work stream broken; reconnecting", "error", err, "retry_in", d)
		}
		if !a.sleep(ctx, d) {
			return
		}
	}
}

// errResync is the cause given when the agent closes its own stream to be
// offered every due run again (see resyncLocked).
var errResync = errors.New("resync")

// streamOnce registers if needed, opens one work stream and handles its
// events until it breaks. healthy reports whether the stream delivered at
// least one message (a working connection, so backoff restarts).
func (a *Agent) streamOnce(ctx context.Context) (healthy bool, err error) {
	id, err := a.sess.ensure(ctx)
	if err != nil {
		return false, fmt.Errorf("register: %w", err)
	}
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stream, err := a.client.Agent.StreamWork(sctx, &agentv1.StreamWorkRequest{AgentId: id})
	if err != nil {
		if client.IsNotFound(err) {
			a.sess.invalidate(id)
		}
		return false, err
	}
	a.mu.Lock()
	a.streamCancel = func() { cancel(errResync) }
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.streamCancel = nil
		a.mu.Unlock()
	}()
	a.once.Do(func() { close(a.ready) })
	a.logger.Debug("work stream open", "agent_id", id)

	msgs := make(chan *agentv1.StreamWorkResponse)
	errc := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- m:
			case <-sctx.Done():
				errc <- context.Cause(sctx)
				return
			}
		}
	}()
	idle := a.cfg.After(a.cfg.StreamIdleTimeout)
	for {
		select {
		case m := <-msgs:
			healthy = true
			idle = a.cfg.After(a.cfg.StreamIdleTimeout)
			a.handleEvent(m)
		case err := <-errc:
			if cause := context.Cause(sctx); errors.Is(cause, errResync) {
				return healthy, errResync
			}
			if client.IsNotFound(err) {
				a.sess.invalidate(id)
			}
			return healthy, err
		case <-idle:
			cancel(errStreamIdle)
			<-errc
			return healthy, errStreamIdle
		}
	}
}

// handleEvent dispatches one stream event. It never blocks on the network:
// claims and stops run in their own goroutines.
func (a *Agent) handleEvent(m *agentv1.StreamWorkResponse) {
	switch ev := m.GetEvent().(type) {
	case *agentv1.StreamWorkResponse_Offer:
		a.offer(ev.Offer.GetFlowRun())
	case *agentv1.StreamWorkResponse_Cancel:
		a.cancelRun(ev.Cancel)
	case *agentv1.StreamWorkResponse_Keepalive:
		a.logger.Trace("keepalive received")
	default:
		a.logger.Debug("unknown stream event ignored")
	}
}
