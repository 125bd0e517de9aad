package agent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/sdk/python"
)

func requirePython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(python.Interpreter()); err != nil {
		t.Skipf("%s not available: %v", python.Interpreter(), err)
	}
}

const helloFlow = `from orion import flow


@flow(name="hello")
def hello(name="world"):
    print(f"Hello {name}!")


@flow(name="boom")
def boom():
    raise ValueError("boom")


@flow(name="huge")
def huge():
    raise ValueError("é" * 60000)
`

// syncBuffer is an io.Writer that signals each write.
type syncBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeFlow(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hello.py")
	if err := os.WriteFile(path, []byte(helloFlow), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pendingRun stores a PENDING run of dep, as `orion deployment execute`
// creates it.
func pendingRun(f *fake, dep *orionv1.Deployment, params map[string]any) *orionv1.FlowRun {
	f.addRun("run-1", dep, params)
	f.setRun("run-1", func(r *orionv1.FlowRun) { r.State = &orionv1.State{Type: orionv1.StateType_STATE_TYPE_PENDING} })
	return f.run("run-1")
}

func setStates(evs []event) []orionv1.StateType {
	var out []orionv1.StateType
	for _, e := range evs {
		if e.kind == "set" {
			out = append(out, e.state)
		}
	}
	return out
}

func TestExecute_Python(t *testing.T) {
	requirePython(t)
	for _, tc := range []struct {
		name, flow  string
		params      map[string]any
		want        orionv1.StateType
		wantMessage string
		wantExit    int32
		wantOut     string
	}{
		{"completed", "hello", map[string]any{"name": "Orion"}, orionv1.StateType_STATE_TYPE_COMPLETED, "Flow run completed.", 0, "Hello Orion!"},
		{"raised", "boom", nil, orionv1.StateType_STATE_TYPE_FAILED, "ValueError: boom", 1, "ValueError: boom"},
		// 120,000 bytes of message: cut to the server's limit, not refused.
		{"raised a huge message", "huge", nil, orionv1.StateType_STATE_TYPE_FAILED, "ValueError: éé", 1, "ValueError: éé"},
		{"invalid parameters", "hello", map[string]any{"nope": 1}, orionv1.StateType_STATE_TYPE_FAILED, "invalid parameters", 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			c := f.serve(t)
			dep := &orionv1.Deployment{Id: "dep-1", FlowName: tc.flow, FlowKind: orionv1.FlowKind_FLOW_KIND_PYTHON, FlowLocation: writeFlow(t)}
			run := pendingRun(f, dep, tc.params)
			out := newSyncBuffer()
			home := t.TempDir()

			final, err := Execute(context.Background(), c, home, dep, run, out, testLogger(t))
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			st := final.GetState()
			if st.GetType() != tc.want || !strings.Contains(st.GetMessage(), tc.wantMessage) || st.GetExitCode() != tc.wantExit {
				t.Fatalf("final state %v, want %v %q exit %d", st, tc.want, tc.wantMessage, tc.wantExit)
			}
			if got := setStates(f.snapshot()); len(got) != 2 || got[0] != orionv1.StateType_STATE_TYPE_RUNNING {
				t.Fatalf("proposed %v", got)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("output %q lacks %q", out.String(), tc.wantOut)
			}
			shipped := false
			for _, l := range f.logsOf("run-1") {
				shipped = shipped || strings.Contains(l.GetMessage(), tc.wantOut)
			}
			if !shipped {
				t.Fatalf("no log line with %q", tc.wantOut)
			}
			if entries, _ := os.ReadDir(filepath.Join(home, "agent", "runs")); len(entries) != 0 {
				t.Fatalf("working directories left: %v", entries)
			}
		})
	}
}

func TestExecute_Interrupted(t *testing.T) {
	f := newFake()
	c := f.serve(t)
	dep := commandDep("sh", "-c", "echo started; sleep 30")
	run := pendingRun(f, dep, nil)
	out := newSyncBuffer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for range out.wrote {
			if strings.Contains(out.String(), "started") {
				cancel()
				return
			}
		}
	}()
	final, err := Execute(ctx, c, t.TempDir(), dep, run, out, testLogger(t))
	close(out.wrote)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	if st := final.GetState(); st.GetType() != orionv1.StateType_STATE_TYPE_CRASHED || st.GetMessage() != "Execution was interrupted" {
		t.Fatalf("final state %v", st)
	}
}

func TestExecute_RunningRefused(t *testing.T) {
	f := newFake()
	c := f.serve(t)
	dep := commandDep("sh", "-c", "echo must not run")
	run := pendingRun(f, dep, nil)
	f.setRun("run-1", func(r *orionv1.FlowRun) { r.State = &orionv1.State{Type: orionv1.StateType_STATE_TYPE_COMPLETED} })
	out := newSyncBuffer()
	if _, err := Execute(context.Background(), c, t.TempDir(), dep, run, out, testLogger(t)); err == nil {
		t.Fatal("execute of a terminal run succeeded")
	}
	if out.String() != "" {
		t.Fatalf("the flow ran: %q", out.String())
	}
}

func TestAgent_PushedPythonFlow(t *testing.T) {
	requirePython(t)
	e := newEnv(t, nil)
	e.f.sources["sha256:abc"] = &orionv1.GetFlowSourceResponse{Digest: "sha256:abc", Text: helloFlow, FileName: "pushed.py"}
	dep := &orionv1.Deployment{
		Id: "dep-1", FlowName: "hello", FlowKind: orionv1.FlowKind_FLOW_KIND_PYTHON,
		FlowLocation: "/nonexistent/hello.py", PushToServer: true, FlowSourceDigest: "sha256:abc",
	}
	e.f.addRun("run-1", dep, map[string]any{"name": "pushed"})
	s := e.start()
	e.f.offer(t, s, "run-1")
	final := awaitFinal(t, e.f, "run-1")
	if final.GetState().GetType() != orionv1.StateType_STATE_TYPE_COMPLETED {
		t.Fatalf("final state %v", final.GetState())
	}
	awaitLog(t, e.f, "run-1", "Hello pushed!")
}
