package agent

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/validate"

	"github.com/orion-run/orion/client"
)

// fake is a scripted test double of the Orion server: a few maps and just
// enough of AgentService, FlowRunService, LogService and FlowService for the
// agent. Claims are a compare-and-set on SCHEDULED, reports check the lease
// epoch, and hooks let a test script other answers. It records every call
// as an event, in order.
type fake struct {
	mu        sync.Mutex
	runs      map[string]*fakeRun
	agents    map[string]bool
	nextAgent int
	sources   map[string]*orionv1.GetFlowSourceResponse
	logs      map[string][]*orionv1.Log
	marks     map[string]uint64 // run and log source → highest position
	events    []event
	notify    chan struct{} // signalled (non-blocking) after every event

	streams chan *fakeStream

	heartbeatInterval time.Duration
	// oldServer makes the fake a server from before report_logs and
	// batch_calls: it ignores log lines sent with a state report and
	// answers batched calls UNIMPLEMENTED.
	oldServer bool
	// noBatches makes the fake a server that does not serve batched calls
	// (and says so at registration).
	noBatches bool
	// batchesGone makes the fake answer batched calls UNIMPLEMENTED while
	// still saying it serves them (an older server started in its place).
	batchesGone bool
	// batchSizes records the size of every batched call served, by RPC
	// ("claims", "reports").
	batchSizes map[string][]int
	// Optional hooks; a nil result falls back to the default behaviour.
	onClaim     func(*agentv1.ClaimFlowRunRequest) (*agentv1.ClaimFlowRunResponse, error)
	onReport    func(*agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error)
	onHeartbeat func(*agentv1.HeartbeatRequest) *agentv1.HeartbeatResponse
}

// event is one recorded call.
type event struct {
	kind  string // "register", "claim", "report", "set", "heartbeat", "logs"
	runID string
	state orionv1.StateType
	req   proto.Message
}

type fakeRun struct {
	run *orionv1.FlowRun
	dep *orionv1.Deployment
}

// fakeStream is one open StreamWork call.
type fakeStream struct {
	agentID string
	send    chan *agentv1.StreamWorkResponse
	kill    chan error
}

func newFake() *fake {
	return &fake{
		runs:              make(map[string]*fakeRun),
		agents:            make(map[string]bool),
		sources:           make(map[string]*orionv1.GetFlowSourceResponse),
		logs:              make(map[string][]*orionv1.Log),
		marks:             make(map[string]uint64),
		batchSizes:        make(map[string][]int),
		notify:            make(chan struct{}, 1),
		streams:           make(chan *fakeStream, 16),
		heartbeatInterval: 50 * time.Millisecond,
	}
}

// serve starts the fake on 127.0.0.1:0 and returns a client for it.
func (f *fake) serve(t *testing.T) *client.Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	agentv1.RegisterAgentServiceServer(srv, &fakeAgentService{f: f})
	orionv1.RegisterFlowRunServiceServer(srv, &fakeFlowRunService{f: f})
	orionv1.RegisterLogServiceServer(srv, &fakeLogService{f: f})
	orionv1.RegisterFlowServiceServer(srv, &fakeFlowService{f: f})
	go func() { _ = srv.Serve(lis) }()
	c, err := client.Dial("http://" + lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		srv.Stop()
	})
	return c
}

// record appends an event and wakes waiters. Callers hold f.mu.
func (f *fake) record(e event) {
	f.events = append(f.events, e)
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// addRun stores a SCHEDULED run of dep and returns its id.
func (f *fake) addRun(id string, dep *orionv1.Deployment, params map[string]any) *orionv1.FlowRun {
	run := &orionv1.FlowRun{
		Id:           id,
		Name:         "run-" + id,
		FlowName:     dep.GetFlowName(),
		DeploymentId: dep.GetId(),
		State:        &orionv1.State{Type: orionv1.StateType_STATE_TYPE_SCHEDULED},
	}
	if params != nil {
		run.Parameters = mustStruct(params)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs[id] = &fakeRun{run: run, dep: dep}
	return proto.Clone(run).(*orionv1.FlowRun)
}

// run returns a copy of a run.
func (f *fake) run(id string) *orionv1.FlowRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return proto.Clone(f.runs[id].run).(*orionv1.FlowRun)
}

// snapshot returns the events so far.
func (f *fake) snapshot() []event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]event(nil), f.events...)
}

// storeLog stores a line as the server does: a line of a source at or
// below the highest position stored for it is dropped. f.mu is held.
func (f *fake) storeLog(runID string, l *orionv1.Log) {
	if src := l.GetSource(); src != "" {
		key := runID + "\x00" + src
		if l.GetSourcePosition() <= f.marks[key] {
			return
		}
		f.marks[key] = l.GetSourcePosition()
	}
	f.logs[runID] = append(f.logs[runID], l)
}

// logsOf returns a run's stored logs.
func (f *fake) logsOf(id string) []*orionv1.Log {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*orionv1.Log(nil), f.logs[id]...)
}

// await waits until cond holds over the events (checked after each one).
func (f *fake) await(t *testing.T, what string, cond func([]event) bool) []event {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		if evs := f.snapshot(); cond(evs) {
			return evs
		}
		select {
		case <-f.notify:
		case <-timeout:
			t.Fatalf("timed out waiting for %s; events: %v", what, f.snapshot())
		}
	}
}

func (e event) String() string {
	if e.state != 0 {
		return fmt.Sprintf("%s(%s %s)", e.kind, e.runID, e.state)
	}
	return fmt.Sprintf("%s(%s)", e.kind, e.runID)
}

// nextStream waits for the agent to open a work stream.
func (f *fake) nextStream(t *testing.T) *fakeStream {
	t.Helper()
	select {
	case s := <-f.streams:
		return s
	case <-time.After(testTimeout):
		t.Fatal("the agent opened no work stream")
		return nil
	}
}

// offer sends a WorkOffer for a stored run.
func (f *fake) offer(t *testing.T, s *fakeStream, id string) {
	t.Helper()
	s.push(t, &agentv1.StreamWorkResponse{Event: &agentv1.StreamWorkResponse_Offer{Offer: &agentv1.WorkOffer{FlowRun: f.run(id)}}})
}

func (s *fakeStream) push(t *testing.T, m *agentv1.StreamWorkResponse) {
	t.Helper()
	select {
	case s.send <- m:
	case <-time.After(testTimeout):
		t.Fatal("stream not consuming")
	}
}

// fakeAgentService implements the agent protocol.
type fakeAgentService struct {
	agentv1.UnimplementedAgentServiceServer
	f *fake
}

func (s *fakeAgentService) RegisterAgent(_ context.Context, req *agentv1.RegisterAgentRequest) (*agentv1.RegisterAgentResponse, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	id := req.GetAgentId()
	if id == "" {
		f.nextAgent++
		id = fmt.Sprintf("agent-%d", f.nextAgent)
	}
	f.agents[id] = true
	f.record(event{kind: "register", req: req})
	return &agentv1.RegisterAgentResponse{
		AgentId:           id,
		HeartbeatInterval: durationpb.New(f.heartbeatInterval),
		LeaseDuration:     durationpb.New(15 * time.Second),
		ReportLogs:        !f.oldServer,
		BatchCalls:        !f.oldServer && !f.noBatches,
	}, nil
}

// batch serves a batched call with the fake's unary handler, one call
// after another, or UNIMPLEMENTED as an older server would.
func batch[Req, Resp any](f *fake, kind string, reqs []Req, one func(context.Context, Req) (Resp, error)) ([]Resp, []*agentv1.CallError, error) {
	f.mu.Lock()
	gone := f.oldServer || f.noBatches || f.batchesGone
	if !gone {
		f.batchSizes[kind] = append(f.batchSizes[kind], len(reqs))
	}
	f.mu.Unlock()
	if gone {
		return nil, nil, status.Error(codes.Unimplemented, "unknown method")
	}
	resps, errs := make([]Resp, len(reqs)), make([]*agentv1.CallError, len(reqs))
	for i, req := range reqs {
		resp, err := one(context.Background(), req)
		if err != nil {
			st := status.Convert(err)
			errs[i] = &agentv1.CallError{Code: int32(st.Code()), Message: st.Message()}
			continue
		}
		resps[i] = resp
	}
	return resps, errs, nil
}

func (s *fakeAgentService) ClaimFlowRuns(_ context.Context, req *agentv1.ClaimFlowRunsRequest) (*agentv1.ClaimFlowRunsResponse, error) {
	resps, errs, err := batch(s.f, "claims", req.GetClaims(), s.ClaimFlowRun)
	if err != nil {
		return nil, err
	}
	out := &agentv1.ClaimFlowRunsResponse{}
	for i, resp := range resps {
		o := &agentv1.ClaimFlowRunOutcome{Outcome: &agentv1.ClaimFlowRunOutcome_Response{Response: resp}}
		if errs[i] != nil {
			o.Outcome = &agentv1.ClaimFlowRunOutcome_Error{Error: errs[i]}
		}
		out.Outcomes = append(out.Outcomes, o)
	}
	return out, nil
}

func (s *fakeAgentService) ReportFlowRunStates(_ context.Context, req *agentv1.ReportFlowRunStatesRequest) (*agentv1.ReportFlowRunStatesResponse, error) {
	resps, errs, err := batch(s.f, "reports", req.GetReports(), s.ReportFlowRunState)
	if err != nil {
		return nil, err
	}
	out := &agentv1.ReportFlowRunStatesResponse{}
	for i, resp := range resps {
		o := &agentv1.ReportFlowRunStateOutcome{Outcome: &agentv1.ReportFlowRunStateOutcome_Response{Response: resp}}
		if errs[i] != nil {
			o.Outcome = &agentv1.ReportFlowRunStateOutcome_Error{Error: errs[i]}
		}
		out.Outcomes = append(out.Outcomes, o)
	}
	return out, nil
}

// forgetAgents makes the fake lose every registration (a server restart).
func (f *fake) forgetAgents() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.agents = make(map[string]bool)
}

func (s *fakeAgentService) StreamWork(req *agentv1.StreamWorkRequest, stream grpc.ServerStreamingServer[agentv1.StreamWorkResponse]) error {
	f := s.f
	f.mu.Lock()
	known := f.agents[req.GetAgentId()]
	f.mu.Unlock()
	if !known {
		return status.Error(codes.NotFound, "agent not registered")
	}
	fs := &fakeStream{agentID: req.GetAgentId(), send: make(chan *agentv1.StreamWorkResponse), kill: make(chan error, 1)}
	f.streams <- fs
	for {
		select {
		case m := <-fs.send:
			if err := stream.Send(m); err != nil {
				return err
			}
		case err := <-fs.kill:
			return err
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (s *fakeAgentService) ClaimFlowRun(_ context.Context, req *agentv1.ClaimFlowRunRequest) (*agentv1.ClaimFlowRunResponse, error) {
	f := s.f
	f.mu.Lock()
	f.record(event{kind: "claim", runID: req.GetFlowRunId(), req: req})
	hook := f.onClaim
	f.mu.Unlock()
	if hook != nil {
		if resp, err := hook(req); resp != nil || err != nil {
			return resp, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[req.GetFlowRunId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "run not found")
	}
	if r.run.GetState().GetType() != orionv1.StateType_STATE_TYPE_SCHEDULED {
		return &agentv1.ClaimFlowRunResponse{Result: &orionv1.OrchestrationResult{
			Status: orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ABORT, Reason: "already claimed"}}, nil
	}
	r.run.LeaseEpoch++
	r.run.AgentId = req.GetAgentId()
	r.run.State = &orionv1.State{Type: orionv1.StateType_STATE_TYPE_PENDING}
	return &agentv1.ClaimFlowRunResponse{
		Result:     &orionv1.OrchestrationResult{Status: orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT, State: r.run.State},
		Lease:      &agentv1.Lease{Epoch: r.run.LeaseEpoch, ExpireTime: timestamppb.New(time.Now().Add(15 * time.Second))},
		FlowRun:    proto.Clone(r.run).(*orionv1.FlowRun),
		Deployment: proto.Clone(r.dep).(*orionv1.Deployment),
	}, nil
}

func (s *fakeAgentService) ReportFlowRunState(_ context.Context, req *agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error) {
	f := s.f
	f.mu.Lock()
	f.record(event{kind: "report", runID: req.GetFlowRunId(), state: req.GetState().GetType(), req: req})
	hook := f.onReport
	f.mu.Unlock()
	if err := validate.State("state", req.GetState()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error()) // as the server refuses it
	}
	if hook != nil {
		if resp, err := hook(req); resp != nil || err != nil {
			return resp, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[req.GetFlowRunId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "run not found")
	}
	if r.run.GetLeaseEpoch() != req.GetLeaseEpoch() {
		return nil, status.Error(codes.Aborted, "stale lease epoch")
	}
	if !f.oldServer {
		for _, l := range req.GetLogs() {
			f.storeLog(r.run.GetId(), l)
		}
	}
	res := f.apply(r, req.GetState())
	resp := &agentv1.ReportFlowRunStateResponse{Result: res, FlowRun: proto.Clone(r.run).(*orionv1.FlowRun)}
	if req.GetOmitFlowRun() {
		resp.FlowRun = nil
	}
	return resp, nil
}

// apply is the fake's orchestration: terminal runs and CANCELLING runs
// moving anywhere but to a terminal state ABORT; everything else is written.
func (f *fake) apply(r *fakeRun, p *orionv1.StateProposal) *orionv1.OrchestrationResult {
	cur := r.run.GetState().GetType()
	abort := func(reason string) *orionv1.OrchestrationResult {
		return &orionv1.OrchestrationResult{Status: orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ABORT, State: r.run.State, Reason: reason}
	}
	if terminal(cur) {
		return abort("already terminal")
	}
	if cur == orionv1.StateType_STATE_TYPE_CANCELLING && !terminal(p.GetType()) {
		return abort("being cancelled")
	}
	r.run.State = &orionv1.State{Type: p.GetType(), Message: p.GetMessage(), ExitCode: p.ExitCode}
	return &orionv1.OrchestrationResult{Status: orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT, State: r.run.State}
}

func terminal(t orionv1.StateType) bool {
	switch t {
	case orionv1.StateType_STATE_TYPE_COMPLETED, orionv1.StateType_STATE_TYPE_FAILED,
		orionv1.StateType_STATE_TYPE_CANCELLED, orionv1.StateType_STATE_TYPE_CRASHED:
		return true
	}
	return false
}

func (s *fakeAgentService) Heartbeat(_ context.Context, req *agentv1.HeartbeatRequest) (*agentv1.HeartbeatResponse, error) {
	f := s.f
	f.mu.Lock()
	known := f.agents[req.GetAgentId()]
	f.record(event{kind: "heartbeat", req: req})
	hook := f.onHeartbeat
	f.mu.Unlock()
	if !known {
		return nil, status.Error(codes.NotFound, "agent not registered")
	}
	if hook != nil {
		if resp := hook(req); resp != nil {
			return resp, nil
		}
	}
	return &agentv1.HeartbeatResponse{}, nil
}

// Errors a test makes the fake's work stream end with.
var (
	errUnavailable = status.Error(codes.Unavailable, "server going away")
	errNotFound    = status.Error(codes.NotFound, "agent not registered")
)

func durationpbMillis(ms int) *durationpb.Duration {
	return durationpb.New(time.Duration(ms) * time.Millisecond)
}

// setRun edits a stored run.
func (f *fake) setRun(id string, edit func(*orionv1.FlowRun)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	edit(f.runs[id].run)
}
