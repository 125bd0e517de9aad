package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/localstate"
	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/process"
)

// leftover starts a run's process as a previous agent process would have,
// in the run's working directory under home, and returns its record.
func leftover(t *testing.T, ctx context.Context, home, id string, epoch int64, script string) (*process.Runner, runner.Handle, localstate.Run, *collectedLines) {
	t.Helper()
	dir := filepath.Join(home, "agent", "runs", fmt.Sprintf("%s-%d", id, epoch))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	prev := process.New()
	lines := &collectedLines{ch: make(chan string, 100)}
	h, err := prev.Start(ctx, runner.Spec{
		FlowRunID: id, Epoch: epoch,
		Command: []string{"sh", "-c", script},
		Env:     os.Environ(), Dir: dir,
		Output: func(_, line string, _ int64) { lines.ch <- line },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Kill what is left and wait until the previous runner, its
		// parent, reaped the shim (no goroutine is left behind).
		_ = prev.Stop(context.Background(), h, 0)
		prev.Release(h)
		pid, _ := strconv.Atoi(h.ID)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		awaitGone(t, pid)
	})
	rec := localstate.Run{FlowRunID: id, Epoch: epoch, PID: h.ID, Workdir: dir, InfrastructureType: h.Type, HandleID: h.ID, HandleData: h.Data, Started: time.Now()}
	return prev, h, rec, lines
}

// awaitGone waits (bounded) until no process has the given pid.
func awaitGone(t *testing.T, pid int) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(testTimeout)
	for syscall.Kill(pid, 0) == nil {
		select {
		case <-tick.C:
		case <-deadline:
			t.Errorf("process %d still exists", pid)
			return
		}
	}
}

type collectedLines struct{ ch chan string }

func (c *collectedLines) await(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case l := <-c.ch:
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("line %q never came", want)
		}
	}
}

// seedLeftovers writes the records of a previous agent process and makes
// the fake server hold each run RUNNING with its epoch.
func seedLeftovers(t *testing.T, e *testEnv, recs ...localstate.Run) {
	t.Helper()
	st, err := localstate.Open(localstate.Path(e.cfg.Home, "test-agent"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, r := range recs {
		if err := st.PutRun(r); err != nil {
			t.Fatal(err)
		}
		e.f.addRun(r.FlowRunID, commandDep("true"), nil)
		e.f.setRun(r.FlowRunID, func(fr *orionv1.FlowRun) {
			fr.LeaseEpoch = r.Epoch
			fr.State = &orionv1.State{Type: orionv1.StateType_STATE_TYPE_RUNNING}
		})
	}
	if err := st.SetAgentID("agent-7"); err != nil {
		t.Fatal(err)
	}
}

// logText is a run's stored messages, a line each.
func logText(f *fake, id string) string {
	msgs := logMessages(f.logsOf(id))
	if len(msgs) == 0 {
		return ""
	}
	return strings.Join(msgs, "\n") + "\n"
}

func TestAgent_RecoversLeftovers(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gate := filepath.Join(t.TempDir(), "go")

	// Still running: its output before the restart was shipped by the
	// previous process (it saw "before"); the agent ships the rest.
	prevLive, hLive, live, liveLines := leftover(t, ctx, e.cfg.Home, "run-live", 4,
		`echo before; while [ ! -f `+gate+` ]; do sleep 0.02; done; echo after; exit 0`)
	liveLines.await(t, "before")
	prevLive.Release(hLive) // the previous agent process died here

	// Ended while no agent ran: its exit status was recorded by the shim.
	prevDone, hDone, exited, _ := leftover(t, ctx, e.cfg.Home, "run-exited", 2, `echo shipped; exit 3`)
	if res, err := prevDone.Wait(ctx, hDone); err != nil || res.ExitCode != 3 {
		t.Fatalf("leftover exit: %+v %v", res, err)
	}
	prevDone.Release(hDone)

	// Killed with its shim: no exit status anywhere.
	prevGone, hGone, vanished, _ := leftover(t, ctx, e.cfg.Home, "run-vanished", 5, `sleep 30`)
	var d struct{ PGID int }
	_ = json.Unmarshal(hGone.Data, &d)
	_ = syscall.Kill(-d.PGID, syscall.SIGKILL)
	if res, _ := prevGone.Wait(ctx, hGone); res.Signal != "SIGKILL" {
		t.Fatalf("killed shim: %+v", res)
	}
	prevGone.Release(hGone)

	// The previous process died between starting the shim and saving the
	// handle: found from the working directory.
	_, _, located, _ := leftover(t, ctx, e.cfg.Home, "run-located", 6, `echo located; exit 0`)
	located.PID, located.InfrastructureType, located.HandleID, located.HandleData = "", "", "", nil

	code := 0
	seedLeftovers(t, e, live, exited, vanished, located,
		localstate.Run{FlowRunID: "run-gone", Epoch: 2, Started: time.Now()},
		localstate.Run{FlowRunID: "run-done", Epoch: 1, Started: time.Now(), PendingState: &localstate.PendingState{Type: "STATE_TYPE_COMPLETED", ExitCode: &code}},
	)

	e.start()
	awaitLog(t, e.f, "run-live", "reattached")
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]*orionv1.StateProposal{
		"run-live":     {Type: orionv1.StateType_STATE_TYPE_COMPLETED},
		"run-exited":   {Type: orionv1.StateType_STATE_TYPE_FAILED, Message: "Process exited with code 3"},
		"run-vanished": crashedState(msgVanished),
		"run-located":  {Type: orionv1.StateType_STATE_TYPE_COMPLETED},
		"run-gone":     crashedState(msgRestartedInFlight),
		"run-done":     {Type: orionv1.StateType_STATE_TYPE_COMPLETED},
	} {
		got := awaitFinal(t, e.f, id).GetState()
		if got.GetType() != want.GetType() || got.GetMessage() != want.GetMessage() {
			t.Errorf("%s reported %v, want %v", id, got, want)
		}
	}
	// Output is neither lost nor repeated across the restart.
	if logs := logText(e.f, "run-live"); !strings.Contains(logs, "after\n") || strings.Contains(logs, "before") {
		t.Errorf("run-live logs:\n%s", logs)
	}
	// Its output came before the exit (delivered and recorded by the
	// previous process: not again) or with it (the final lines, which go
	// with the final state: the previous process never reported it, so
	// the agent delivers them now): at most once either way.
	if logs := logText(e.f, "run-exited"); strings.Count(logs, "shipped") > 1 {
		t.Errorf("run-exited logs repeat output shipped before the restart:\n%s", logs)
	}
	e.stop()

	for _, ev := range e.f.snapshot() {
		if ev.kind == "register" && ev.req.(*agentv1.RegisterAgentRequest).GetAgentId() != "agent-7" {
			t.Fatalf("registration did not resume the stored id: %v", ev.req)
		}
	}
	st, err := localstate.Open(localstate.Path(e.cfg.Home, "test-agent"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if runs, _ := st.Runs(); len(runs) != 0 {
		t.Fatalf("records left: %+v", runs)
	}
	if _, err := os.Stat(live.Workdir); !os.IsNotExist(err) {
		t.Fatalf("leftover working directory not removed: %v", err)
	}
}

// TestAgent_RecoveredRunStops checks that a reattached run is stopped when
// the server cancels it (reported CANCELLED) or says its lease is lost
// (nothing reported).
func TestAgent_RecoveredRunStops(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	prevC, hC, cancelled, cLines := leftover(t, ctx, e.cfg.Home, "run-cancel", 3, `echo up; exec sleep 30`)
	cLines.await(t, "up")
	prevL, hL, lost, lLines := leftover(t, ctx, e.cfg.Home, "run-lost", 3, `echo up; exec sleep 30`)
	lLines.await(t, "up")
	prevC.Release(hC)
	prevL.Release(hL)
	seedLeftovers(t, e, cancelled, lost)
	e.f.setRun("run-cancel", func(fr *orionv1.FlowRun) {
		fr.State = &orionv1.State{Type: orionv1.StateType_STATE_TYPE_CANCELLING}
	})
	e.f.mu.Lock()
	e.f.onHeartbeat = func(*agentv1.HeartbeatRequest) *agentv1.HeartbeatResponse {
		return &agentv1.HeartbeatResponse{
			LostFlowRunIds: []string{"run-lost"},
			Cancels:        []*agentv1.CancelRequest{{FlowRunId: "run-cancel", LeaseEpoch: 3}},
		}
	}
	e.f.mu.Unlock()

	e.start()
	if got := awaitFinal(t, e.f, "run-cancel").GetState().GetType(); got != orionv1.StateType_STATE_TYPE_CANCELLED {
		t.Fatalf("run-cancel reported %v", got)
	}
	// Both processes get stopped: their groups disappear (the previous
	// runner, still their parent here, reaps them).
	for _, h := range []runner.Handle{hC, hL} {
		var d struct{ PGID int }
		if err := json.Unmarshal(h.Data, &d); err != nil || d.PGID <= 1 {
			t.Fatalf("handle data %s: %v", h.Data, err)
		}
		tick := time.NewTicker(20 * time.Millisecond)
		for syscall.Kill(-d.PGID, 0) == nil {
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("process group %d was not stopped", d.PGID)
			}
		}
		tick.Stop()
	}
	e.stop()
	for _, r := range reports(e.f.snapshot(), "run-lost") {
		t.Errorf("run-lost reported %v after its lease was lost", r.GetState())
	}
}

func TestAgent_DefaultNameTakenPicksAnother(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Name = "" })
	// Another agent with the default name holds its state file.
	other, err := localstate.Open(localstate.Path(e.cfg.Home, defaultName()), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	e.start()
	if got, want := e.agent.Name(), defaultName()+"-2"; got != want {
		t.Fatalf("name %q, want %q", got, want)
	}
}

func TestAgent_ExplicitNameTakenFails(t *testing.T) {
	e := newEnv(t, nil)
	other, err := localstate.Open(localstate.Path(e.cfg.Home, "test-agent"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a, err := New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err == nil {
		t.Fatal("Run succeeded with a locked state file")
	}
}

// TestAgent_LeftoverNeverStartedIsRequeued: a run the previous process
// claimed but never started (the server still has it PENDING) is not
// reported CRASHED; the agent stops renewing its lease so the server puts
// it back in the queue.
func TestAgent_LeftoverNeverStartedIsRequeued(t *testing.T) {
	e := newEnv(t, nil)
	seedLeftovers(t, e, localstate.Run{FlowRunID: "run-claimed", Epoch: 9, Started: time.Now()})
	e.f.setRun("run-claimed", func(fr *orionv1.FlowRun) {
		fr.State = &orionv1.State{Type: orionv1.StateType_STATE_TYPE_PENDING}
	})
	e.start()
	// Heartbeats stop carrying the run once the agent let it go.
	e.f.await(t, "a heartbeat without the run", func(evs []event) bool {
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].kind == "heartbeat" {
				return len(evs[i].req.(*agentv1.HeartbeatRequest).GetRuns()) == 0
			}
		}
		return false
	})
	e.stop()
	if rs := reports(e.f.snapshot(), "run-claimed"); len(rs) != 0 {
		t.Fatalf("a never-started leftover was reported: %v", rs)
	}
	st, err := localstate.Open(localstate.Path(e.cfg.Home, "test-agent"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if runs, _ := st.Runs(); len(runs) != 0 {
		t.Fatalf("records left: %+v", runs)
	}
}

// recordingRunner is a noop runner whose Start first calls onStart.
type recordingRunner struct {
	runner.Noop
	onStart func()
}

func (r recordingRunner) Start(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	r.onStart()
	return r.Noop.Start(ctx, spec)
}

// TestAgent_FirstRecordNamesTheInfrastructure: the record saved before the
// infrastructure starts names its type, so that a restarted agent looks for
// a container or Job the previous process started but had no handle of
// (Locate) with the runner that started it.
func TestAgent_FirstRecordNamesTheInfrastructure(t *testing.T) {
	var e *testEnv
	seen := make(chan localstate.Run, 1)
	e = newEnv(t, func(c *Config) {
		c.Runners = runner.NewRegistry()
		c.Runners.Register(runner.TypeSubprocess, runner.Noop{})
		c.Runners.Register(runner.TypeDocker, recordingRunner{onStart: func() {
			runs, err := e.agent.state.Runs()
			if err != nil {
				t.Error(err)
			}
			for _, r := range runs {
				seen <- r
			}
		}})
	})
	s := e.start()
	dep := commandDep("true")
	dep.Infrastructure = &orionv1.Infrastructure{Type: "DockerFlowRunner", Config: mustStruct(map[string]any{"image": "busybox"})}
	e.f.addRun("run-1", dep, nil)
	e.f.offer(t, s, "run-1")
	awaitFinal(t, e.f, "run-1")
	select {
	case rec := <-seen:
		if rec.FlowRunID != "run-1" || rec.InfrastructureType != runner.TypeDocker || rec.HandleID != "" {
			t.Fatalf("record before start = %+v, want run-1 with type docker and no handle", rec)
		}
	default:
		t.Fatal("the docker runner was not started")
	}
}
