// Package dispatch matches due runs to connected agents. Agents hold a
// StreamWork stream; the dispatcher offers each due run to one agent of the
// run's work queue the moment it is due (woken by store commits and by a
// timer for the next scheduled time, never by polling). An offer is only an
// offer: the agent claims the run with a compare-and-set transition to
// PENDING that grants a lease with an increasing fencing epoch. Expired
// leases are swept: a PENDING run goes back to SCHEDULED (up to a delivery
// limit), a RUNNING run becomes CRASHED (then the retry policy applies), a
// CANCELLING run becomes CANCELLED. When an agent's stream ends and it does
// not reconnect within ReconnectGrace, its leases are cut short so recovery
// does not wait for the whole lease. Every deadline the loop waits for is
// derived from the store (plus the in-memory stream losses, which a
// restarted server replaces by the leases themselves).
package dispatch

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	"github.com/orion-run/orion/server/store"
)

// ErrLeaseLost means an agent reported for a run with a stale lease epoch or
// after losing the run; the rpc layer maps it to Aborted.
var ErrLeaseLost = errors.New("lease lost")

// ErrNotOwner means an API token tried to act as an agent another token
// registered; the rpc layer maps it to PermissionDenied.
var ErrNotOwner = errors.New("not this agent's token")

// Config tunes the dispatcher. Zero values take the defaults.
type Config struct {
	// LeaseDuration is how long a claim or heartbeat keeps a run (15s).
	LeaseDuration time.Duration
	// HeartbeatInterval is how often agents are asked to heartbeat (5s).
	HeartbeatInterval time.Duration
	// KeepaliveInterval is how often streams carry a keepalive (10s).
	KeepaliveInterval time.Duration
	// ReofferInterval is how long an unclaimed offer waits before the run is
	// offered again (5s).
	ReofferInterval time.Duration
	// MaxDeliveries is how many times a run may be claimed and lost before
	// PENDING it is declared CRASHED (3).
	MaxDeliveries int32
	// ReconnectGrace is how long an agent whose stream ended may take to
	// reopen one before the leases of its runs are cut short (1s).
	ReconnectGrace time.Duration
	// LateAfter is how long after its scheduled time a SCHEDULED run that
	// has not started is renamed Late (15s).
	LateAfter time.Duration
	// Clock returns the current time (time.Now).
	Clock  func() time.Time
	Logger hclog.Logger
	// Observer receives claims, stream counts and lease expiries (for
	// metrics); nil discards them.
	Observer Observer
}

func (c *Config) setDefaults() {
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 15 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 5 * time.Second
	}
	if c.KeepaliveInterval <= 0 {
		c.KeepaliveInterval = 10 * time.Second
	}
	if c.ReofferInterval <= 0 {
		c.ReofferInterval = 5 * time.Second
	}
	if c.MaxDeliveries <= 0 {
		c.MaxDeliveries = 3
	}
	if c.ReconnectGrace <= 0 {
		c.ReconnectGrace = time.Second
	}
	if c.LateAfter <= 0 {
		c.LateAfter = 15 * time.Second
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
}

// Dispatcher owns agent sessions and the offer loop.
type Dispatcher struct {
	store store.Store
	cfg   Config
	log   hclog.Logger

	mu       sync.Mutex
	sessions map[string]*session  // by agent id: the agent's live stream
	offered  map[string]offer     // by run id: the last offer made
	lost     map[string]time.Time // by agent id: when its last stream ended
	wake     chan struct{}
	closing  chan struct{}
	closeMu  sync.Once
}

type offer struct {
	agentID string
	at      time.Time
}

// session is one agent's open StreamWork stream.
type session struct {
	agentID string
	queues  map[string]bool
	// infra holds the infrastructure types the agent can run; nil means any
	// (an agent that did not say).
	infra map[string]bool
	out   chan *agentv1.StreamWorkResponse
	done  chan struct{}
}

// New returns a dispatcher over st. Call Run to start its loop.
func New(st store.Store, cfg Config) *Dispatcher {
	cfg.setDefaults()
	return &Dispatcher{
		store:    st,
		cfg:      cfg,
		log:      cfg.Logger.Named("dispatch"),
		sessions: map[string]*session{},
		offered:  map[string]offer{},
		lost:     map[string]time.Time{},
		wake:     make(chan struct{}, 1),
		closing:  make(chan struct{}),
	}
}

// Close ends every open agent stream (agents reconnect to the next server).
// It is called when the server shuts down.
func (d *Dispatcher) Close() {
	d.closeMu.Do(func() { close(d.closing) })
}

// Config returns the effective configuration.
func (d *Dispatcher) Config() Config { return d.cfg }

// Run offers due runs and sweeps expired leases until ctx is done. It wakes
// after every store commit, at the next scheduled or lease-expiry time, and
// when an agent connects.
func (d *Dispatcher) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		changed, _ := d.store.Changed()
		next, err := d.pass(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error("dispatch pass failed", "error", err)
			next = d.cfg.Clock().Add(time.Second)
		}
		wait := time.Until(next)
		if next.IsZero() || wait > time.Minute {
			wait = time.Minute
		}
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// poke wakes the loop without blocking.
func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
