package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/localstate"
	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/process"
)

func TestAgent_RecoversLeftovers(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	// A process the previous agent process left running.
	prev := process.New()
	ready := make(chan struct{}, 1)
	h, err := prev.Start(ctx, runner.Spec{
		FlowRunID: "run-live", Epoch: 4,
		Command: []string{"sh", "-c", "echo ready; exec sleep 30"},
		Env:     os.Environ(), Dir: t.TempDir(),
		Output: func(_, line string) {
			if line == "ready" {
				ready <- struct{}{}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = prev.Stop(context.Background(), h, 0)
		prev.Release(h)
	})
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("leftover process never started")
	}

	liveDir := filepath.Join(e.cfg.Home, "agent", "runs", "run-live-4")
	if err := os.MkdirAll(liveDir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := localstate.Open(localstate.Path(e.cfg.Home, "test-agent"), 0)
	if err != nil {
		t.Fatal(err)
	}
	code := 0
	for _, r := range []localstate.Run{
		{FlowRunID: "run-live", Epoch: 4, PID: h.ID, Workdir: liveDir, InfrastructureType: h.Type, HandleID: h.ID, HandleData: h.Data, Started: time.Now()},
		{FlowRunID: "run-gone", Epoch: 2, Started: time.Now()},
		{FlowRunID: "run-done", Epoch: 1, Started: time.Now(), PendingState: &localstate.PendingState{Type: "STATE_TYPE_COMPLETED", ExitCode: &code}},
	} {
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
	st.Close()

	e.start()
	for id, want := range map[string]*orionv1.StateProposal{
		"run-live": crashedState(msgRestartedStopped),
		"run-gone": crashedState(msgRestartedInFlight),
		"run-done": {Type: orionv1.StateType_STATE_TYPE_COMPLETED},
	} {
		got := awaitFinal(t, e.f, id).GetState()
		if got.GetType() != want.GetType() || got.GetMessage() != want.GetMessage() {
			t.Errorf("%s reported %v, want %v", id, got, want)
		}
	}
	res, err := prev.Wait(ctx, h)
	if err != nil || res.Signal != "SIGTERM" {
		t.Fatalf("leftover process ended with %+v %v, want SIGTERM", res, err)
	}
	e.stop()

	for _, ev := range e.f.snapshot() {
		if ev.kind == "register" && ev.req.(*agentv1.RegisterAgentRequest).GetAgentId() != "agent-7" {
			t.Fatalf("registration did not resume the stored id: %v", ev.req)
		}
	}
	st, err = localstate.Open(localstate.Path(e.cfg.Home, "test-agent"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if runs, _ := st.Runs(); len(runs) != 0 {
		t.Fatalf("records left: %+v", runs)
	}
	if _, err := os.Stat(liveDir); !os.IsNotExist(err) {
		t.Fatalf("leftover working directory not removed: %v", err)
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
