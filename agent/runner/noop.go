package runner

import (
	"context"
	"fmt"
	"time"
)

// Noop is a runner that starts nothing: every run "exits" with code 0 at
// once. It is registered as TypeNoop so the control plane (claims, state
// reports, logs) can be measured without process overhead.
type Noop struct{}

var _ Runner = Noop{}

// Start returns a handle naming the run; nothing is started.
func (Noop) Start(_ context.Context, spec Spec) (Handle, error) {
	return Handle{Type: TypeNoop, ID: fmt.Sprintf("noop-%s-%d", spec.FlowRunID, spec.Epoch)}, nil
}

// Wait returns a successful exit at once.
func (Noop) Wait(context.Context, Handle) (ExitResult, error) {
	return ExitResult{ExitCode: 0}, nil
}

// Stop does nothing: there is nothing to stop.
func (Noop) Stop(context.Context, Handle, time.Duration) error { return nil }

// Recover always reports ErrNotRunning: a noop run never outlives the agent.
func (Noop) Recover(context.Context, Handle) error { return ErrNotRunning }
