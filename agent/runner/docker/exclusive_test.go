package docker

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestExclusive: one Start or Reattach of a container at a time, also for
// one that arrives as the first leaves while another waits; other
// containers are not held up; nothing is left in r.starting.
func TestExclusive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(Config{})
		defer r.Close()
		var inside, most atomic.Int32
		enter := func() {
			if n := inside.Add(1); n > most.Load() {
				most.Store(n)
			}
		}
		first := r.exclusive("a")
		enter()
		var wg sync.WaitGroup
		release := make(chan struct{})
		var entered atomic.Int32
		wg.Go(func() { // waits for the first, then stays inside until released
			unlock := r.exclusive("a")
			enter()
			entered.Add(1)
			<-release
			inside.Add(-1)
			unlock()
		})
		synctest.Wait()
		other := r.exclusive("b") // another container: not held up
		other()

		inside.Add(-1)
		first() // the second goes in; a third arriving now must wait for it
		synctest.Wait()
		wg.Go(func() {
			unlock := r.exclusive("a")
			enter()
			entered.Add(1)
			inside.Add(-1)
			unlock()
		})
		synctest.Wait()
		if got := entered.Load(); got != 1 {
			t.Fatalf("%d entered while the second was inside, want 1", got)
		}
		close(release)
		wg.Wait()
		if most.Load() != 1 || entered.Load() != 2 {
			t.Fatalf("at most %d inside at once (want 1), %d entered (want 2)", most.Load(), entered.Load())
		}
		r.mu.Lock()
		left := len(r.starting)
		r.mu.Unlock()
		if left != 0 {
			t.Fatalf("%d container locks left", left)
		}
	})
}
