package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/process"
	"github.com/orion-run/orion/client"
)

func TestMain(m *testing.M) {
	// Subprocess runs are started through a shim: this test binary
	// re-executed (see process.ShimMain).
	process.ShimMain()
	goleak.VerifyTestMain(m)
}

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
	var stdoutEnd uint64 // the flow's output carries its source and position
	for _, l := range e.f.logsOf("run-1") {
		switch l.GetName() {
		case "stdout":
			if l.GetLevel() != 20 {
				t.Errorf("stdout line at level %d", l.GetLevel())
			}
			stdout = append(stdout, l.GetMessage())
			stdoutEnd += uint64(len(l.GetMessage())) + 1
			if l.GetSource() != "1/stdout" || l.GetSourcePosition() != stdoutEnd {
				t.Errorf("stdout line %q from %q at %d, want 1/stdout at %d", l.GetMessage(), l.GetSource(), l.GetSourcePosition(), stdoutEnd)
			}
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
		id          string
		dep         *orionv1.Deployment
		wantRunning bool
		wantMessage string
	}{
		{"missing binary", "run-1", commandDep("orion-no-such-binary"), true, "Process could not start: "},
		{"missing flow file", "run-1", &orionv1.Deployment{Id: "dep-1", FlowName: "hello", FlowKind: orionv1.FlowKind_FLOW_KIND_PYTHON, FlowLocation: "/nonexistent/flows/hello.py"}, false, "/nonexistent/flows/hello.py"},
		{"unknown infrastructure", "run-1", &orionv1.Deployment{Id: "dep-1", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, Infrastructure: &orionv1.Infrastructure{Type: "ecs"}}, false, `infrastructure.type: "ecs" is not supported`},
		{"unsafe run id", "../../escape", commandDep("true"), false, "invalid flow run id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.f.addRun(tc.id, tc.dep, nil)
			s := e.start()
			e.f.offer(t, s, tc.id)
			final := awaitFinal(t, e.f, tc.id)
			if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_CRASHED || !strings.Contains(final.GetState().GetMessage(), tc.wantMessage) {
				t.Fatalf("final state %v, want CRASHED with %q", final.GetState(), tc.wantMessage)
			}
			ran := hasReport(tc.id, orionv1.StateType_STATE_TYPE_RUNNING)(e.f.snapshot())
			if ran != tc.wantRunning {
				t.Fatalf("RUNNING reported: %v, want %v", ran, tc.wantRunning)
			}
		})
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

// probedRunner is a noop runner whose availability the test controls.
type probedRunner struct {
	runner.Noop
	err error
}

func (p probedRunner) Available(context.Context) error { return p.err }

// TestAgent_RegistersOnlyAvailableInfrastructure: runners that depend on an
// engine or a cluster are offered to the server only when it answers.
func TestAgent_RegistersOnlyAvailableInfrastructure(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Runners = runner.NewRegistry()
		c.Runners.Register(runner.TypeSubprocess, runner.Noop{})
		c.Runners.Register("docker", probedRunner{err: errors.New("the engine does not answer")})
		c.Runners.Register("kubernetes", probedRunner{})
	})
	e.start()
	e.stop()
	for _, ev := range e.f.snapshot() {
		if ev.kind == "register" {
			got := strings.Join(ev.req.(*agentv1.RegisterAgentRequest).GetInfrastructureTypes(), ",")
			if got != "kubernetes,subprocess" {
				t.Fatalf("registered infrastructure types %q, want kubernetes,subprocess", got)
			}
			return
		}
	}
	t.Fatal("the agent did not register")
}

// rendezvousRunner is a runner whose probe answers only once every other
// rendezvousRunner's probe has started: probes made one after another
// would each time out.
type rendezvousRunner struct {
	runner.Noop
	started *sync.WaitGroup
}

func (p rendezvousRunner) Available(ctx context.Context) error {
	p.started.Done()
	all := make(chan struct{})
	go func() { p.started.Wait(); close(all) }()
	select {
	case <-all:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("the other probes did not start: %w", ctx.Err())
	}
}

// TestAgent_ProbesInfrastructureAtOnce: the availability probes run
// together, so unanswered ones cost one timeout, not one each.
func TestAgent_ProbesInfrastructureAtOnce(t *testing.T) {
	var started sync.WaitGroup
	started.Add(2)
	e := newEnv(t, func(c *Config) {
		c.Runners = runner.NewRegistry()
		c.Runners.Register("docker", rendezvousRunner{started: &started})
		c.Runners.Register("kubernetes", rendezvousRunner{started: &started})
	})
	e.start()
	e.stop()
	for _, ev := range e.f.snapshot() {
		if ev.kind == "register" {
			if got := strings.Join(ev.req.(*agentv1.RegisterAgentRequest).GetInfrastructureTypes(), ","); got != "docker,kubernetes" {
				t.Fatalf("registered infrastructure types %q, want docker,kubernetes", got)
			}
			return
		}
	}
	t.Fatal("the agent did not register")
}

// logMessages returns the messages of lines.
func logMessages(lines []*orionv1.Log) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.GetMessage())
	}
	return out
}

// logCalls counts the CreateLogs calls for run id.
func logCalls(evs []event, id string) int {
	n := 0
	for _, ev := range evs {
		if ev.kind == "logs" && ev.runID == id {
			n++
		}
	}
	return n
}

// noopDep is a deployment on the noop runner: no output, no timing.
func noopDep() *orionv1.Deployment {
	d := commandDep("true")
	d.Infrastructure = &orionv1.Infrastructure{Type: "noop"}
	return d
}

// TestAgent_LastLinesGoWithTheFinalState: a run's last lines travel with
// its final state report (one call, stored before the state), asking for
// no run back; a server from before report_logs gets them by CreateLogs.
func TestAgent_LastLinesGoWithTheFinalState(t *testing.T) {
	for _, old := range []bool{false, true} {
		t.Run(map[bool]string{false: "server stores report logs", true: "older server"}[old], func(t *testing.T) {
			e := newEnv(t, nil)
			e.f.oldServer = old
			e.f.addRun("run-1", noopDep(), nil)
			s := e.start()
			e.f.offer(t, s, "run-1")
			final := awaitFinal(t, e.f, "run-1")
			if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_COMPLETED || !final.GetOmitFlowRun() {
				t.Fatalf("final report %v", final)
			}
			carried := strings.Join(logMessages(final.GetLogs()), "\n")
			calls := logCalls(e.f.snapshot(), "run-1")
			if old {
				if carried != "" || calls != 1 {
					t.Fatalf("older server: report carried %q, %d CreateLogs calls; want none and 1", carried, calls)
				}
			} else if !strings.HasPrefix(carried, "Started noop") || calls != 0 {
				t.Fatalf("report carried %q with %d CreateLogs calls; want the start line and no call", carried, calls)
			}
			if got := logText(e.f, "run-1"); strings.Count(got, "Started noop") != 1 {
				t.Fatalf("stored logs %q, want the start line once", got)
			}
		})
	}
}

// TestAgent_LastLinesSentAloneWhenTheFinalReportFails: when the final
// report is refused (another owner holds the run), the lines it carried
// were not stored and go by CreateLogs.
func TestAgent_LastLinesSentAloneWhenTheFinalReportFails(t *testing.T) {
	e := newEnv(t, nil)
	e.f.addRun("run-1", noopDep(), nil)
	e.f.onReport = func(req *agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error) {
		if terminal(req.GetState().GetType()) {
			return nil, status.Error(codes.Aborted, "stale lease epoch")
		}
		return nil, nil
	}
	s := e.start()
	e.f.offer(t, s, "run-1")
	awaitLog(t, e.f, "run-1", "Started noop")
	final := awaitFinal(t, e.f, "run-1")
	if !strings.HasPrefix(strings.Join(logMessages(final.GetLogs()), "\n"), "Started noop") {
		t.Fatalf("the refused report carried %v", final.GetLogs())
	}
	if n := logCalls(e.f.snapshot(), "run-1"); n != 1 {
		t.Fatalf("%d CreateLogs calls, want 1 after the refused report", n)
	}
}

// TestAgent_LastLinesNotResentAfterAnAnswer: once an answer (here WAIT)
// stored the lines a final report carried, a later refusal does not send
// them again by CreateLogs.
func TestAgent_LastLinesNotResentAfterAnAnswer(t *testing.T) {
	e := newEnv(t, nil)
	e.f.addRun("run-1", noopDep(), nil)
	var finals atomic.Int32
	e.f.onReport = func(req *agentv1.ReportFlowRunStateRequest) (*agentv1.ReportFlowRunStateResponse, error) {
		if !terminal(req.GetState().GetType()) {
			return nil, nil
		}
		if finals.Add(1) == 1 {
			return &agentv1.ReportFlowRunStateResponse{Result: &orionv1.OrchestrationResult{
				Status: orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_WAIT, Delay: durationpb.New(time.Millisecond)}}, nil
		}
		return nil, status.Error(codes.Aborted, "stale lease epoch")
	}
	s := e.start()
	e.f.offer(t, s, "run-1")
	e.f.await(t, "a second final report", func([]event) bool { return finals.Load() >= 2 })
	e.stop()
	var carried []int
	for _, r := range reports(e.f.snapshot(), "run-1") {
		if terminal(r.GetState().GetType()) {
			carried = append(carried, len(r.GetLogs()))
		}
	}
	if len(carried) != 2 || carried[0] == 0 || carried[1] != 0 {
		t.Fatalf("lines carried by the final reports: %v, want some then none", carried)
	}
	if n := logCalls(e.f.snapshot(), "run-1"); n != 0 {
		t.Fatalf("%d CreateLogs calls after the lines were stored with an answer", n)
	}
}
