package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what a closed-loop load run measured.
type loadResult struct {
	latencies []time.Duration // of the operations started in the window
	window    time.Duration   // from the end of the warm-up to the last completion
}

// rps is the operations per second completed in the window.
func (l loadResult) rps() float64 {
	if l.window <= 0 {
		return 0
	}
	return round2(float64(len(l.latencies)) / l.window.Seconds())
}

// closedLoop keeps n operations in flight: n workers each call op again as
// soon as the previous call returns. Calls that start during warmup are not
// recorded; no call starts after warmup+d. The first error stops the run.
// op receives the worker number and a sequence number unique across
// workers.
func closedLoop(ctx context.Context, n int, warmup, d time.Duration, op func(ctx context.Context, worker int, seq int64) error) (loadResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	begin := time.Now()
	measureFrom, stopAt := begin.Add(warmup), begin.Add(warmup+d)
	var (
		seq      atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      []time.Duration
		lastDone time.Time
	)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var last time.Time
			for ctx.Err() == nil {
				start := time.Now()
				if start.After(stopAt) {
					break
				}
				if err := op(ctx, w, seq.Add(1)); err != nil {
					cancel(err)
					break
				}
				if end := time.Now(); !start.Before(measureFrom) {
					mine = append(mine, end.Sub(start))
					last = end
				}
			}
			mu.Lock()
			all = append(all, mine...)
			if last.After(lastDone) {
				lastDone = last
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return loadResult{}, err // an operation failed or the bench was interrupted
	}
	return loadResult{latencies: all, window: lastDone.Sub(measureFrom)}, nil
}

// parallel runs op for i in [0, count) with at most n in flight and
// returns the first error.
func parallel(ctx context.Context, n, count int, op func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, count) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				if err := op(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}
