package rpc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orion-run/orion/client"
	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
)

// getJSON fetches an HTTP API path and decodes its JSON body.
func getJSON(t *testing.T, base, path string, out any) int {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, b)
		}
	}
	return resp.StatusCode
}

// TestDashboardAPI_DeploymentRunSummaries checks recent runs (newest first,
// future SCHEDULED runs left out, late ones kept) and the next run.
func TestDashboardAPI_DeploymentRunSummaries(t *testing.T) {
	srv, c, ctx := setup(t)
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	depID := dep.GetDeployment().GetId()
	force := func(run *orionv1.FlowRun, st orionv1.StateType) {
		t.Helper()
		_, err := c.FlowRuns.SetFlowRunState(ctx, &orionv1.SetFlowRunStateRequest{FlowRunId: run.GetId(), State: &orionv1.StateProposal{Type: st}, Force: true})
		if err != nil {
			t.Fatal(err)
		}
	}
	r1 := mustCreateRun(t, ctx, c, depID)
	force(r1, orchestration.Completed)
	r2 := mustCreateRun(t, ctx, c, depID)
	force(r2, orchestration.Failed)
	later := time.Now().Add(time.Hour)
	for _, at := range []time.Time{later.Add(time.Hour), later} {
		if _, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: depID, ScheduledTime: timestamppb.New(at)}); err != nil {
			t.Fatal(err)
		}
	}
	r4 := mustCreateRun(t, ctx, c, depID) // due now: recent, not upcoming

	resp, err := c.Deployments.ListDeploymentRunSummaries(ctx, &orionv1.ListDeploymentRunSummariesRequest{DeploymentIds: []string{depID, "unknown"}, RecentRuns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetSummaries()); n != 2 {
		t.Fatalf("%d summaries, want 2", n)
	}
	s := resp.GetSummaries()[0]
	if got := s.GetRecentRuns(); len(got) != 2 || got[0].GetId() != r4.GetId() || got[1].GetId() != r2.GetId() || got[1].GetStateType() != orchestration.Failed {
		t.Fatalf("recent runs = %v, want [%s scheduled, %s failed]", got, r4.GetId(), r2.GetId())
	}
	if s.GetUpcomingRuns() != 2 || s.GetNextRun().GetNextScheduledStartTime().AsTime().Sub(later).Abs() > time.Millisecond {
		t.Fatalf("upcoming %d, next %v, want 2 and %v", s.GetUpcomingRuns(), s.GetNextRun(), later)
	}
	if u := resp.GetSummaries()[1]; u.GetDeploymentId() != "unknown" || len(u.GetRecentRuns()) != 0 || u.GetNextRun() != nil {
		t.Fatalf("unknown deployment summary = %v", u)
	}

	for _, bad := range []*orionv1.ListDeploymentRunSummariesRequest{{}, {DeploymentIds: []string{depID}, RecentRuns: 51}, {DeploymentIds: []string{""}}} {
		if _, err := c.Deployments.ListDeploymentRunSummaries(ctx, bad); client.Code(err) != codes.InvalidArgument {
			t.Fatalf("%v: %v, want InvalidArgument", bad, err)
		}
	}

	var doc struct {
		Summaries []struct {
			RecentRuns []struct {
				StateType string `json:"state_type"`
			} `json:"recent_runs"`
			UpcomingRuns int `json:"upcoming_runs"`
		} `json:"summaries"`
	}
	if code := getJSON(t, srv.URL(), "/api/v1/deployment_run_summaries?recent_runs=3&deployment_ids="+depID, &doc); code != 200 {
		t.Fatalf("HTTP summaries: %d", code)
	}
	if len(doc.Summaries) != 1 || len(doc.Summaries[0].RecentRuns) != 3 || doc.Summaries[0].RecentRuns[2].StateType != "STATE_TYPE_COMPLETED" || doc.Summaries[0].UpcomingRuns != 2 {
		t.Fatalf("HTTP summaries = %+v", doc)
	}
}

// TestDashboardAPI_FlowRunHistory counts runs per interval by state.
func TestDashboardAPI_FlowRunHistory(t *testing.T) {
	srv, c, ctx := setup(t)
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	var runs []*orionv1.FlowRun
	for range 3 {
		runs = append(runs, mustCreateRun(t, ctx, c, dep.GetDeployment().GetId()))
	}
	if _, err := c.FlowRuns.CancelFlowRun(ctx, &orionv1.CancelFlowRunRequest{Id: runs[0].GetId()}); err != nil {
		t.Fatal(err)
	}
	req := &orionv1.GetFlowRunHistoryRequest{
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(150 * time.Second)), Interval: durationpb.New(time.Minute),
	}
	resp, err := c.FlowRuns.GetFlowRunHistory(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ivs := resp.GetIntervals()
	if len(ivs) != 3 || !ivs[2].GetEndTime().AsTime().Equal(start.Add(150*time.Second)) {
		t.Fatalf("intervals = %v, want 3 ending at the window's end", ivs)
	}
	counts := map[orionv1.StateType]int32{}
	for _, iv := range ivs {
		for _, c := range iv.GetCounts() {
			counts[c.GetStateType()] += c.GetCount()
		}
	}
	if counts[orchestration.Scheduled] != 2 || counts[orchestration.Cancelled] != 1 || len(counts) != 2 {
		t.Fatalf("counts = %v, want 2 scheduled and 1 cancelled", counts)
	}

	req.StateTypes = []orionv1.StateType{orchestration.Cancelled}
	req.DeploymentId = dep.GetDeployment().GetId()
	resp, err = c.FlowRuns.GetFlowRunHistory(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var total int32
	for _, iv := range resp.GetIntervals() {
		for _, c := range iv.GetCounts() {
			total += c.GetCount()
		}
	}
	if total != 1 {
		t.Fatalf("filtered history counted %d runs, want 1", total)
	}

	for _, bad := range []*orionv1.GetFlowRunHistoryRequest{
		{},
		{StartTime: req.EndTime, EndTime: req.StartTime, Interval: req.Interval},
		{StartTime: req.StartTime, EndTime: req.EndTime},
		{StartTime: req.StartTime, EndTime: req.EndTime, Interval: durationpb.New(time.Millisecond)},
	} {
		if _, err := c.FlowRuns.GetFlowRunHistory(ctx, bad); client.Code(err) != codes.InvalidArgument {
			t.Fatalf("%v: %v, want InvalidArgument", bad, err)
		}
	}

	var doc struct {
		Intervals []struct {
			Counts []struct {
				StateType string `json:"state_type"`
				Count     int    `json:"count"`
			} `json:"counts"`
		} `json:"intervals"`
	}
	q := url.Values{"start_time": {start.Format(time.RFC3339)}, "end_time": {start.Add(2 * time.Minute).Format(time.RFC3339)}, "interval": {"60s"}, "state_types": {"STATE_TYPE_SCHEDULED"}}
	if code := getJSON(t, srv.URL(), "/api/v1/flow_run_history?"+q.Encode(), &doc); code != 200 {
		t.Fatalf("HTTP history: %d", code)
	}
	var n int
	for _, iv := range doc.Intervals {
		for _, c := range iv.Counts {
			if c.StateType != "STATE_TYPE_SCHEDULED" {
				t.Fatalf("HTTP history counted %s", c.StateType)
			}
			n += c.Count
		}
	}
	if len(doc.Intervals) != 2 || n != 2 {
		t.Fatalf("HTTP history = %+v", doc)
	}
}

// TestDashboardAPI_WorkQueueStats counts due, late and held runs per queue.
func TestDashboardAPI_WorkQueueStats(t *testing.T) {
	srv, c, ctx := setup(t)
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WorkQueues.CreateWorkQueue(ctx, &orionv1.CreateWorkQueueRequest{WorkQueue: &orionv1.WorkQueue{Name: "idle"}}); err != nil {
		t.Fatal(err)
	}
	depID := dep.GetDeployment().GetId()
	claimed := mustCreateRun(t, ctx, c, depID)
	mustCreateRun(t, ctx, c, depID)
	if _, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: depID, ScheduledTime: timestamppb.New(time.Now().Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	agent := register(t, ctx, c, "a1")
	if _, err := c.Agent.ClaimFlowRun(ctx, &agentv1.ClaimFlowRunRequest{AgentId: agent, FlowRunId: claimed.GetId()}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.WorkQueues.ListWorkQueueStats(ctx, &orionv1.ListWorkQueueStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetStats()); n != 2 {
		t.Fatalf("%d stats, want 2 (default, idle): %v", n, resp.GetStats())
	}
	def, idle := resp.GetStats()[0], resp.GetStats()[1]
	if def.GetWorkQueueName() != "default" || def.GetPendingRuns() != 1 || def.GetRunsInFlight() != 1 || def.GetLateRuns() != 0 {
		t.Fatalf("default = %v, want 1 pending and 1 in flight", def)
	}
	if idle.GetWorkQueueName() != "idle" || idle.GetPendingRuns() != 0 || idle.GetRunsInFlight() != 0 || idle.GetWorkQueueId() == "" {
		t.Fatalf("idle = %v", idle)
	}
	var doc struct {
		Stats []struct {
			Name    string `json:"work_queue_name"`
			Pending int    `json:"pending_runs"`
		} `json:"stats"`
	}
	if code := getJSON(t, srv.URL(), "/api/v1/work_queue_stats", &doc); code != 200 || len(doc.Stats) != 2 || doc.Stats[0].Pending != 1 {
		t.Fatalf("HTTP stats: %d %+v", code, doc)
	}
}

// TestDashboardAPI_ListFlowRunsBlockingQuery checks wait_index: the call
// waits for the next change, then lists it.
func TestDashboardAPI_ListFlowRunsBlockingQuery(t *testing.T) {
	_, c, ctx := setup(t)
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: commandDeployment("d")})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.FlowRuns.ListFlowRuns(ctx, &orionv1.ListFlowRunsRequest{})
	if err != nil || first.GetIndex() == 0 || len(first.GetFlowRuns()) != 0 {
		t.Fatalf("first list: %v %v", first, err)
	}

	// Nothing changes: the call blocks until its deadline.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := c.FlowRuns.ListFlowRuns(short, &orionv1.ListFlowRunsRequest{WaitIndex: first.GetIndex()}); client.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("blocking list without a change: %v, want DeadlineExceeded", err)
	}

	type result struct {
		resp *orionv1.ListFlowRunsResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := c.FlowRuns.ListFlowRuns(ctx, &orionv1.ListFlowRunsRequest{WaitIndex: first.GetIndex()})
		done <- result{resp, err}
	}()
	run := mustCreateRun(t, ctx, c, dep.GetDeployment().GetId())
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.resp.GetFlowRuns()) != 1 || r.resp.GetFlowRuns()[0].GetId() != run.GetId() || r.resp.GetIndex() <= first.GetIndex() {
		t.Fatalf("blocking list after a change = %v", r.resp)
	}
}
