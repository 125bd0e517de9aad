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

	// serverCPU and clientCPU are the CPU time the server and this process
	// (the load generator) used from the first operation of the window to
	// the last completion, when a server was given.
	serverCPU, clientCPU time.Duration
}

// cpuPerOp is the CPU time per operation of the window, in microseconds.
func (l loadResult) cpuPerOp() *CPUPerOp {
	if l.serverCPU == 0 && l.clientCPU == 0 || len(l.latencies) == 0 {
		return nil
	}
	n := float64(len(l.latencies))
	return &CPUPerOp{
		Server: round2(float64(l.serverCPU.Microseconds()) / n),
		Client: round2(float64(l.clientCPU.Microseconds()) / n),
	}
}

// cpuMeter reads the CPU time a server and this process use between
// start and stop.
type cpuMeter struct {
	server     *proc
	once       sync.Once
	srv0, cli0 time.Duration
	err        error
}

func (m *cpuMeter) start() {
	m.once.Do(func() { m.srv0, m.cli0, m.err = m.read() })
}

func (m *cpuMeter) stop() (server, client time.Duration, err error) {
	if m.err != nil {
		return 0, 0, m.err
	}
	srv, cli, err := m.read()
	return srv - m.srv0, cli - m.cli0, err
}

// read is the CPU time the server and this process have used so far.
func (m *cpuMeter) read() (server, client time.Duration, err error) {
	if server, err = m.server.cpuTime(); err != nil {
		return 0, 0, err
	}
	client, err = cpuTime()
	return server, client, err
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
// workers. With a server, the CPU time it and this process use in the
// window is measured too.
func closedLoop(ctx context.Context, server *proc, n int, warmup, d time.Duration, op func(ctx context.Context, worker int, seq int64) error) (loadResult, error) {
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
		meter    = cpuMeter{server: server}
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
				if server != nil && !start.Before(measureFrom) {
					meter.start()
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
	res := loadResult{latencies: all, window: lastDone.Sub(measureFrom)}
	if server != nil && len(all) > 0 {
		var err error
		if res.serverCPU, res.clientCPU, err = meter.stop(); err != nil {
			return loadResult{}, err
		}
	}
	return res, nil
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
