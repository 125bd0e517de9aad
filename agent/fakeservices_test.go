package agent

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/validate"
)

// fakeFlowRunService serves what Execute needs.
type fakeFlowRunService struct {
	orionv1.UnimplementedFlowRunServiceServer
	f *fake
}

func (s *fakeFlowRunService) SetFlowRunState(_ context.Context, req *orionv1.SetFlowRunStateRequest) (*orionv1.SetFlowRunStateResponse, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(event{kind: "set", runID: req.GetFlowRunId(), state: req.GetState().GetType(), req: req})
	if err := validate.State("state", req.GetState()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error()) // as the server refuses it
	}
	r, ok := f.runs[req.GetFlowRunId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "run not found")
	}
	res := f.apply(r, req.GetState())
	return &orionv1.SetFlowRunStateResponse{Result: res, FlowRun: proto.Clone(r.run).(*orionv1.FlowRun)}, nil
}

func (s *fakeFlowRunService) GetFlowRun(_ context.Context, req *orionv1.GetFlowRunRequest) (*orionv1.GetFlowRunResponse, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[req.GetId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "run not found")
	}
	return &orionv1.GetFlowRunResponse{FlowRun: proto.Clone(r.run).(*orionv1.FlowRun)}, nil
}

// WatchFlowRun sends the run once, then holds the stream open.
func (s *fakeFlowRunService) WatchFlowRun(req *orionv1.WatchFlowRunRequest, stream grpc.ServerStreamingServer[orionv1.WatchFlowRunResponse]) error {
	f := s.f
	f.mu.Lock()
	r, ok := f.runs[req.GetId()]
	var run *orionv1.FlowRun
	if ok {
		run = proto.Clone(r.run).(*orionv1.FlowRun)
	}
	f.mu.Unlock()
	if !ok {
		return status.Error(codes.NotFound, "run not found")
	}
	if err := stream.Send(&orionv1.WatchFlowRunResponse{FlowRun: run}); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

// fakeLogService stores logs.
type fakeLogService struct {
	orionv1.UnimplementedLogServiceServer
	f *fake
}

func (s *fakeLogService) CreateLogs(_ context.Context, req *orionv1.CreateLogsRequest) (*orionv1.CreateLogsResponse, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range req.GetLogs() {
		f.storeLog(l.GetFlowRunId(), l)
	}
	if len(req.GetLogs()) > 0 {
		f.record(event{kind: "logs", runID: req.GetLogs()[0].GetFlowRunId()})
	}
	return &orionv1.CreateLogsResponse{Count: int32(len(req.GetLogs()))}, nil
}

// fakeFlowService serves pushed flow sources.
type fakeFlowService struct {
	orionv1.UnimplementedFlowServiceServer
	f *fake
}

func (s *fakeFlowService) GetFlowSource(_ context.Context, req *orionv1.GetFlowSourceRequest) (*orionv1.GetFlowSourceResponse, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	src, ok := f.sources[req.GetDigest()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such source")
	}
	return proto.Clone(src).(*orionv1.GetFlowSourceResponse), nil
}
