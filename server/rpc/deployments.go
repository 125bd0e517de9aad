package rpc

import (
	"context"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/runs"
	"github.com/orion-run/orion/server/scheduler"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/validate"
)

type deploymentService struct {
	orionv1.UnimplementedDeploymentServiceServer
	svc *Services
}

func (s *deploymentService) CreateDeployment(ctx context.Context, req *orionv1.CreateDeploymentRequest) (*orionv1.CreateDeploymentResponse, error) {
	if err := validate.Deployment(req.GetDeployment()); err != nil {
		return nil, err
	}
	resp := &orionv1.CreateDeploymentResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		resp.Deployment, resp.Created, err = deployments.Upsert(tx, req.GetDeployment())
		return err
	})
	if err != nil {
		return nil, err
	}
	s.svc.log(ctx).Info("deployment stored", "deployment_id", resp.Deployment.GetId(), "flow_name", resp.Deployment.GetFlowName(), "deployment_name", resp.Deployment.GetName(), "created", resp.Created)
	return resp, nil
}

func (s *deploymentService) GetDeployment(ctx context.Context, req *orionv1.GetDeploymentRequest) (*orionv1.GetDeploymentResponse, error) {
	if err := required("id", req.GetId()); err != nil {
		return nil, err
	}
	v, err := view(ctx, s.svc.Store, func(tx store.Tx) (*orionv1.Deployment, error) { return tx.Deployment(req.GetId()) })
	return &orionv1.GetDeploymentResponse{Deployment: v}, err
}

func (s *deploymentService) GetDeploymentByName(ctx context.Context, req *orionv1.GetDeploymentByNameRequest) (*orionv1.GetDeploymentByNameResponse, error) {
	if req.GetFlowName() == "" || req.GetDeploymentName() == "" {
		return nil, store.Invalidf("flow_name and deployment_name are both required")
	}
	resp := &orionv1.GetDeploymentByNameResponse{}
	err := s.svc.Store.View(ctx, func(tx store.Tx) (err error) {
		resp.Deployment, err = tx.DeploymentByName(req.GetFlowName(), req.GetDeploymentName())
		return err
	})
	return resp, err
}

func (s *deploymentService) ListDeployments(ctx context.Context, req *orionv1.ListDeploymentsRequest) (*orionv1.ListDeploymentsResponse, error) {
	limit, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &orionv1.ListDeploymentsResponse{}
	err = s.svc.Store.View(ctx, func(tx store.Tx) error {
		deps, err := tx.ListDeployments(store.DeploymentFilter{FlowName: req.GetFlowName(), Tags: req.GetTags(), After: after, Limit: limit + 1})
		if err != nil {
			return err
		}
		if len(deps) > limit {
			deps = deps[:limit]
			resp.NextPageToken = encodeToken(store.DeploymentCursor(deps[limit-1]))
		}
		resp.Deployments = deps
		return nil
	})
	return resp, err
}

func (s *deploymentService) DeleteDeployment(ctx context.Context, req *orionv1.DeleteDeploymentRequest) (*orionv1.DeleteDeploymentResponse, error) {
	if req.GetId() == "" {
		return nil, store.Invalidf("id is required")
	}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		_, err := deployments.Delete(tx, req.GetId())
		return err
	})
	return &orionv1.DeleteDeploymentResponse{}, err
}

func (s *deploymentService) SetDeploymentScheduleActive(ctx context.Context, req *orionv1.SetDeploymentScheduleActiveRequest) (*orionv1.SetDeploymentScheduleActiveResponse, error) {
	if req.GetId() == "" {
		return nil, store.Invalidf("id is required")
	}
	resp := &orionv1.SetDeploymentScheduleActiveResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) (err error) {
		resp.Deployment, err = deployments.SetScheduleActive(tx, req.GetId(), req.GetActive())
		return err
	})
	return resp, err
}

func (s *deploymentService) BackfillDeployment(ctx context.Context, req *orionv1.BackfillDeploymentRequest) (*orionv1.BackfillDeploymentResponse, error) {
	if err := required("id", req.GetId()); err != nil {
		return nil, err
	}
	if req.GetStartTime() == nil || req.GetEndTime() == nil {
		return nil, store.Invalidf("start_time and end_time are both required")
	}
	resp := &orionv1.BackfillDeploymentResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		created, existing, err := scheduler.Backfill(tx, req.GetId(), req.GetStartTime().AsTime(), req.GetEndTime().AsTime())
		resp.Created, resp.Existing = int32(created), int32(existing)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.svc.log(ctx).Info("deployment backfilled", "deployment_id", req.GetId(), "created", resp.Created, "existing", resp.Existing)
	return resp, nil
}

func (s *deploymentService) CreateDeploymentFlowRun(ctx context.Context, req *orionv1.CreateDeploymentFlowRunRequest) (*orionv1.CreateDeploymentFlowRunResponse, error) {
	if err := validate.CreateDeploymentFlowRun(req); err != nil {
		return nil, err
	}
	resp := &orionv1.CreateDeploymentFlowRunResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		dep, err := tx.Deployment(req.GetDeploymentId())
		if err != nil {
			return err
		}
		flow, err := tx.Flow(dep.GetFlowId())
		if err != nil {
			return err
		}
		r := runs.Request{
			Flow: flow, Deployment: dep, Name: req.GetName(), Parameters: req.GetParameters(), Tags: req.GetTags(),
			IdempotencyKey: req.GetIdempotencyKey(), State: req.GetState(), ScheduledTime: req.GetScheduledTime(),
			Infrastructure: req.GetInfrastructure(), Retries: req.Retries, RetryDelay: req.GetRetryDelay(),
		}
		resp.FlowRun, resp.Created, err = runs.Create(tx, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	if resp.Created {
		s.svc.log(ctx).Info("flow run created", "flow_run_id", resp.FlowRun.GetId(), "deployment_id", req.GetDeploymentId())
	}
	return resp, nil
}

func (s *deploymentService) ListDeploymentRunSummaries(ctx context.Context, req *orionv1.ListDeploymentRunSummariesRequest) (*orionv1.ListDeploymentRunSummariesResponse, error) {
	resp := &orionv1.ListDeploymentRunSummariesResponse{}
	err := s.svc.Store.View(ctx, func(tx store.Tx) (err error) {
		resp.Summaries, err = runs.DeploymentSummaries(tx, req.GetDeploymentIds(), int(req.GetRecentRuns()))
		return err
	})
	return resp, err
}
