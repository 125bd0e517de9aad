package rpc

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/auth"
	"github.com/orion-run/orion/server/dispatch"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/validate"
)

// agentService adapts the agent protocol to the dispatcher. With
// authentication on, an agent token may only serve the work queues it is
// restricted to, and only act as the agents it registered itself.
type agentService struct {
	agentv1.UnimplementedAgentServiceServer
	svc *Services
}

func (s *agentService) RegisterAgent(ctx context.Context, req *agentv1.RegisterAgentRequest) (*agentv1.RegisterAgentResponse, error) {
	if err := validate.RegisterAgent(req); err != nil {
		return nil, err
	}
	caller := auth.FromContext(ctx)
	var owner string
	if caller.Scope == auth.Agent {
		for _, q := range req.GetWorkQueues() {
			if !caller.MayServe(q) {
				return nil, fmt.Errorf("%w: token %q may serve work queues %s, not %q", dispatch.ErrNotOwner, caller.Name, strings.Join(caller.WorkQueues, ", "), q)
			}
		}
		owner = caller.TokenID
	}
	return s.svc.Dispatcher.Register(ctx, req, owner)
}

// ownAgent fails unless an agent-token caller registered agentID itself.
// Other callers (admins; anyone with authentication off) pass.
func (s *agentService) ownAgent(ctx context.Context, agentID string) error {
	caller := auth.FromContext(ctx)
	if caller.Scope != auth.Agent || agentID == "" {
		return nil
	}
	a, err := view(ctx, s.svc.Store, func(tx store.Tx) (*orionv1.Agent, error) { return tx.Agent(agentID) })
	if err != nil {
		return err
	}
	if a.GetTokenId() != caller.TokenID {
		return fmt.Errorf("%w: agent %s was registered with another API token", dispatch.ErrNotOwner, agentID)
	}
	return nil
}

func (s *agentService) StreamWork(req *agentv1.StreamWorkRequest, stream grpc.ServerStreamingServer[agentv1.StreamWorkResponse]) error {
	if err := s.ownAgent(stream.Context(), req.GetAgentId()); err != nil {
		return err
	}
	return s.svc.Dispatcher.Stream(stream.Context(), req.GetAgentId(), stream.Send)
}

func (s *agentService) ClaimFlowRun(ctx context.Context, req *agentv1.ClaimFlowRunRequest) (*agentv1.ClaimFlowRunResponse, error) {
	if err := s.ownAgent(ctx, req.GetAgentId()); err != nil {
		return nil, err
	}
	return s.svc.Dispatcher.Claim(ctx, req)
}

func (s *agentService) ReportFlowRunState(ctx context.Context, req *agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error) {
	if err := validate.State("state", req.GetState()); err != nil {
		return nil, err
	}
	if err := validate.ReportLogs(req.GetFlowRunId(), req.GetLogs()); err != nil {
		return nil, err
	}
	if err := s.ownAgent(ctx, req.GetAgentId()); err != nil {
		return nil, err
	}
	return s.svc.Dispatcher.Report(ctx, req)
}

// ClaimFlowRuns decides each claim as ClaimFlowRun would, all at once, so
// they share the store's group commits.
func (s *agentService) ClaimFlowRuns(ctx context.Context, req *agentv1.ClaimFlowRunsRequest) (*agentv1.ClaimFlowRunsResponse, error) {
	if err := validate.BatchCalls("claims", len(req.GetClaims())); err != nil {
		return nil, err
	}
	out := decideEach(ctx, s, agentv1.AgentService_ClaimFlowRun_FullMethodName, req.GetClaims(), s.ClaimFlowRun,
		func(resp *agentv1.ClaimFlowRunResponse, e *agentv1.CallError) *agentv1.ClaimFlowRunOutcome {
			if e != nil {
				return &agentv1.ClaimFlowRunOutcome{Outcome: &agentv1.ClaimFlowRunOutcome_Error{Error: e}}
			}
			return &agentv1.ClaimFlowRunOutcome{Outcome: &agentv1.ClaimFlowRunOutcome_Response{Response: resp}}
		})
	return &agentv1.ClaimFlowRunsResponse{Outcomes: out}, nil
}

// ReportFlowRunStates decides each report as ReportFlowRunState would, all
// at once, so they share the store's group commits.
func (s *agentService) ReportFlowRunStates(ctx context.Context, req *agentv1.ReportFlowRunStatesRequest) (*agentv1.ReportFlowRunStatesResponse, error) {
	if err := validate.BatchCalls("reports", len(req.GetReports())); err != nil {
		return nil, err
	}
	out := decideEach(ctx, s, agentv1.AgentService_ReportFlowRunState_FullMethodName, req.GetReports(), s.ReportFlowRunState,
		func(resp *agentv1.ReportFlowRunStateResponse, e *agentv1.CallError) *agentv1.ReportFlowRunStateOutcome {
			if e != nil {
				return &agentv1.ReportFlowRunStateOutcome{Outcome: &agentv1.ReportFlowRunStateOutcome_Error{Error: e}}
			}
			return &agentv1.ReportFlowRunStateOutcome{Outcome: &agentv1.ReportFlowRunStateOutcome_Response{Response: resp}}
		})
	return &agentv1.ReportFlowRunStatesResponse{Outcomes: out}, nil
}

// decideEach makes every call of a batch with one, all at once, and
// returns outcome of each answer or error (mapped as method's would be),
// in the order of reqs.
func decideEach[Req, Resp, Out any](ctx context.Context, s *agentService, method string, reqs []Req, one func(context.Context, Req) (Resp, error), outcome func(Resp, *agentv1.CallError) Out) []Out {
	out := make([]Out, len(reqs))
	each(len(reqs), func(i int) {
		resp, err := one(ctx, reqs[i])
		var e *agentv1.CallError
		if err != nil {
			e = s.callError(ctx, method, err)
		}
		out[i] = outcome(resp, e)
	})
	return out
}

// callError is the error one call of a batch would have failed with on its
// own, mapped by Status.
func (s *agentService) callError(ctx context.Context, method string, err error) *agentv1.CallError {
	st := status.Convert(Status(s.svc.log(ctx), method, err))
	return &agentv1.CallError{Code: int32(st.Code()), Message: st.Message()}
}

// each runs fn(0) … fn(n-1) concurrently and returns when all have.
func each(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() { fn(i) })
	}
	if n > 0 {
		fn(0)
	}
	wg.Wait()
}

func (s *agentService) Heartbeat(ctx context.Context, req *agentv1.HeartbeatRequest) (*agentv1.HeartbeatResponse, error) {
	if err := s.ownAgent(ctx, req.GetAgentId()); err != nil {
		return nil, err
	}
	return s.svc.Dispatcher.Heartbeat(ctx, req)
}
