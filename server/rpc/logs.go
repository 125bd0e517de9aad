package rpc

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/auth"
	"github.com/orion-run/orion/server/dispatch"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/validate"
)

// Log pages. The limits on lines and batches are in package validate
// (1 MB per line, as Prefect's, and a bound on batch length).
const (
	defaultLogPage = 1000
	maxLogPage     = 10_000
)

type logService struct {
	orionv1.UnimplementedLogServiceServer
	svc *Services
}

func (s *logService) CreateLogs(ctx context.Context, req *orionv1.CreateLogsRequest) (*orionv1.CreateLogsResponse, error) {
	if err := validate.Logs(req.GetLogs()); err != nil {
		return nil, err
	}
	byRun := map[string][]*orionv1.Log{}
	size := map[string]int{}
	var order []string
	for _, l := range req.GetLogs() {
		l.Seq = 0 // ignored on input; AppendLogs numbers the lines it stores
		if _, ok := byRun[l.GetFlowRunId()]; !ok {
			order = append(order, l.GetFlowRunId())
		}
		byRun[l.GetFlowRunId()] = append(byRun[l.GetFlowRunId()], l)
		size[l.GetFlowRunId()] += len(l.GetMessage())
	}
	// Refused whole or accepted whole, so a client that retries a refused
	// request neither loses nor repeats a line.
	for _, id := range order {
		if err := s.svc.LogRate.Allow("flow run "+id, len(byRun[id]), size[id]); err != nil {
			return nil, err
		}
	}
	caller := auth.FromContext(ctx)
	err := s.svc.Store.Update(ctx, func(tx store.Tx) error {
		for _, id := range order {
			run, err := tx.FlowRun(id)
			if err != nil {
				return err
			}
			if !caller.MayServe(run.GetWorkQueueName()) {
				return fmt.Errorf("%w: token %q may not write logs of runs in work queue %q", dispatch.ErrNotOwner, caller.Name, run.GetWorkQueueName())
			}
			if _, err := tx.AppendLogs(id, byRun[id]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	stored := 0
	for _, l := range req.GetLogs() {
		if l.GetSeq() != 0 { // AppendLogs numbered it: stored, not resent
			stored++
		}
	}
	return &orionv1.CreateLogsResponse{Count: int32(stored)}, nil
}

func (s *logService) ListLogs(ctx context.Context, req *orionv1.ListLogsRequest) (*orionv1.ListLogsResponse, error) {
	if req.GetFlowRunId() == "" {
		return nil, store.Invalidf("flow_run_id is required")
	}
	limit := int(req.GetPageSize())
	switch {
	case limit < 0 || limit > maxLogPage:
		return nil, store.Invalidf("page_size must be between 0 and %d", maxLogPage)
	case limit == 0:
		limit = defaultLogPage
	}
	resp := &orionv1.ListLogsResponse{}
	err := s.svc.Store.View(ctx, func(tx store.Tx) error {
		if _, err := tx.FlowRun(req.GetFlowRunId()); err != nil {
			return err
		}
		logs, err := tx.Logs(req.GetFlowRunId(), req.GetAfterSeq(), req.GetMinLevel(), limit+1)
		if err != nil {
			return err
		}
		if len(logs) > limit {
			logs = logs[:limit]
			resp.NextAfterSeq = logs[limit-1].GetSeq()
		}
		resp.Logs = logs
		return nil
	})
	return resp, err
}

// FollowLogs streams logs from a position and then as they arrive; it ends
// once the run is terminal and every stored line was sent.
func (s *logService) FollowLogs(req *orionv1.FollowLogsRequest, stream grpc.ServerStreamingServer[orionv1.FollowLogsResponse]) error {
	if req.GetFlowRunId() == "" {
		return store.Invalidf("flow_run_id is required")
	}
	ctx := stream.Context()
	after := req.GetAfterSeq()
	for {
		changed, _ := s.svc.Store.Changed()
		var logs []*orionv1.Log
		var terminal bool
		err := s.svc.Store.View(ctx, func(tx store.Tx) error {
			run, err := tx.FlowRun(req.GetFlowRunId())
			if err != nil {
				return err
			}
			terminal = orchestration.IsTerminal(run.GetState().GetType())
			logs, err = tx.Logs(req.GetFlowRunId(), after, req.GetMinLevel(), defaultLogPage)
			return err
		})
		if err != nil {
			return err
		}
		for _, l := range logs {
			if err := stream.Send(&orionv1.FollowLogsResponse{Log: l}); err != nil {
				return err
			}
			after = l.GetSeq()
		}
		if len(logs) == defaultLogPage {
			continue // more stored lines to send before waiting
		}
		if terminal {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}
