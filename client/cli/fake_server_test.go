package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// fakeOrion is a scripted, in-memory test double of the orion.v1 services
// the CLI calls. It stores what it is given, records requests, and lets a
// test script the streaming calls and inject errors. It implements no
// orchestration: tests set states themselves. The real server is tested
// end to end elsewhere.
type fakeOrion struct {
	orionv1.UnimplementedDeploymentServiceServer
	orionv1.UnimplementedFlowServiceServer
	orionv1.UnimplementedFlowRunServiceServer
	orionv1.UnimplementedLogServiceServer

	mu          sync.Mutex
	nextID      int
	deployments []*orionv1.Deployment
	sources     map[string]*orionv1.PutFlowSourceRequest // by digest
	runs        []*orionv1.FlowRun                       // oldest first
	states      map[string][]*orionv1.State              // by run id
	logs        map[string][]*orionv1.Log                // by run id

	// Recorded requests.
	createReqs    []*orionv1.CreateDeploymentRequest
	runReqs       []*orionv1.CreateDeploymentFlowRunRequest
	listRunReqs   []*orionv1.ListFlowRunsRequest
	deleted       []string
	watchAttempts int
	followCalls   []*orionv1.FollowLogsRequest

	// Scripted behaviour.
	pageSize   int              // > 0: list calls return pages of this size
	createErrs map[string]error // CreateDeployment fails for these deployment names
	// watch scripts WatchFlowRun; attempt counts from 1.
	watch func(attempt int, req *orionv1.WatchFlowRunRequest, send func(*orionv1.FlowRun) error) error
	// follow scripts FollowLogs; call counts from 1.
	follow func(call int, req *orionv1.FollowLogsRequest, send func(*orionv1.Log) error) error
	// cancelTo is the state type CancelFlowRun moves a run to (default CANCELLED).
	cancelTo orionv1.StateType
}

func newFakeOrion() *fakeOrion {
	return &fakeOrion{
		sources:    map[string]*orionv1.PutFlowSourceRequest{},
		states:     map[string][]*orionv1.State{},
		logs:       map[string][]*orionv1.Log{},
		createErrs: map[string]error{},
	}
}

// start serves f on 127.0.0.1:0 until the test ends and returns its URL.
func (f *fakeOrion) start(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	orionv1.RegisterDeploymentServiceServer(srv, f)
	orionv1.RegisterFlowServiceServer(srv, f)
	orionv1.RegisterFlowRunServiceServer(srv, f)
	orionv1.RegisterLogServiceServer(srv, f)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return "http://" + lis.Addr().String()
}

// fakeTime is the base of every timestamp the double hands out.
var fakeTime = time.Date(2024, 5, 1, 18, 1, 2, 0, time.UTC)

func ts(offset time.Duration) *timestamppb.Timestamp { return timestamppb.New(fakeTime.Add(offset)) }

// newIDLocked returns a deterministic UUID. Caller holds f.mu.
func (f *fakeOrion) newIDLocked() string {
	f.nextID++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", f.nextID)
}

// addDeployment stores a deployment as if it had been created.
func (f *fakeOrion) addDeployment(d *orionv1.Deployment) *orionv1.Deployment {
	f.mu.Lock()
	defer f.mu.Unlock()
	d = proto.Clone(d).(*orionv1.Deployment)
	if d.Id == "" {
		d.Id = f.newIDLocked()
	}
	f.deployments = append(f.deployments, d)
	return d
}

// addRun stores a run with the given state history (its current state is
// the last one).
func (f *fakeOrion) addRun(r *orionv1.FlowRun, history ...*orionv1.State) *orionv1.FlowRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	r = proto.Clone(r).(*orionv1.FlowRun)
	if r.Id == "" {
		r.Id = f.newIDLocked()
	}
	f.runs = append(f.runs, r)
	for _, s := range history {
		f.appendStateLocked(r.Id, s)
	}
	return r
}

// setState appends a state to a run's history and makes it current.
func (f *fakeOrion) setState(runID string, s *orionv1.State) *orionv1.FlowRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.appendStateLocked(runID, s)
}

func (f *fakeOrion) appendStateLocked(runID string, s *orionv1.State) *orionv1.FlowRun {
	s = proto.Clone(s).(*orionv1.State)
	if s.Id == "" {
		s.Id = f.newIDLocked()
	}
	f.states[runID] = append(f.states[runID], s)
	r := f.runLocked(runID)
	if r != nil {
		r.State = s
	}
	return proto.Clone(r).(*orionv1.FlowRun)
}

func (f *fakeOrion) runLocked(id string) *orionv1.FlowRun {
	for _, r := range f.runs {
		if r.Id == id {
			return r
		}
	}
	return nil
}

// run returns a copy of a stored run.
func (f *fakeOrion) run(id string) *orionv1.FlowRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return proto.Clone(f.runLocked(id)).(*orionv1.FlowRun)
}

// st builds a state at fakeTime+offset.
func st(t orionv1.StateType, name, msg string, offset time.Duration) *orionv1.State {
	return &orionv1.State{Type: t, Name: name, Message: msg, Timestamp: ts(offset)}
}

// page cuts items at token (an offset) and returns the next token.
func page[T any](items []T, token string, size int) ([]T, string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", status.Error(codes.InvalidArgument, "bad page token")
		}
		start = n
	}
	end := len(items)
	if size > 0 && start+size < end {
		end = start + size
	}
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

// --- FlowService ---

func (f *fakeOrion) PutFlowSource(_ context.Context, req *orionv1.PutFlowSourceRequest) (*orionv1.PutFlowSourceResponse, error) {
	if req.Text == "" {
		return nil, status.Error(codes.InvalidArgument, "empty flow source")
	}
	sum := sha256.Sum256([]byte(req.Text))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	f.mu.Lock()
	f.sources[digest] = req
	f.mu.Unlock()
	return &orionv1.PutFlowSourceResponse{Digest: digest}, nil
}

// --- DeploymentService ---

func (f *fakeOrion) CreateDeployment(_ context.Context, req *orionv1.CreateDeploymentRequest) (*orionv1.CreateDeploymentResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.createReqs = append(f.createReqs, req)
	d := proto.Clone(req.Deployment).(*orionv1.Deployment)
	if err := f.createErrs[d.Name]; err != nil {
		return nil, err
	}
	if d.FlowSourceDigest != "" && f.sources[d.FlowSourceDigest] == nil {
		return nil, status.Errorf(codes.NotFound, "flow source %s not stored", d.FlowSourceDigest)
	}
	for i, old := range f.deployments {
		if old.FlowName == d.FlowName && old.Name == d.Name {
			d.Id = old.Id
			f.deployments[i] = d
			return &orionv1.CreateDeploymentResponse{Deployment: d, Created: false}, nil
		}
	}
	d.Id = f.newIDLocked()
	f.deployments = append(f.deployments, d)
	return &orionv1.CreateDeploymentResponse{Deployment: d, Created: true}, nil
}

func (f *fakeOrion) GetDeployment(_ context.Context, req *orionv1.GetDeploymentRequest) (*orionv1.GetDeploymentResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.deployments {
		if d.Id == req.Id {
			return &orionv1.GetDeploymentResponse{Deployment: d}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "deployment %s not found", req.Id)
}

func (f *fakeOrion) GetDeploymentByName(_ context.Context, req *orionv1.GetDeploymentByNameRequest) (*orionv1.GetDeploymentByNameResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.deployments {
		if d.FlowName == req.FlowName && d.Name == req.DeploymentName {
			return &orionv1.GetDeploymentByNameResponse{Deployment: d}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "deployment %s/%s not found", req.FlowName, req.DeploymentName)
}

// ListDeployments returns deployments in insertion order (not sorted, so
// tests can check the CLI sorts).
func (f *fakeOrion) ListDeployments(_ context.Context, req *orionv1.ListDeploymentsRequest) (*orionv1.ListDeploymentsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var match []*orionv1.Deployment
	for _, d := range f.deployments {
		if req.FlowName == "" || d.FlowName == req.FlowName {
			match = append(match, d)
		}
	}
	items, next, err := page(match, req.PageToken, f.pageSize)
	if err != nil {
		return nil, err
	}
	return &orionv1.ListDeploymentsResponse{Deployments: items, NextPageToken: next}, nil
}

func (f *fakeOrion) DeleteDeployment(_ context.Context, req *orionv1.DeleteDeploymentRequest) (*orionv1.DeleteDeploymentResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, d := range f.deployments {
		if d.Id == req.Id {
			f.deployments = append(f.deployments[:i], f.deployments[i+1:]...)
			f.deleted = append(f.deleted, req.Id)
			return &orionv1.DeleteDeploymentResponse{}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "deployment %s not found", req.Id)
}

func (f *fakeOrion) CreateDeploymentFlowRun(_ context.Context, req *orionv1.CreateDeploymentFlowRunRequest) (*orionv1.CreateDeploymentFlowRunResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runReqs = append(f.runReqs, req)
	var dep *orionv1.Deployment
	for _, d := range f.deployments {
		if d.Id == req.DeploymentId {
			dep = d
		}
	}
	if dep == nil {
		return nil, status.Errorf(codes.NotFound, "deployment %s not found", req.DeploymentId)
	}
	if _, bad := req.GetParameters().GetFields()["unknown"]; bad {
		return nil, status.Error(codes.InvalidArgument, "unknown parameter 'unknown'")
	}
	run := &orionv1.FlowRun{
		Id:             f.newIDLocked(),
		Name:           "messy-petrel",
		FlowName:       dep.FlowName,
		DeploymentId:   dep.Id,
		DeploymentName: dep.Name,
		WorkQueueName:  dep.WorkQueueName,
		Parameters:     req.Parameters,
		Tags:           append(append([]string{}, dep.Tags...), req.Tags...),
	}
	f.runs = append(f.runs, run)
	first := &orionv1.State{Type: orionv1.StateType_STATE_TYPE_SCHEDULED, Timestamp: ts(0), ScheduledTime: req.ScheduledTime}
	if req.State != nil {
		first = &orionv1.State{Type: req.State.Type, Name: req.State.Name, Message: req.State.Message, Timestamp: ts(0)}
	}
	f.appendStateLocked(run.Id, first)
	return &orionv1.CreateDeploymentFlowRunResponse{FlowRun: proto.Clone(run).(*orionv1.FlowRun), Created: true}, nil
}

// --- FlowRunService ---

func (f *fakeOrion) GetFlowRun(_ context.Context, req *orionv1.GetFlowRunRequest) (*orionv1.GetFlowRunResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.runLocked(req.Id); r != nil {
		return &orionv1.GetFlowRunResponse{FlowRun: proto.Clone(r).(*orionv1.FlowRun)}, nil
	}
	return nil, status.Errorf(codes.NotFound, "flow run %s not found", req.Id)
}

// ListFlowRuns filters like the server and returns newest first (the
// reverse of insertion order).
func (f *fakeOrion) ListFlowRuns(_ context.Context, req *orionv1.ListFlowRunsRequest) (*orionv1.ListFlowRunsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listRunReqs = append(f.listRunReqs, proto.Clone(req).(*orionv1.ListFlowRunsRequest))
	var match []*orionv1.FlowRun
	for i := len(f.runs) - 1; i >= 0; i-- {
		r := f.runs[i]
		if req.FlowName != "" && r.FlowName != req.FlowName {
			continue
		}
		if req.DeploymentId != "" && r.DeploymentId != req.DeploymentId {
			continue
		}
		if len(req.StateTypes) > 0 {
			ok := false
			for _, t := range req.StateTypes {
				ok = ok || r.GetState().GetType() == t
			}
			if !ok {
				continue
			}
		}
		match = append(match, proto.Clone(r).(*orionv1.FlowRun))
	}
	size := f.pageSize
	if req.PageSize > 0 && (size == 0 || int(req.PageSize) < size) {
		size = int(req.PageSize)
	}
	items, next, err := page(match, req.PageToken, size)
	if err != nil {
		return nil, err
	}
	return &orionv1.ListFlowRunsResponse{FlowRuns: items, NextPageToken: next}, nil
}

func (f *fakeOrion) ListFlowRunStates(_ context.Context, req *orionv1.ListFlowRunStatesRequest) (*orionv1.ListFlowRunStatesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.runLocked(req.FlowRunId) == nil {
		return nil, status.Errorf(codes.NotFound, "flow run %s not found", req.FlowRunId)
	}
	return &orionv1.ListFlowRunStatesResponse{States: f.states[req.FlowRunId]}, nil
}

func (f *fakeOrion) CancelFlowRun(_ context.Context, req *orionv1.CancelFlowRunRequest) (*orionv1.CancelFlowRunResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.runLocked(req.Id)
	if r == nil {
		return nil, status.Errorf(codes.NotFound, "flow run %s not found", req.Id)
	}
	if isTerminal(r.State) {
		return nil, status.Errorf(codes.FailedPrecondition, "flow run %s already finished in state %s", req.Id, stateName(r.State))
	}
	to := f.cancelTo
	if to == orionv1.StateType_STATE_TYPE_UNSPECIFIED {
		to = orionv1.StateType_STATE_TYPE_CANCELLED
	}
	return &orionv1.CancelFlowRunResponse{FlowRun: f.appendStateLocked(r.Id, st(to, "", req.Message, time.Minute))}, nil
}

func (f *fakeOrion) WatchFlowRun(req *orionv1.WatchFlowRunRequest, stream orionv1.FlowRunService_WatchFlowRunServer) error {
	f.mu.Lock()
	f.watchAttempts++
	attempt := f.watchAttempts
	script := f.watch
	exists := f.runLocked(req.Id) != nil
	f.mu.Unlock()
	if !exists {
		return status.Errorf(codes.NotFound, "flow run %s not found", req.Id)
	}
	if script == nil {
		return stream.Send(&orionv1.WatchFlowRunResponse{FlowRun: f.run(req.Id)})
	}
	return script(attempt, req, func(r *orionv1.FlowRun) error {
		return stream.Send(&orionv1.WatchFlowRunResponse{FlowRun: r})
	})
}

// --- LogService ---

// addLogs appends log lines to a run, assigning seq numbers.
func (f *fakeOrion) addLogs(runID string, logs ...*orionv1.Log) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range logs {
		l = proto.Clone(l).(*orionv1.Log)
		l.FlowRunId = runID
		l.Seq = uint64(len(f.logs[runID]) + 1)
		f.logs[runID] = append(f.logs[runID], l)
	}
}

func (f *fakeOrion) ListLogs(_ context.Context, req *orionv1.ListLogsRequest) (*orionv1.ListLogsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.runLocked(req.FlowRunId) == nil {
		return nil, status.Errorf(codes.NotFound, "flow run %s not found", req.FlowRunId)
	}
	all := f.logs[req.FlowRunId]
	i := sort.Search(len(all), func(i int) bool { return all[i].Seq > req.AfterSeq })
	items := all[i:]
	resp := &orionv1.ListLogsResponse{}
	if f.pageSize > 0 && len(items) > f.pageSize {
		items = items[:f.pageSize]
		resp.NextAfterSeq = items[len(items)-1].Seq
	}
	resp.Logs = items
	return resp, nil
}

func (f *fakeOrion) FollowLogs(req *orionv1.FollowLogsRequest, stream orionv1.LogService_FollowLogsServer) error {
	f.mu.Lock()
	f.followCalls = append(f.followCalls, proto.Clone(req).(*orionv1.FollowLogsRequest))
	call := len(f.followCalls)
	script := f.follow
	exists := f.runLocked(req.FlowRunId) != nil
	f.mu.Unlock()
	if !exists {
		return status.Errorf(codes.NotFound, "flow run %s not found", req.FlowRunId)
	}
	send := func(l *orionv1.Log) error { return stream.Send(&orionv1.FollowLogsResponse{Log: l}) }
	if script != nil {
		return script(call, req, send)
	}
	resp, err := f.ListLogs(stream.Context(), &orionv1.ListLogsRequest{FlowRunId: req.FlowRunId, AfterSeq: req.AfterSeq})
	if err != nil {
		return err
	}
	for _, l := range resp.Logs {
		if err := send(l); err != nil {
			return err
		}
	}
	return nil
}
