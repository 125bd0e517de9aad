package dispatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// Claim moves an offered run to PENDING for the agent, as a compare-and-set
// inside one transaction, and grants a lease with the next fencing epoch.
// Losing the race is an ABORT result, not an error.
func (d *Dispatcher) Claim(ctx context.Context, req *agentv1.ClaimFlowRunRequest) (*agentv1.ClaimFlowRunResponse, error) {
	if req.GetAgentId() == "" || req.GetFlowRunId() == "" {
		return nil, store.Invalidf("agent_id and flow_run_id are required")
	}
	resp := &agentv1.ClaimFlowRunResponse{}
	var sinceDue time.Duration
	err := d.store.Update(ctx, func(tx store.Tx) error {
		agent, err := registeredAgent(tx, req.GetAgentId())
		if err != nil {
			return err
		}
		run, err := tx.FlowRun(req.GetFlowRunId())
		if err != nil {
			return err
		}
		if !slices.Contains(agent.GetWorkQueues(), run.GetWorkQueueName()) {
			resp.Result = &orionv1.OrchestrationResult{Status: orchestration.Abort, State: run.GetState(),
				Reason: fmt.Sprintf("Run belongs to work queue %q, which this agent does not serve.", run.GetWorkQueueName())}
			resp.FlowRun = run
			return nil
		}
		if types := agent.GetInfrastructureTypes(); len(types) > 0 && !slices.Contains(types, infraType(run)) {
			resp.Result = &orionv1.OrchestrationResult{Status: orchestration.Abort, State: run.GetState(),
				Reason: fmt.Sprintf("Run needs %s infrastructure, which this agent cannot run.", infraType(run))}
			resp.FlowRun = run
			return nil
		}
		// Paused queues, tag filters and concurrency limits are checked in
		// this transaction, so no race can exceed a limit. Only a SCHEDULED
		// run is checked: anything else is decided by the rules (and a
		// retried claim by its stored answer).
		if run.GetState().GetType() == orchestration.Scheduled {
			reason, err := admit(tx, run)
			if err == nil && reason == "" {
				reason, err = agentFull(tx, agent)
			}
			if err != nil {
				return err
			}
			if reason != "" {
				resp.Result = &orionv1.OrchestrationResult{Status: orchestration.Abort, State: run.GetState(), Reason: reason}
				resp.FlowRun = run
				return nil
			}
		}
		now := tx.Now()
		if due := run.GetNextScheduledStartTime(); due != nil {
			sinceDue = max(0, now.Sub(due.AsTime()))
		}
		res, run, err := orchestration.Transition(tx, orchestration.Proposal{
			RunID:        run.GetId(),
			Run:          run,
			State:        &orionv1.StateProposal{Type: orchestration.Pending},
			TransitionID: req.GetTransitionId(),
			OnWrite: func(r *orionv1.FlowRun, _ *orionv1.State) {
				r.AgentId = agent.GetId()
				r.LeaseEpoch++
				r.LeaseExpireTime = timestamppb.New(now.Add(d.cfg.LeaseDuration))
				r.DeliveryCount++
				r.InfrastructurePid = ""
			},
		})
		if err != nil {
			return err
		}
		resp.Result, resp.FlowRun = res, run
		if res.GetStatus() != orchestration.Accept || run.GetAgentId() != agent.GetId() {
			return nil
		}
		resp.Lease = &agentv1.Lease{Epoch: run.GetLeaseEpoch(), ExpireTime: run.GetLeaseExpireTime()}
		if run.GetDeploymentId() != "" {
			dep, err := tx.Deployment(run.GetDeploymentId())
			if err != nil {
				return fmt.Errorf("deployment of run %s: %w", run.GetId(), err)
			}
			dep = proto.Clone(dep).(*orionv1.Deployment)
			dep.Infrastructure = run.GetInfrastructure()
			resp.Deployment = dep
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if resp.GetResult().GetStatus() == orchestration.Accept && resp.GetLease() != nil {
		d.cfg.Observer.RunClaimed(sinceDue)
	}
	if resp.GetResult().GetStatus() == orchestration.Accept {
		d.log.Debug("run claimed", "flow_run_id", req.GetFlowRunId(), "agent_id", req.GetAgentId(), "lease_epoch", resp.GetLease().GetEpoch())
	}
	return resp, nil
}

// Report applies a state proposed by the agent holding the run. A stale
// epoch, another owner, or a run no longer held is ErrLeaseLost.
func (d *Dispatcher) Report(ctx context.Context, req *agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error) {
	if req.GetAgentId() == "" || req.GetFlowRunId() == "" {
		return nil, store.Invalidf("agent_id and flow_run_id are required")
	}
	resp := &agentv1.ReportFlowRunStateResponse{}
	err := d.store.Update(ctx, func(tx store.Tx) error {
		run, err := tx.FlowRun(req.GetFlowRunId())
		if err != nil {
			return err
		}
		if req.GetTransitionId() != "" {
			if prev, err := tx.Transition(run.GetId(), req.GetTransitionId()); err == nil {
				resp.Result, resp.FlowRun = prev, run
				return nil
			}
		}
		if run.GetAgentId() != req.GetAgentId() || run.GetLeaseEpoch() != req.GetLeaseEpoch() || !orchestration.IsHeld(run.GetState().GetType()) {
			return fmt.Errorf("%w: flow run %s is held by agent %q at epoch %d in state %s, not by %q at epoch %d",
				ErrLeaseLost, run.GetId(), run.GetAgentId(), run.GetLeaseEpoch(), run.GetState().GetName(), req.GetAgentId(), req.GetLeaseEpoch())
		}
		// The run's last lines go before its state, in the same
		// transaction: a follower never sees the end before them.
		if _, err := tx.AppendLogs(run.GetId(), req.GetLogs()); err != nil {
			return err
		}
		now := tx.Now()
		res, run, err := orchestration.Transition(tx, orchestration.Proposal{
			RunID:        run.GetId(),
			Run:          run,
			State:        req.GetState(),
			TransitionID: req.GetTransitionId(),
			OnWrite: func(r *orionv1.FlowRun, s *orionv1.State) {
				if req.GetInfrastructurePid() != "" {
					r.InfrastructurePid = req.GetInfrastructurePid()
				}
				if orchestration.IsHeld(s.GetType()) {
					r.LeaseExpireTime = timestamppb.New(now.Add(d.cfg.LeaseDuration))
				}
			},
		})
		resp.Result, resp.FlowRun = res, run
		return err
	})
	if err != nil {
		return nil, err
	}
	if req.GetOmitFlowRun() {
		resp.FlowRun = nil
	}
	return resp, nil
}

// Heartbeat renews the agent and the leases of the runs it still holds, and
// tells it which runs it lost and which it must cancel.
func (d *Dispatcher) Heartbeat(ctx context.Context, req *agentv1.HeartbeatRequest) (*agentv1.HeartbeatResponse, error) {
	if req.GetAgentId() == "" {
		return nil, store.Invalidf("agent_id is required")
	}
	resp := &agentv1.HeartbeatResponse{}
	err := d.store.Update(ctx, func(tx store.Tx) error {
		agent, err := registeredAgent(tx, req.GetAgentId())
		if err != nil {
			return err
		}
		now := tx.Now()
		expire := timestamppb.New(now.Add(d.cfg.LeaseDuration))
		resp.LeaseExpireTime = expire
		agent.LastHeartbeatTime = timestamppb.New(now)
		if err := tx.PutAgent(agent); err != nil {
			return err
		}
		for _, held := range req.GetRuns() {
			run, err := tx.FlowRun(held.GetFlowRunId())
			if errors.Is(err, store.ErrNotFound) {
				resp.LostFlowRunIds = append(resp.LostFlowRunIds, held.GetFlowRunId())
				continue
			} else if err != nil {
				return err
			}
			if run.GetAgentId() != agent.GetId() || run.GetLeaseEpoch() != held.GetLeaseEpoch() || !orchestration.IsHeld(run.GetState().GetType()) {
				resp.LostFlowRunIds = append(resp.LostFlowRunIds, run.GetId())
				continue
			}
			run.LeaseExpireTime = expire
			if err := tx.PutFlowRun(run); err != nil {
				return err
			}
			if run.GetState().GetType() == orchestration.Cancelling {
				resp.Cancels = append(resp.Cancels, &agentv1.CancelRequest{FlowRunId: run.GetId(), LeaseEpoch: run.GetLeaseEpoch(), Message: run.GetState().GetMessage()})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Cancel cancels a run. A run that has no infrastructure yet (SCHEDULED,
// PAUSED, or PENDING before the agent started anything) becomes CANCELLED at
// once; a running one becomes CANCELLING and its agent is told to stop it.
func (d *Dispatcher) Cancel(ctx context.Context, runID, message string) (*orionv1.FlowRun, error) {
	if runID == "" {
		return nil, store.Invalidf("id is required")
	}
	if message == "" {
		message = "Flow run was cancelled."
	}
	var out *orionv1.FlowRun
	err := d.store.Update(ctx, func(tx store.Tx) error {
		run, err := tx.FlowRun(runID)
		if err != nil {
			return err
		}
		t := run.GetState().GetType()
		if orchestration.IsTerminal(t) {
			return store.Conflictf("flow run %s already finished in state %s; there is nothing to cancel", runID, run.GetState().GetName())
		}
		if t == orchestration.Cancelling {
			out = run
			return nil
		}
		target := orchestration.Cancelled
		if (t == orchestration.Running || t == orchestration.Pending) && (run.GetInfrastructurePid() != "" || t == orchestration.Running) && run.GetLeaseExpireTime() != nil {
			target = orchestration.Cancelling
		}
		s := &orionv1.State{Type: target, Name: orchestration.DefaultName(target), Message: message, Timestamp: timestamppb.New(tx.Now())}
		out = run
		return orchestration.Write(tx, run, s, nil)
	})
	if err != nil {
		return nil, err
	}
	if out.GetState().GetType() == orchestration.Cancelling {
		d.notifyCancel(out, message)
	}
	d.log.Info("flow run cancel requested", "flow_run_id", runID, "to_state", out.GetState().GetName())
	return out, nil
}

// registeredAgent loads an agent, telling an unknown one to register again.
func registeredAgent(tx store.Tx, id string) (*orionv1.Agent, error) {
	a, err := tx.Agent(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errAgentUnknown(id)
	}
	return a, err
}
