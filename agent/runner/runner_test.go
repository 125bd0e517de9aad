package runner

import (
	"context"
	"errors"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	r.Register(TypeSubprocess, Noop{})
	r.Register(TypeNoop, Noop{})
	for _, typ := range []string{"", "universal", TypeSubprocess, TypeNoop} {
		if _, err := r.Get(typ); err != nil {
			t.Errorf("Get(%q): %v", typ, err)
		}
	}
	if _, err := r.Get("docker"); !errors.Is(err, ErrNoRunner) {
		t.Fatalf("Get(docker) = %v, want ErrNoRunner", err)
	}
	if got := r.Types(); len(got) != 2 || got[0] != TypeNoop || got[1] != TypeSubprocess {
		t.Fatalf("Types() = %v", got)
	}
}

func TestNoop(t *testing.T) {
	ctx := context.Background()
	var n Noop
	h, err := n.Start(ctx, Spec{FlowRunID: "r", Epoch: 2})
	if err != nil || h.Type != TypeNoop || h.ID == "" {
		t.Fatalf("Start: %+v %v", h, err)
	}
	for i := 0; i < 2; i++ {
		if res, err := n.Wait(ctx, h); err != nil || !res.Success() {
			t.Fatalf("Wait: %+v %v", res, err)
		}
	}
	if err := n.Stop(ctx, h, 0); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := n.Recover(ctx, h); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Recover: %v", err)
	}
	Release(n, h) // not a Releaser: a no-op
}

func TestExitResult_String(t *testing.T) {
	for _, tc := range []struct {
		r    ExitResult
		want string
	}{
		{ExitResult{ExitCode: 3}, "exit code 3"},
		{ExitResult{ExitCode: -1, Signal: "SIGKILL"}, "killed by signal SIGKILL"},
		{ExitResult{ExitCode: -1, Err: errors.New("lost")}, "lost"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.r, got, tc.want)
		}
	}
}
