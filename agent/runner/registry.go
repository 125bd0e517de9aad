package runner

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// Registry maps infrastructure types to runners. It is safe for concurrent
// use.
type Registry struct {
	mu      sync.RWMutex
	runners map[string]Runner
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{runners: make(map[string]Runner)}
}

// Register adds (or replaces) the runner for an infrastructure type.
func (r *Registry) Register(typ string, rn Runner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runners[typ] = rn
}

// Get returns the runner for an infrastructure type. An empty type and
// Prefect's "universal" mean TypeSubprocess. Unknown types return an error
// wrapping ErrNoRunner.
func (r *Registry) Get(typ string) (Runner, error) {
	typ = Normalize(typ)
	r.mu.RLock()
	defer r.mu.RUnlock()
	rn, ok := r.runners[typ]
	if !ok {
		return nil, fmt.Errorf("%w %q on this agent", ErrNoRunner, typ)
	}
	return rn, nil
}

// Types returns the registered infrastructure types, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.runners))
	for t := range r.runners {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Close closes every runner that holds connections (io.Closer: an engine
// client, say). Call it once the runners are no longer used.
func (r *Registry) Close() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var errs []error
	for _, rn := range r.runners {
		if c, ok := rn.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// Normalize maps an empty type and "universal" (Prefect 2.0b1's default
// flow runner) to TypeSubprocess.
func Normalize(typ string) string {
	switch typ {
	case "", "universal":
		return TypeSubprocess
	}
	return typ
}
