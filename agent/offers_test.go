package agent

import (
	"os"
	"sync"
	"testing"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func TestAgent_ClaimAbortIsDropped(t *testing.T) {
	e := newEnv(t, nil)
	e.f.addRun("run-1", commandDep("true"), nil)
	e.f.addRun("run-2", commandDep("true"), nil)
	e.f.onClaim = func(req *agentv1.ClaimFlowRunRequest) (*agentv1.ClaimFlowRunResponse, error) {
		if req.GetFlowRunId() == "run-1" {
			return &agentv1.ClaimFlowRunResponse{Result: &orionv1.OrchestrationResult{
				Status: orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ABORT, Reason: "another agent won"}}, nil
		}
		return nil, nil
	}
	s := e.start()
	e.f.offer(t, s, "run-1")
	e.f.offer(t, s, "run-2")
	awaitFinal(t, e.f, "run-2")
	// A heartbeat after the abort lists no held run.
	e.f.await(t, "a heartbeat holding nothing", func(evs []event) bool {
		last := -1
		for i, ev := range evs {
			if ev.kind == "heartbeat" && len(ev.req.(*agentv1.HeartbeatRequest).GetRuns()) == 0 && count(evs[:i], "claim", "run-1") == 1 {
				last = i
			}
		}
		return last >= 0
	})
	if n := len(reports(e.f.snapshot(), "run-1")); n != 0 {
		t.Fatalf("%d reports for an aborted claim", n)
	}
}

func TestAgent_DuplicateOffersClaimedOnce(t *testing.T) {
	e := newEnv(t, nil)
	// Single calls: a batched agent's next claims would wait behind the
	// claim held open below. Offers are deduplicated before any call,
	// batched or not.
	e.f.noBatches = true
	e.f.addRun("run-1", commandDep("true"), nil)
	e.f.addRun("run-2", commandDep("true"), nil)
	gate := make(chan struct{})
	e.f.onClaim = func(req *agentv1.ClaimFlowRunRequest) (*agentv1.ClaimFlowRunResponse, error) {
		if req.GetFlowRunId() == "run-1" {
			<-gate // hold the first claim open while duplicates arrive
		}
		return nil, nil
	}
	s := e.start()
	e.f.offer(t, s, "run-1")
	e.f.await(t, "claim of run-1", func(evs []event) bool { return count(evs, "claim", "run-1") == 1 })
	e.f.offer(t, s, "run-1") // while claiming
	e.f.offer(t, s, "run-2")
	// Stream events are handled in order: once run-2 is claimed, the
	// duplicate was seen.
	e.f.await(t, "claim of run-2", func(evs []event) bool { return count(evs, "claim", "run-2") == 1 })
	close(gate)
	awaitFinal(t, e.f, "run-1")
	e.f.offer(t, s, "run-1") // finished already: the server's ABORT is fine too
	awaitFinal(t, e.f, "run-2")
	e.stop()
	evs := e.f.snapshot()
	if n := count(evs, "claim", "run-1"); n > 2 {
		t.Fatalf("run-1 claimed %d times", n)
	}
	if n := len(reports(evs, "run-1")); n != 2 {
		t.Fatalf("run-1 has %d reports, want RUNNING and COMPLETED once", n)
	}
}

func TestAgent_LimitDefersOffers(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limit = 1 })
	gate := t.TempDir() + "/go"
	waitGate := commandDep("sh", "-c", `echo started; while [ ! -e "`+gate+`" ]; do sleep 0.02; done`)
	e.f.addRun("run-1", waitGate, nil)
	e.f.addRun("run-2", commandDep("true"), nil)
	s := e.start()
	e.f.offer(t, s, "run-1")
	awaitLog(t, e.f, "run-1", "started")
	e.f.offer(t, s, "run-2")
	e.f.offer(t, s, "run-2")
	// Let a few heartbeats go by: run-2 must not be claimed meanwhile.
	n := count(e.f.snapshot(), "heartbeat", "")
	e.f.await(t, "heartbeats", func(evs []event) bool { return count(evs, "heartbeat", "") >= n+3 })
	if c := count(e.f.snapshot(), "claim", "run-2"); c != 0 {
		t.Fatalf("run-2 claimed while at the limit")
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	awaitFinal(t, e.f, "run-2")
	evs := e.f.snapshot()
	if count(evs, "claim", "run-2") != 1 {
		t.Fatalf("run-2 claimed %d times", count(evs, "claim", "run-2"))
	}
	finished1, claimed2 := -1, -1
	for i, ev := range evs {
		if ev.kind == "report" && ev.runID == "run-1" && terminal(ev.state) {
			finished1 = i
		}
		if ev.kind == "claim" && ev.runID == "run-2" {
			claimed2 = i
		}
	}
	if finished1 < 0 || claimed2 < finished1 {
		t.Fatalf("run-2 claimed at event %d, run-1 finished at %d", claimed2, finished1)
	}
}

func TestAgent_RunningWaitIsRetried(t *testing.T) {
	e := newEnv(t, nil)
	e.f.addRun("run-1", commandDep("sh", "-c", "echo ran"), nil)
	var mu sync.Mutex
	waits := 2
	e.f.onReport = func(req *agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		if req.GetState().GetType() == orionv1.StateType_STATE_TYPE_RUNNING && waits > 0 {
			waits--
			return &agentv1.ReportFlowRunStateResponse{Result: &orionv1.OrchestrationResult{
				Status: orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_WAIT, Delay: durationpbMillis(20)}}, nil
		}
		return nil, nil
	}
	s := e.start()
	e.f.offer(t, s, "run-1")
	awaitFinal(t, e.f, "run-1")
	evs := e.f.snapshot()
	rs := reports(evs, "run-1")
	if len(rs) != 4 {
		t.Fatalf("reports %v, want 3 RUNNING then COMPLETED", stateTypes(rs))
	}
	if rs[0].GetTransitionId() == rs[1].GetTransitionId() {
		t.Fatal("a proposal after WAIT reused the transition id")
	}
	// No output before RUNNING was accepted: the first log batch comes
	// after the third RUNNING proposal.
	for i, ev := range evs {
		if ev.kind == "logs" {
			if n := len(reports(evs[:i], "run-1")); n < 3 {
				t.Fatalf("logs shipped after only %d RUNNING proposals", n)
			}
			break
		}
	}
}
