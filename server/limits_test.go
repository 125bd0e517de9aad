package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/config"
	"github.com/orion-run/orion/server/servertest"
	"github.com/orion-run/orion/server/validate"
)

// TestBadInput_OneLineErrorNamingTheField sends requests that break each
// limit over HTTP/JSON: each is a 400 whose message names the field, and
// nothing is stored.
func TestBadInput_OneLineErrorNamingTheField(t *testing.T) {
	srv := servertest.New(t)
	hc := &http.Client{Timeout: 10 * time.Second}
	deep := strings.Repeat(`{"a":`, validate.MaxDocumentDepth+1) + "1" + strings.Repeat("}", validate.MaxDocumentDepth+1)
	manyTags := `["t0"` + strings.Repeat(`,"t"`, validate.MaxTags) + `]`
	dep := func(fields string) string {
		return `{"name":"d","flow_name":"f","flow_kind":"FLOW_KIND_COMMAND","command":["true"]` + fields + `}`
	}
	for _, tc := range []struct {
		name, path, body, field string
	}{
		{"slash in a deployment name", "/api/v1/deployments", `{"name":"a/b","flow_name":"f","flow_kind":"FLOW_KIND_COMMAND","command":["true"]}`, "deployment.name"},
		{"long flow name", "/api/v1/deployments", `{"name":"d","flow_name":"` + strings.Repeat("x", validate.MaxNameLength+1) + `","flow_kind":"FLOW_KIND_COMMAND","command":["true"]}`, "deployment.flow_name"},
		{"too many tags", "/api/v1/deployments", dep(`,"tags":` + manyTags), "deployment.tags"},
		{"empty tag", "/api/v1/deployments", dep(`,"tags":["ok",""]`), "deployment.tags[1]"},
		{"deep parameters", "/api/v1/deployments", dep(`,"parameters":` + deep), "deployment.parameters"},
		{"bad env name", "/api/v1/deployments", dep(`,"infrastructure":{"env":{"1BAD":"x"}}`), "deployment.infrastructure.env"},
		{"huge description", "/api/v1/deployments", dep(`,"description":"` + strings.Repeat("d", validate.MaxDescription+1) + `"`), "deployment.description"},
		{"run without flow", "/api/v1/flow_runs", `{"parameters":{}}`, "flow_name"},
		{"run with deep parameters", "/api/v1/flow_runs", `{"flow_name":"f","parameters":` + deep + `}`, "parameters"},
		{"run with a long idempotency key", "/api/v1/flow_runs", `{"flow_name":"f","idempotency_key":"` + strings.Repeat("k", validate.MaxIdempotencyKey+1) + `"}`, "idempotency_key"},
		{"queue with a bad name", "/api/v1/work_queues", `{"name":"q>1"}`, "work_queue.name"},
		{"log without timestamp", "/api/v1/logs", `{"logs":[{"flow_run_id":"x","message":"m"}]}`, "logs[0].timestamp"},
		{"log source without position", "/api/v1/logs", `{"logs":[{"flow_run_id":"x","message":"m","timestamp":"2026-01-01T00:00:00Z","source":"1/stdout"}]}`, "logs[0].source_position"},
		{"long log source", "/api/v1/logs", `{"logs":[{"flow_run_id":"x","message":"m","timestamp":"2026-01-01T00:00:00Z","source":"` + strings.Repeat("s", validate.MaxLogSource+1) + `","source_position":"1"}]}`, "logs[0].source"},
		{"malformed JSON", "/api/v1/deployments", `{"name":`, ""},
		{"unknown field", "/api/v1/deployments", `{"nme":"x"}`, "nme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := httpDo(t, hc, "POST", srv.URL()+tc.path, "", tc.body)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.field) || strings.Count(body, "\n") > 1 {
				t.Fatalf("%s: %d %s; want 400 naming %q", tc.path, code, body, tc.field)
			}
		})
	}
	c := dial(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	deps, err := c.Deployments.ListDeployments(ctx, &orionv1.ListDeploymentsRequest{})
	if err != nil || len(deps.GetDeployments()) != 0 {
		t.Fatalf("bad requests stored deployments: %v %v", deps, err)
	}
	runs, err := c.FlowRuns.ListFlowRuns(ctx, &orionv1.ListFlowRunsRequest{})
	if err != nil || len(runs.GetFlowRuns()) != 0 {
		t.Fatalf("bad requests stored runs: %v %v", runs, err)
	}
}

// TestCreateLogs_ResentLinesStoredOnce: lines sent again with the same
// source and position (an agent resuming after a restart) are stored
// once and not counted; the same position under another source is new.
func TestCreateLogs_ResentLinesStoredOnce(t *testing.T) {
	srv := servertest.New(t)
	c := dial(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.FlowRuns.CreateFlowRun(ctx, &orionv1.CreateFlowRunRequest{FlowName: "resent"})
	if err != nil {
		t.Fatal(err)
	}
	id := run.GetFlowRun().GetId()
	line := func(msg, src string, pos uint64) *orionv1.Log {
		return &orionv1.Log{FlowRunId: id, Message: msg, Timestamp: timestamppb.Now(), Source: src, SourcePosition: pos}
	}
	for _, tc := range []struct {
		logs []*orionv1.Log
		want int32
	}{
		{[]*orionv1.Log{line("one", "1/stdout", 4), line("two", "1/stdout", 8)}, 2},
		{[]*orionv1.Log{line("two", "1/stdout", 8), line("three", "1/stdout", 14), line("agent note", "", 0)}, 2},
		{[]*orionv1.Log{line("one", "2/stdout", 4)}, 1},
	} {
		resp, err := c.Logs.CreateLogs(ctx, &orionv1.CreateLogsRequest{Logs: tc.logs})
		if err != nil || resp.GetCount() != tc.want {
			t.Fatalf("CreateLogs: %v %v, want count %d", resp, err, tc.want)
		}
	}
	stored, err := c.Logs.ListLogs(ctx, &orionv1.ListLogsRequest{FlowRunId: id})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range stored.GetLogs() {
		msgs = append(msgs, l.GetMessage())
	}
	if got := strings.Join(msgs, ","); got != "one,two,three,agent note,one" {
		t.Fatalf("stored %s", got)
	}
}

// TestLogRate_RefusesWholeRequestsBeyondTheLimit: a run writing faster than
// its limit gets ResourceExhausted (HTTP 429) for whole requests; every line
// of an accepted request is stored, none of a refused one.
func TestLogRate_RefusesWholeRequestsBeyondTheLimit(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.LogLinesPerSecond = 1 })
	c := dial(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.FlowRuns.CreateFlowRun(ctx, &orionv1.CreateFlowRunRequest{FlowName: "chatty"})
	if err != nil {
		t.Fatal(err)
	}
	id := run.GetFlowRun().GetId()
	batch := func(n int) []*orionv1.Log {
		logs := make([]*orionv1.Log, n)
		for i := range logs {
			logs[i] = &orionv1.Log{FlowRunId: id, Level: 20, Message: fmt.Sprint("line ", i), Timestamp: timestamppb.Now()}
		}
		return logs
	}
	// The burst is one full batch.
	if _, err := c.Logs.CreateLogs(ctx, &orionv1.CreateLogsRequest{Logs: batch(validate.MaxLogBatch)}); err != nil {
		t.Fatalf("a full burst: %v", err)
	}
	_, err = c.Logs.CreateLogs(ctx, &orionv1.CreateLogsRequest{Logs: batch(5)})
	if client.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "retry in") {
		t.Fatalf("beyond the limit: %v", err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	body := fmt.Sprintf(`{"logs":[{"flow_run_id":%q,"message":"over http","timestamp":"2026-01-01T00:00:00Z"}]}`, id)
	if code, msg := httpDo(t, hc, "POST", srv.URL()+"/api/v1/logs", "", body); code != http.StatusTooManyRequests {
		t.Fatalf("HTTP beyond the limit: %d %s", code, msg)
	}
	stored, err := c.Logs.ListLogs(ctx, &orionv1.ListLogsRequest{FlowRunId: id, PageSize: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(stored.GetLogs()); n != validate.MaxLogBatch || stored.GetNextAfterSeq() != 0 {
		t.Fatalf("stored %d lines (next %d); want exactly the accepted %d", n, stored.GetNextAfterSeq(), validate.MaxLogBatch)
	}
}
