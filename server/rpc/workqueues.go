package rpc

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/runs"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/validate"
)

type workQueueService struct {
	orionv1.UnimplementedWorkQueueServiceServer
	svc *Services
}

func (s *workQueueService) CreateWorkQueue(ctx context.Context, req *orionv1.CreateWorkQueueRequest) (*orionv1.CreateWorkQueueResponse, error) {
	in := req.GetWorkQueue()
	if err := validate.WorkQueue(in); err != nil {
		return nil, err
	}
	q := &orionv1.WorkQueue{
		Id: store.NewID(), Name: in.GetName(), Description: in.GetDescription(), IsPaused: in.GetIsPaused(),
		ConcurrencyLimit: in.ConcurrencyLimit, Tags: in.GetTags(),
	}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.WorkQueueByName(q.GetName()); err == nil {
			return store.AlreadyExistsf("Work queue with name: '%s' already exists.", q.GetName())
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := timestamppb.New(tx.Now())
		q.CreateTime, q.UpdateTime = now, now
		return tx.PutWorkQueue(q)
	})
	return &orionv1.CreateWorkQueueResponse{WorkQueue: q}, err
}

func (s *workQueueService) GetWorkQueue(ctx context.Context, req *orionv1.GetWorkQueueRequest) (*orionv1.GetWorkQueueResponse, error) {
	if err := required("id", req.GetId()); err != nil {
		return nil, err
	}
	v, err := view(ctx, s.svc.Store, func(tx store.Tx) (*orionv1.WorkQueue, error) { return tx.WorkQueue(req.GetId()) })
	return &orionv1.GetWorkQueueResponse{WorkQueue: v}, err
}

func (s *workQueueService) GetWorkQueueByName(ctx context.Context, req *orionv1.GetWorkQueueByNameRequest) (*orionv1.GetWorkQueueByNameResponse, error) {
	if err := required("name", req.GetName()); err != nil {
		return nil, err
	}
	v, err := view(ctx, s.svc.Store, func(tx store.Tx) (*orionv1.WorkQueue, error) { return tx.WorkQueueByName(req.GetName()) })
	return &orionv1.GetWorkQueueByNameResponse{WorkQueue: v}, err
}

func (s *workQueueService) ListWorkQueues(ctx context.Context, _ *orionv1.ListWorkQueuesRequest) (*orionv1.ListWorkQueuesResponse, error) {
	resp := &orionv1.ListWorkQueuesResponse{}
	err := s.svc.Store.View(ctx, func(tx store.Tx) (err error) {
		resp.WorkQueues, err = tx.ListWorkQueues()
		return err
	})
	return resp, err
}

func (s *workQueueService) UpdateWorkQueue(ctx context.Context, req *orionv1.UpdateWorkQueueRequest) (*orionv1.UpdateWorkQueueResponse, error) {
	if err := validate.UpdateWorkQueue(req); err != nil {
		return nil, err
	}
	resp := &orionv1.UpdateWorkQueueResponse{}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		q, err := tx.WorkQueue(req.GetId())
		if err != nil {
			return err
		}
		if req.Description != nil {
			q.Description = req.GetDescription()
		}
		if req.IsPaused != nil {
			q.IsPaused = req.GetIsPaused()
		}
		if req.ConcurrencyLimit != nil {
			q.ConcurrencyLimit = req.ConcurrencyLimit
		}
		if req.GetClearConcurrencyLimit() {
			q.ConcurrencyLimit = nil
		}
		if req.GetUpdateTags() {
			q.Tags = req.GetTags()
		}
		q.UpdateTime = timestamppb.New(tx.Now())
		resp.WorkQueue = q
		return tx.PutWorkQueue(q)
	})
	return resp, err
}

func (s *workQueueService) DeleteWorkQueue(ctx context.Context, req *orionv1.DeleteWorkQueueRequest) (*orionv1.DeleteWorkQueueResponse, error) {
	if req.GetId() == "" {
		return nil, store.Invalidf("id is required")
	}
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteWorkQueue(req.GetId()) })
	return &orionv1.DeleteWorkQueueResponse{}, err
}

func (s *workQueueService) PreviewWorkQueue(ctx context.Context, req *orionv1.PreviewWorkQueueRequest) (*orionv1.PreviewWorkQueueResponse, error) {
	if req.GetId() == "" {
		return nil, store.Invalidf("id is required")
	}
	hours := req.GetHours()
	if hours <= 0 {
		hours = 1
	}
	limit, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	resp := &orionv1.PreviewWorkQueueResponse{}
	err = s.svc.Store.View(ctx, func(tx store.Tx) error {
		q, err := tx.WorkQueue(req.GetId())
		if err != nil {
			return err
		}
		before := tx.Now().Add(time.Duration(hours) * time.Hour)
		return tx.RunsByState(orchestration.Scheduled, before, func(r *orionv1.FlowRun) bool {
			if r.GetWorkQueueName() == q.GetName() && r.GetDeploymentId() != "" {
				resp.FlowRuns = append(resp.FlowRuns, r)
			}
			return len(resp.FlowRuns) < limit
		})
	})
	return resp, err
}

func (s *workQueueService) ListAgents(ctx context.Context, _ *orionv1.ListAgentsRequest) (*orionv1.ListAgentsResponse, error) {
	agents, err := s.svc.Dispatcher.ListAgents(ctx)
	return &orionv1.ListAgentsResponse{Agents: agents}, err
}

func (s *workQueueService) ListWorkQueueStats(ctx context.Context, _ *orionv1.ListWorkQueueStatsRequest) (*orionv1.ListWorkQueueStatsResponse, error) {
	resp := &orionv1.ListWorkQueueStatsResponse{}
	err := s.svc.Store.View(ctx, func(tx store.Tx) (err error) {
		resp.Stats, err = runs.QueueStats(tx)
		return err
	})
	return resp, err
}
