package rpc

import (
	"context"

	"google.golang.org/grpc"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	"github.com/orion-run/orion/server/validate"
)

// agentService adapts the agent protocol to the dispatcher.
type agentService struct {
	agentv1.UnimplementedAgentServiceServer
	svc *Services
}

func (s *agentService) RegisterAgent(ctx context.Context, req *agentv1.RegisterAgentRequest) (*agentv1.RegisterAgentResponse, error) {
	if err := validate.RegisterAgent(req); err != nil {
		return nil, err
	}
	return s.svc.Dispatcher.Register(ctx, req)
}

func (s *agentService) StreamWork(req *agentv1.StreamWorkRequest, stream grpc.ServerStreamingServer[agentv1.StreamWorkResponse]) error {
	return s.svc.Dispatcher.Stream(stream.Context(), req.GetAgentId(), stream.Send)
}

func (s *agentService) ClaimFlowRun(ctx context.Context, req *agentv1.ClaimFlowRunRequest) (*agentv1.ClaimFlowRunResponse, error) {
	return s.svc.Dispatcher.Claim(ctx, req)
}

func (s *agentService) ReportFlowRunState(ctx context.Context, req *agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error) {
	if err := validate.State("state", req.GetState()); err != nil {
		return nil, err
	}
	return s.svc.Dispatcher.Report(ctx, req)
}

func (s *agentService) Heartbeat(ctx context.Context, req *agentv1.HeartbeatRequest) (*agentv1.HeartbeatResponse, error) {
	return s.svc.Dispatcher.Heartbeat(ctx, req)
}
