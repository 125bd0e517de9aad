package rpc

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/auth"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/runs"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/validate"
)

type flowRunService struct {
	orionv1.UnimplementedFlowRunServiceServer
	svc *Services
}

func (s *flowRunService) CreateFlowRun(ctx context.Context, req *orionv1.CreateFlowRunRequest) (*orionv1.CreateFlowRunResponse, error) {
	if err := validate.CreateFlowRun(req); err != nil {
		return nil, err
	}
	resp := &orionv1.CreateFlowRunResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		var dep *orionv1.Deployment
		if req.GetDeploymentId() != "" {
			var err error
			if dep, err = tx.Deployment(req.GetDeploymentId()); err != nil {
				return err
			}
			if req.GetFlowName() != "" && req.GetFlowName() != dep.GetFlowName() {
				return store.Invalidf("flow_name %q does not match the deployment's flow %q", req.GetFlowName(), dep.GetFlowName())
			}
		}
		name := req.GetFlowName()
		if name == "" {
			name = dep.GetFlowName()
		}
		flow, _, err := deployments.EnsureFlow(tx, name, nil)
		if err != nil {
			return err
		}
		resp.FlowRun, resp.Created, err = runs.Create(tx, runs.Request{
			Flow: flow, Deployment: dep, Name: req.GetName(), Parameters: req.GetParameters(), Tags: req.GetTags(),
			IdempotencyKey: req.GetIdempotencyKey(), State: req.GetState(), Infrastructure: req.GetInfrastructure(),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *flowRunService) GetFlowRun(ctx context.Context, req *orionv1.GetFlowRunRequest) (*orionv1.GetFlowRunResponse, error) {
	if err := required("id", req.GetId()); err != nil {
		return nil, err
	}
	v, err := view(ctx, s.svc.Store, func(tx store.Tx) (*orionv1.FlowRun, error) { return tx.FlowRun(req.GetId()) })
	return &orionv1.GetFlowRunResponse{FlowRun: v}, err
}

func (s *flowRunService) ListFlowRuns(ctx context.Context, req *orionv1.ListFlowRunsRequest) (*orionv1.ListFlowRunsResponse, error) {
	limit, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	f := store.FlowRunFilter{
		FlowName: req.GetFlowName(), DeploymentID: req.GetDeploymentId(), StateTypes: req.GetStateTypes(),
		Tags: req.GetTags(), WorkQueueName: req.GetWorkQueueName(), After: after, Limit: limit,
	}
	if req.GetScheduledBefore() != nil {
		f.ScheduledBefore = req.GetScheduledBefore().AsTime()
	}
	if err := waitForChange(ctx, s.svc.Store, req.GetWaitIndex(), MaxBlockingWait); err != nil {
		return nil, err
	}
	resp := &orionv1.ListFlowRunsResponse{}
	err = s.svc.Store.View(ctx, func(tx store.Tx) error {
		list, next, err := tx.ListFlowRuns(f)
		resp.FlowRuns, resp.NextPageToken, resp.Index = list, encodeToken(next), tx.Index()
		return err
	})
	return resp, err
}

func (s *flowRunService) SetFlowRunState(ctx context.Context, req *orionv1.SetFlowRunStateRequest) (*orionv1.SetFlowRunStateResponse, error) {
	if req.GetFlowRunId() == "" {
		return nil, store.Invalidf("flow_run_id is required")
	}
	if err := validate.State("state", req.GetState()); err != nil {
		return nil, err
	}
	if req.GetForce() {
		if err := auth.RequireAdminScope(ctx, "force"); err != nil {
			return nil, err
		}
	}
	resp := &orionv1.SetFlowRunStateResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		resp.Result, resp.FlowRun, err = orchestration.Transition(tx, orchestration.Proposal{
			RunID: req.GetFlowRunId(), State: req.GetState(), Force: req.GetForce(), TransitionID: req.GetTransitionId(),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if t := resp.FlowRun.GetState().GetType(); t == orchestration.Cancelling {
		s.svc.Dispatcher.Cancel(ctx, resp.FlowRun.GetId(), resp.FlowRun.GetState().GetMessage()) //nolint:errcheck // already CANCELLING: only notifies
	}
	return resp, nil
}

func (s *flowRunService) ListFlowRunStates(ctx context.Context, req *orionv1.ListFlowRunStatesRequest) (*orionv1.ListFlowRunStatesResponse, error) {
	if req.GetFlowRunId() == "" {
		return nil, store.Invalidf("flow_run_id is required")
	}
	resp := &orionv1.ListFlowRunStatesResponse{}
	err := s.svc.Store.View(ctx, func(tx store.Tx) error {
		if _, err := tx.FlowRun(req.GetFlowRunId()); err != nil {
			return err
		}
		var err error
		resp.States, err = tx.States(req.GetFlowRunId())
		return err
	})
	return resp, err
}

func (s *flowRunService) CancelFlowRun(ctx context.Context, req *orionv1.CancelFlowRunRequest) (*orionv1.CancelFlowRunResponse, error) {
	run, err := s.svc.Dispatcher.Cancel(ctx, req.GetId(), req.GetMessage())
	if err != nil {
		return nil, err
	}
	return &orionv1.CancelFlowRunResponse{FlowRun: run}, nil
}

func (s *flowRunService) RetryFlowRun(ctx context.Context, req *orionv1.RetryFlowRunRequest) (*orionv1.RetryFlowRunResponse, error) {
	if err := required("id", req.GetId()); err != nil {
		return nil, err
	}
	resp := &orionv1.RetryFlowRunResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) (err error) {
		resp.Result, resp.FlowRun, err = runs.Retry(tx, req.GetId(), req.GetMessage(), req.GetTransitionId())
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *flowRunService) DeleteFlowRun(ctx context.Context, req *orionv1.DeleteFlowRunRequest) (*orionv1.DeleteFlowRunResponse, error) {
	if req.GetId() == "" {
		return nil, store.Invalidf("id is required")
	}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteFlowRun(req.GetId()) })
	return &orionv1.DeleteFlowRunResponse{}, err
}

// WatchFlowRun sends the run now and after each change, until it is terminal.
func (s *flowRunService) WatchFlowRun(req *orionv1.WatchFlowRunRequest, stream grpc.ServerStreamingServer[orionv1.WatchFlowRunResponse]) error {
	if req.GetId() == "" {
		return store.Invalidf("id is required")
	}
	ctx := stream.Context()
	var sent uint64
	for {
		changed, _ := s.svc.Store.Changed()
		var run *orionv1.FlowRun
		err := s.svc.Store.View(ctx, func(tx store.Tx) (err error) {
			run, err = tx.FlowRun(req.GetId())
			return err
		})
		if err != nil {
			if sent > 0 && errors.Is(err, store.ErrNotFound) {
				return nil // deleted while watched
			}
			return err
		}
		if run.GetModifyIndex() != sent || sent == 0 {
			if err := stream.Send(&orionv1.WatchFlowRunResponse{FlowRun: run}); err != nil {
				return err
			}
			sent = run.GetModifyIndex()
			if sent == 0 {
				sent = 1
			}
		}
		if orchestration.IsTerminal(run.GetState().GetType()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

func (s *flowRunService) GetFlowRunHistory(ctx context.Context, req *orionv1.GetFlowRunHistoryRequest) (*orionv1.GetFlowRunHistoryResponse, error) {
	h := runs.HistoryRequest{
		Interval: req.GetInterval().AsDuration(), DeploymentID: req.GetDeploymentId(), StateTypes: req.GetStateTypes(),
	}
	if req.GetStartTime() != nil {
		h.Start = req.GetStartTime().AsTime()
	}
	if req.GetEndTime() != nil {
		h.End = req.GetEndTime().AsTime()
	}
	resp := &orionv1.GetFlowRunHistoryResponse{}
	err := s.svc.Store.View(ctx, func(tx store.Tx) (err error) {
		resp.Intervals, err = runs.History(tx, h)
		return err
	})
	return resp, err
}
