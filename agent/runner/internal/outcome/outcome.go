// Package outcome holds how a supervised run ended, for the runners: the
// goroutine that supervises a run ends it once with its result; Wait and
// Stop wait for that.
package outcome

import (
	"context"

	"github.com/orion-run/orion/agent/runner"
)

// Released is the result of a run whose supervision stopped because its
// handle was released, before it ended.
var Released = runner.ExitResult{ExitCode: -1, Err: runner.ErrUnknownHandle}

// Exit is the end of one run. The zero value is not usable: use New or
// Recorded.
type Exit struct {
	done   chan struct{}
	result runner.ExitResult // written once, before done is closed
}

// New returns the Exit of a run that has not ended.
func New() *Exit { return &Exit{done: make(chan struct{})} }

// Recorded returns the Exit of a run that already ended with res, as an
// earlier agent process recorded it.
func Recorded(res runner.ExitResult) *Exit {
	e := New()
	e.End(res)
	return e
}

// End records res and wakes the waiters. It is called once, by the
// run's supervisor.
func (e *Exit) End(res runner.ExitResult) {
	e.result = res
	close(e.done)
}

// Done is closed once the run ended.
func (e *Exit) Done() <-chan struct{} { return e.done }

// Ended reports whether the run ended.
func (e *Exit) Ended() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// Wait blocks until the run ended and returns its result, or until ctx is
// done.
func (e *Exit) Wait(ctx context.Context) (runner.ExitResult, error) {
	select {
	case <-e.done:
		return e.result, nil
	case <-ctx.Done():
		return runner.ExitResult{}, ctx.Err()
	}
}
