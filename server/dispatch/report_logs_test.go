package dispatch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// logsOf returns the messages of a run's stored lines, in order.
func (h *harness) logsOf(id string) string {
	h.t.Helper()
	var msgs []string
	err := h.st.View(context.Background(), func(tx store.Tx) error {
		logs, err := tx.Logs(id, 0, 0, 0)
		for _, l := range logs {
			msgs = append(msgs, l.GetMessage())
		}
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return strings.Join(msgs, ",")
}

// TestReport_LogsStoredWithTheState: lines sent with a report are stored
// in its transaction, not again for a repeated transition id, not at all
// when the report is refused (stale lease, run already ended); with
// omit_flow_run the answer carries no run.
func TestReport_LogsStoredWithTheState(t *testing.T) {
	h := newHarness(t, Config{LeaseDuration: 15 * time.Second})
	dep := h.deployment("d", "default", nil, 0)
	id := h.run(dep, t0)
	agent := h.agent("worker-1", "default")
	epoch := h.mustStart(agent, id)
	line := func(msg string) *orionv1.Log {
		return &orionv1.Log{FlowRunId: id, Message: msg, Timestamp: timestamppb.New(t0)}
	}
	report := func(epoch int64, transition string, omit bool, logs ...*orionv1.Log) (*agentv1.ReportFlowRunStateResponse, error) {
		return h.d.Report(context.Background(), &agentv1.ReportFlowRunStateRequest{
			AgentId: agent, FlowRunId: id, LeaseEpoch: epoch, TransitionId: transition, OmitFlowRun: omit, Logs: logs,
			State: &orionv1.StateProposal{Type: orchestration.Completed},
		})
	}

	if _, err := report(epoch+1, "t0", false, line("stale")); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale epoch: %v, want ErrLeaseLost", err)
	}
	resp, err := report(epoch, "t1", true, line("last one"), line("last two"))
	if err != nil || resp.GetResult().GetStatus() != orchestration.Accept || resp.GetFlowRun() != nil {
		t.Fatalf("final report: %v %v; want ACCEPT without a run", resp, err)
	}
	again, err := report(epoch, "t1", false, line("last one"), line("last two"))
	if err != nil || again.GetResult().GetStatus() != orchestration.Accept || again.GetFlowRun().GetId() != id {
		t.Fatalf("repeated report: %v %v; want the first answer with the run", again, err)
	}
	if got := h.logsOf(id); got != "last one,last two" {
		t.Fatalf("stored %q, want the two lines once and nothing of the stale report", got)
	}
	// The run ended: its lease with it. Refused, nothing stored.
	if resp, err := report(epoch, "t2", false, line("after the end")); err == nil {
		t.Fatalf("report on a terminal run: %v, want the lease error", resp)
	}
	if got := h.logsOf(id); got != "last one,last two" {
		t.Fatalf("stored %q after a refused report", got)
	}
}
