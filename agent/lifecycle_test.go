package agent

import (
	"os"
	"sync"
	"testing"
	"time"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func TestAgent_Cancel(t *testing.T) {
	for _, via := range []string{"stream", "heartbeat"} {
		t.Run(via, func(t *testing.T) {
			e := newEnv(t, nil)
			e.f.addRun("run-1", commandDep("sh", "-c", "echo started; sleep 30"), nil)
			var cancelOnce sync.Once
			cancelNow := make(chan struct{})
			if via == "heartbeat" {
				e.f.onHeartbeat = func(req *agentv1.HeartbeatRequest) *agentv1.HeartbeatResponse {
					select {
					case <-cancelNow:
					default:
						return nil
					}
					var resp *agentv1.HeartbeatResponse
					cancelOnce.Do(func() {
						resp = &agentv1.HeartbeatResponse{Cancels: []*agentv1.CancelRequest{{FlowRunId: "run-1", LeaseEpoch: 1}}}
					})
					return resp
				}
			}
			s := e.start()
			e.f.offer(t, s, "run-1")
			awaitLog(t, e.f, "run-1", "started")
			if via == "stream" {
				s.push(t, &agentv1.StreamWorkResponse{Event: &agentv1.StreamWorkResponse_Cancel{Cancel: &agentv1.CancelRequest{FlowRunId: "run-1", LeaseEpoch: 1}}})
			} else {
				close(cancelNow)
			}
			final := awaitFinal(t, e.f, "run-1")
			if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_CANCELLED || final.GetState().GetMessage() != "Flow run was cancelled" {
				t.Fatalf("final state %v", final.GetState())
			}
		})
	}
}

func TestAgent_LeaseLostStopsWithoutReport(t *testing.T) {
	e := newEnv(t, nil)
	e.f.addRun("run-1", commandDep("sh", "-c", "echo started; sleep 30"), nil)
	lose := make(chan struct{})
	e.f.onHeartbeat = func(req *agentv1.HeartbeatRequest) *agentv1.HeartbeatResponse {
		select {
		case <-lose:
			return &agentv1.HeartbeatResponse{LostFlowRunIds: []string{"run-1"}}
		default:
			return nil
		}
	}
	s := e.start()
	e.f.offer(t, s, "run-1")
	awaitLog(t, e.f, "run-1", "started")
	close(lose)
	// The run is forgotten once a heartbeat no longer lists it; a final
	// report, if any, would have come before.
	e.f.await(t, "a heartbeat without run-1", func(evs []event) bool {
		seen := false
		for _, ev := range evs {
			if ev.kind != "heartbeat" {
				continue
			}
			held := len(ev.req.(*agentv1.HeartbeatRequest).GetRuns()) > 0
			if held {
				seen = true
			} else if seen {
				return true
			}
		}
		return false
	})
	if got := stateTypes(reports(e.f.snapshot(), "run-1")); len(got) != 1 {
		t.Fatalf("reports after losing the lease: %v", got)
	}
}

func TestAgent_ShutdownStopsRuns(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ShutdownGrace = 50 * time.Millisecond })
	e.f.addRun("run-1", commandDep("sh", "-c", "echo started; sleep 30"), nil)
	s := e.start()
	e.f.offer(t, s, "run-1")
	awaitLog(t, e.f, "run-1", "started")
	e.stop()
	final := awaitFinal(t, e.f, "run-1")
	if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_CRASHED || final.GetState().GetMessage() != "Agent stopped" {
		t.Fatalf("final state %v", final.GetState())
	}
}

func TestAgent_ShutdownLetsRunsFinish(t *testing.T) {
	e := newEnv(t, nil)
	gate := t.TempDir() + "/go"
	e.f.addRun("run-1", commandDep("sh", "-c", `echo started; while [ ! -e "`+gate+`" ]; do sleep 0.02; done`), nil)
	s := e.start()
	e.f.offer(t, s, "run-1")
	awaitLog(t, e.f, "run-1", "started")
	e.cancel()
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.stop()
	if final := awaitFinal(t, e.f, "run-1"); final.GetState().GetType() != orionv1.StateType_STATE_TYPE_COMPLETED {
		t.Fatalf("final state %v", final.GetState())
	}
}
