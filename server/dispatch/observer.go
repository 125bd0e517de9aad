package dispatch

import (
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// Observer receives the dispatcher's figures, for metrics. Its methods are
// called after the fact (a claim committed, a stream opened) and must not
// block.
type Observer interface {
	// RunClaimed reports a committed claim and how long after the run was
	// due it happened (0 for a run claimed early, before its time).
	RunClaimed(sinceDue time.Duration)
	// AgentsConnected reports the number of agents holding a stream open.
	AgentsConnected(n int)
	// LeaseExpired reports a lease that ran out and the state type its run
	// was moved to.
	LeaseExpired(to orionv1.StateType)
}

type nopObserver struct{}

func (nopObserver) RunClaimed(time.Duration)       {}
func (nopObserver) AgentsConnected(int)            {}
func (nopObserver) LeaseExpired(orionv1.StateType) {}
