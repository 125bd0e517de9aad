package agent

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/structpb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/client"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

// testLogger writes to the test log at ORION_TEST_LOG_LEVEL (default debug;
// shown only for failed tests or with -v).
func testLogger(t *testing.T) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv("ORION_TEST_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{Name: "test", Level: level, Output: testWriter{t}})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}

// testEnv is a fake server and an agent connected to it.
type testEnv struct {
	t      *testing.T
	f      *fake
	c      *client.Client
	cfg    Config
	agent  *Agent
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func newEnv(t *testing.T, mutate func(*Config)) *testEnv {
	f := newFake()
	c := f.serve(t)
	e := &testEnv{t: t, f: f, c: c, cfg: Config{
		Client:        c,
		Name:          "test-agent",
		Home:          t.TempDir(),
		Logger:        testLogger(t),
		Env:           os.Environ(),
		StopGrace:     2 * time.Second,
		ShutdownGrace: 5 * time.Second,
	}}
	if mutate != nil {
		mutate(&e.cfg)
	}
	return e
}

// start runs the agent and returns its first work stream.
func (e *testEnv) start() *fakeStream {
	e.t.Helper()
	a, err := New(e.cfg)
	if err != nil {
		e.t.Fatalf("new agent: %v", err)
	}
	e.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- a.Run(ctx) }()
	e.t.Cleanup(e.stop)
	s := e.f.nextStream(e.t)
	select {
	case <-a.Ready():
	case <-time.After(testTimeout):
		e.t.Fatal("agent never became ready")
	}
	return s
}

// stop stops the agent and checks that Run returned nil in time.
func (e *testEnv) stop() {
	e.once.Do(func() {
		e.cancel()
		select {
		case err := <-e.done:
			if err != nil {
				e.t.Errorf("Run returned %v", err)
			}
		case <-time.After(testTimeout):
			e.t.Error("agent did not stop")
		}
	})
}

func commandDep(argv ...string) *orionv1.Deployment {
	return &orionv1.Deployment{Id: "dep-1", Name: "cmd", FlowName: "cmd-flow", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: argv}
}

// reports returns the state reports for a run, in order.
func reports(evs []event, id string) []*agentv1.ReportFlowRunStateRequest {
	var out []*agentv1.ReportFlowRunStateRequest
	for _, e := range evs {
		if e.kind == "report" && e.runID == id {
			out = append(out, e.req.(*agentv1.ReportFlowRunStateRequest))
		}
	}
	return out
}

func count(evs []event, kind, id string) int {
	n := 0
	for _, e := range evs {
		if e.kind == kind && e.runID == id {
			n++
		}
	}
	return n
}

func hasReport(id string, t orionv1.StateType) func([]event) bool {
	return func(evs []event) bool {
		for _, r := range reports(evs, id) {
			if r.GetState().GetType() == t {
				return true
			}
		}
		return false
	}
}

// awaitFinal waits for the run's terminal report and returns it.
func awaitFinal(t *testing.T, f *fake, id string) *agentv1.ReportFlowRunStateRequest {
	t.Helper()
	var final *agentv1.ReportFlowRunStateRequest
	f.await(t, "final state of "+id, func(evs []event) bool {
		for _, r := range reports(evs, id) {
			if terminal(r.GetState().GetType()) {
				final = r
				return true
			}
		}
		return false
	})
	return final
}

// awaitLog waits for a log line of the run containing text.
func awaitLog(t *testing.T, f *fake, id, text string) {
	t.Helper()
	f.await(t, "log "+text, func([]event) bool {
		for _, l := range f.logsOf(id) {
			if strings.Contains(l.GetMessage(), text) {
				return true
			}
		}
		return false
	})
}

func stateTypes(rs []*agentv1.ReportFlowRunStateRequest) []orionv1.StateType {
	var out []orionv1.StateType
	for _, r := range rs {
		out = append(out, r.GetState().GetType())
	}
	return out
}

func TestAgent_RunsCommandFlow(t *testing.T) {
	e := newEnv(t, nil)
	e.f.addRun("run-1", commandDep("sh", "-c", `echo "hello $ORION_PARAM_WHO $ORION_PARAM_N_TIMES"; echo "$ORION_PARAMETERS"; echo "id=$ORION_FLOW_RUN_ID url=$ORION_API_URL"; echo oops >&2`),
		map[string]any{"who": "world", "n-times": 3})
	s := e.start()
	e.f.offer(t, s, "run-1")

	final := awaitFinal(t, e.f, "run-1")
	if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_COMPLETED || final.GetState().GetExitCode() != 0 || final.GetInfrastructurePid() == "" {
		t.Fatalf("final report %v", final)
	}
	evs := e.f.snapshot()
	got := stateTypes(reports(evs, "run-1"))
	if len(got) != 2 || got[0] != orionv1.StateType_STATE_TYPE_RUNNING {
		t.Fatalf("reported %v, want RUNNING then COMPLETED", got)
	}
	if final.GetLeaseEpoch() != 1 || final.GetAgentId() != "agent-1" {
		t.Fatalf("report carried epoch %d agent %q", final.GetLeaseEpoch(), final.GetAgentId())
	}

	var stdout, stderr []string
	for _, l := range e.f.logsOf("run-1") {
		switch l.GetName() {
		case "stdout":
			if l.GetLevel() != 20 {
				t.Errorf("stdout line at level %d", l.GetLevel())
			}
			stdout = append(stdout, l.GetMessage())
		case "stderr":
			if l.GetLevel() != 40 {
				t.Errorf("stderr line at level %d", l.GetLevel())
			}
			stderr = append(stderr, l.GetMessage())
		}
	}
	want := []string{"hello world 3", `{"n-times":3,"who":"world"}`, "id=run-1 url=" + e.c.URL()}
	if strings.Join(stdout, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stdout logs %q, want %q", stdout, want)
	}
	if len(stderr) != 1 || stderr[0] != "oops" {
		t.Fatalf("stderr logs %q", stderr)
	}

	e.stop()
	if entries, _ := os.ReadDir(e.cfg.Home + "/agent/runs"); len(entries) != 0 {
		t.Fatalf("working directories left: %v", entries)
	}
}

func TestAgent_FailedExitCode(t *testing.T) {
	e := newEnv(t, nil)
	e.f.addRun("run-1", commandDep("sh", "-c", "exit 3"), nil)
	s := e.start()
	e.f.offer(t, s, "run-1")
	final := awaitFinal(t, e.f, "run-1")
	st := final.GetState()
	if st.GetType() != orionv1.StateType_STATE_TYPE_FAILED || st.ExitCode == nil || st.GetExitCode() != 3 || st.GetMessage() != "Process exited with code 3" {
		t.Fatalf("final state %v", st)
	}
}

func TestAgent_CrashedBeforeStart(t *testing.T) {
	for _, tc := range []struct {
		name        string
		dep         *orionv1.Deployment
		wantRunning bool
		wantMessage string
	}{
		{"missing binary", commandDep("orion-no-such-binary"), true, "Process could not start: "},
		{"missing flow file", &orionv1.Deployment{Id: "dep-1", FlowName: "hello", FlowKind: orionv1.FlowKind_FLOW_KIND_PYTHON, FlowLocation: "/nonexistent/flows/hello.py"}, false, "/nonexistent/flows/hello.py"},
		{"unknown infrastructure", &orionv1.Deployment{Id: "dep-1", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, Infrastructure: &orionv1.Infrastructure{Type: "docker"}}, false, `"docker"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.f.addRun("run-1", tc.dep, nil)
			s := e.start()
			e.f.offer(t, s, "run-1")
			final := awaitFinal(t, e.f, "run-1")
			if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_CRASHED || !strings.Contains(final.GetState().GetMessage(), tc.wantMessage) {
				t.Fatalf("final state %v, want CRASHED with %q", final.GetState(), tc.wantMessage)
			}
			ran := hasReport("run-1", orionv1.StateType_STATE_TYPE_RUNNING)(e.f.snapshot())
			if ran != tc.wantRunning {
				t.Fatalf("RUNNING reported: %v, want %v", ran, tc.wantRunning)
			}
		})
	}
}

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

func TestAgent_ReconnectsAfterStreamBreak(t *testing.T) {
	e := newEnv(t, nil)
	e.f.addRun("run-1", commandDep("true"), nil)
	e.f.addRun("run-2", commandDep("true"), nil)
	s := e.start()

	s.kill <- errUnavailable
	s = e.f.nextStream(t)
	e.f.offer(t, s, "run-1")
	awaitFinal(t, e.f, "run-1")

	// The server forgets the agent: the stream ends with NOT_FOUND and the
	// agent registers again, resuming its id.
	e.f.forgetAgents()
	s.kill <- errNotFound
	s = e.f.nextStream(t)
	e.f.offer(t, s, "run-2")
	awaitFinal(t, e.f, "run-2")

	var regs []*agentv1.RegisterAgentRequest
	for _, ev := range e.f.snapshot() {
		if ev.kind == "register" {
			regs = append(regs, ev.req.(*agentv1.RegisterAgentRequest))
		}
	}
	if len(regs) < 2 || regs[0].GetAgentId() != "" || regs[len(regs)-1].GetAgentId() != "agent-1" {
		t.Fatalf("registrations %v", regs)
	}
	if s.agentID != "agent-1" {
		t.Fatalf("stream opened for %q", s.agentID)
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
