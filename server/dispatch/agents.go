package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/store"
)

// Register records an agent (resuming an earlier id when given) and makes
// sure its work queues exist. tokenID, when set, binds the agent to the API
// token that registered it: resuming an agent bound to another token is
// ErrNotOwner.
func (d *Dispatcher) Register(ctx context.Context, req *agentv1.RegisterAgentRequest, tokenID string) (*agentv1.RegisterAgentResponse, error) {
	if len(req.GetWorkQueues()) == 0 {
		return nil, store.Invalidf("work_queues: an agent needs at least one work queue (e.g. --work-queue default)")
	}
	if req.GetName() == "" {
		return nil, store.Invalidf("name is required")
	}
	var id string
	err := d.store.Update(ctx, func(tx store.Tx) error {
		for _, q := range req.GetWorkQueues() {
			if _, err := deployments.EnsureWorkQueue(tx, q); err != nil {
				return err
			}
		}
		now := timestamppb.New(tx.Now())
		a, err := tx.Agent(req.GetAgentId())
		if req.GetAgentId() == "" || errors.Is(err, store.ErrNotFound) {
			id = req.GetAgentId()
			if id == "" {
				id = store.NewID()
			}
			a = &orionv1.Agent{Id: id, RegisterTime: now}
		} else if err != nil {
			return err
		}
		if tokenID != "" {
			if a.GetTokenId() != "" && a.GetTokenId() != tokenID {
				return fmt.Errorf("%w: agent %s was registered with another API token", ErrNotOwner, a.GetId())
			}
			a.TokenId = tokenID
		}
		id = a.GetId()
		a.Name = req.GetName()
		a.Hostname = req.GetHostname()
		a.WorkQueues = req.GetWorkQueues()
		a.InfrastructureTypes = req.GetInfrastructureTypes()
		a.Limit = req.GetLimit()
		a.Version = req.GetVersion()
		a.LastHeartbeatTime = now
		return tx.PutAgent(a)
	})
	if err != nil {
		return nil, err
	}
	d.log.Info("agent registered", "agent_id", id, "agent_name", req.GetName(), "work_queues", req.GetWorkQueues())
	return &agentv1.RegisterAgentResponse{
		AgentId:           id,
		HeartbeatInterval: durationpb.New(d.cfg.HeartbeatInterval),
		LeaseDuration:     durationpb.New(d.cfg.LeaseDuration),
		ReportLogs:        true,
		BatchCalls:        true,
	}, nil
}

// Stream serves one agent's StreamWork until ctx ends or send fails. A newer
// stream of the same agent replaces an older one.
func (d *Dispatcher) Stream(ctx context.Context, agentID string, send func(*agentv1.StreamWorkResponse) error) error {
	if agentID == "" {
		return store.Invalidf("agent_id is required: call RegisterAgent first")
	}
	var agent *orionv1.Agent
	if err := d.store.View(ctx, func(tx store.Tx) error {
		var err error
		agent, err = tx.Agent(agentID)
		return err
	}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.NotFoundf("agent %s is not registered: register again", agentID)
		}
		return err
	}
	s := &session{agentID: agentID, queues: map[string]bool{}, out: make(chan *agentv1.StreamWorkResponse, 256), done: make(chan struct{})}
	for _, q := range agent.GetWorkQueues() {
		s.queues[q] = true
	}
	if types := agent.GetInfrastructureTypes(); len(types) > 0 {
		s.infra = map[string]bool{}
		for _, t := range types {
			s.infra[t] = true
		}
	}
	d.mu.Lock()
	if old := d.sessions[agentID]; old != nil {
		close(old.done)
	}
	d.sessions[agentID] = s
	d.cfg.Observer.AgentsConnected(len(d.sessions))
	delete(d.lost, agentID)
	// Everything due is offered to the new stream at once.
	for id, o := range d.offered {
		if o.agentID == agentID {
			delete(d.offered, id)
		}
	}
	d.mu.Unlock()
	d.setConnected(agentID, true)
	d.log.Info("agent connected", "agent_id", agentID)
	defer func() {
		d.mu.Lock()
		if d.sessions[agentID] == s {
			delete(d.sessions, agentID)
			d.cfg.Observer.AgentsConnected(len(d.sessions))
			// Fast recovery: unless the agent reopens a stream within
			// ReconnectGrace, the next pass cuts its leases short.
			d.lost[agentID] = d.cfg.Clock()
		}
		d.mu.Unlock()
		d.setConnected(agentID, false)
		d.log.Info("agent disconnected", "agent_id", agentID)
		d.poke()
	}()
	d.poke()

	keepalive := time.NewTicker(d.cfg.KeepaliveInterval)
	defer keepalive.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		case <-d.closing:
			return nil
		case msg := <-s.out:
			if err := send(msg); err != nil {
				return err
			}
		case <-keepalive.C:
			ka := &agentv1.StreamWorkResponse{Event: &agentv1.StreamWorkResponse_Keepalive{Keepalive: &agentv1.Keepalive{ServerTime: timestamppb.New(d.cfg.Clock())}}}
			if err := send(ka); err != nil {
				return err
			}
		}
	}
}

func (d *Dispatcher) setConnected(agentID string, connected bool) {
	d.mu.Lock()
	_, live := d.sessions[agentID]
	d.mu.Unlock()
	if !connected && live {
		return // a newer stream of the same agent is open
	}
	err := d.store.Update(context.Background(), func(tx store.Tx) error {
		a, err := tx.Agent(agentID)
		if err != nil {
			return err
		}
		a.Connected = connected
		a.LastHeartbeatTime = timestamppb.New(tx.Now())
		return tx.PutAgent(a)
	})
	if err != nil && !errors.Is(err, store.ErrClosed) {
		d.log.Warn("agent status not saved", "agent_id", agentID, "error", err)
	}
}

// ListAgents returns the agents known to the store, sorted by name.
func (d *Dispatcher) ListAgents(ctx context.Context) ([]*orionv1.Agent, error) {
	var agents []*orionv1.Agent
	err := d.store.View(ctx, func(tx store.Tx) error {
		var err error
		agents, err = tx.ListAgents()
		if err != nil {
			return err
		}
		for _, a := range agents {
			n, err := tx.HeldCount(store.HeldByAgent, a.GetId())
			if err != nil {
				return err
			}
			a.RunsInFlight = int32(n)
		}
		return nil
	})
	sort.Slice(agents, func(i, j int) bool { return agents[i].GetName() < agents[j].GetName() })
	return agents, err
}

// notifyCancel pushes a cancel request to the agent holding run, if it is
// connected. Heartbeats repeat it until the agent reports CANCELLED, so a
// missed push is never lost.
func (d *Dispatcher) notifyCancel(run *orionv1.FlowRun, message string) {
	d.mu.Lock()
	s := d.sessions[run.GetAgentId()]
	d.mu.Unlock()
	if s == nil {
		return
	}
	msg := &agentv1.StreamWorkResponse{Event: &agentv1.StreamWorkResponse_Cancel{Cancel: &agentv1.CancelRequest{
		FlowRunId: run.GetId(), LeaseEpoch: run.GetLeaseEpoch(), Message: message,
	}}}
	select {
	case s.out <- msg:
	default:
		d.log.Warn("agent stream is full; cancel left to the next heartbeat", "agent_id", s.agentID, "flow_run_id", run.GetId())
	}
}

// errAgentUnknown is returned for calls from an agent id the store does not know.
func errAgentUnknown(id string) error {
	return store.NotFoundf("agent %s is not registered: register again", id)
}
