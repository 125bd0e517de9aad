package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/scheduler"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
)

// schedulerSamples is how many loaded passes the scheduler phase times.
const schedulerSamples = 3

// runScheduler times scheduler passes in this process (as
// server/scheduler's BenchmarkScheduler_SteadyStatePass does), on a temp
// store with fsync on and a fake clock. Setup, without fsync: the
// deployments with 1-minute cron schedules, and one pass that creates
// their upcoming runs (the default limits: an hour ahead, about 61 runs a
// deployment). Then the store is reopened with fsync, as by a restarted
// server; the first pass (which rebuilds the scheduler's memory of due
// times) is reported as scheduler_first_pass_ms_10k, the mean of the six
// passes of the first minute after it (which count each schedule's dates
// ahead once) as scheduler_first_minute_pass_ms_10k. After that minute,
// scheduler_pass_ms_10k is the median over schedulerSamples passes that
// created runs (the clock
// advancing by the 10 s loop interval between passes): with the top-ups
// spread over a minute (Limits.Spread), each tops up about a sixth of the
// deployments. Both are the process's CPU time (user+system) during the
// pass, with the server's GC setting.
func runScheduler(ctx context.Context, e *env, r *Result) error {
	// The server runs with GOGC 200 (cmd/orion); the in-process pass too.
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	dir, err := e.mkdir("scheduler")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "orion.db")
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 30, 0, time.UTC)}
	st, err := bolt.Open(path, bolt.Options{Clock: clock.Now, NoSync: true})
	if err != nil {
		return err
	}
	begin := time.Now()
	n := e.opts.SchedulerDeployments
	for lo := 0; lo < n; lo += 1000 {
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < min(lo+1000, n); i++ {
				if _, _, err := deployments.Upsert(tx, cronDeployment(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			st.Close()
			return fmt.Errorf("create deployments: %w", err)
		}
	}
	stats, err := scheduler.New(st, scheduler.Config{Now: clock.Now}).Pass(ctx)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("setup pass: %w", err)
	}
	e.log.Info("scheduler store ready", "deployments", n, "runs", stats.Created, "took", time.Since(begin).Round(time.Millisecond).String())

	st, err = bolt.Open(path, bolt.Options{Clock: clock.Now})
	if err != nil {
		return err
	}
	defer st.Close()
	s := scheduler.New(st, scheduler.Config{Now: clock.Now})
	cpu, _, err := timedPass(ctx, s)
	if err != nil {
		return err
	}
	r.SchedulerFirstPassMs10K = ptr(ms(cpu))

	// The first minute after a restart also counts each schedule's dates
	// ahead once (they are tracked incrementally afterwards): reported apart,
	// as the mean of its six passes.
	var firstMinute time.Duration
	for range 6 {
		clock.Advance(10 * time.Second)
		cpu, _, err := timedPass(ctx, s)
		if err != nil {
			return err
		}
		firstMinute += cpu
	}
	r.SchedulerFirstMinuteMs10K = ptr(ms(firstMinute / 6))

	var samples []time.Duration
	var created int
	for passes := 0; len(samples) < schedulerSamples; passes++ {
		if passes > 10*schedulerSamples {
			return errors.New("no pass created the deployments' next runs")
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		clock.Advance(10 * time.Second)
		cpu, stats, err := timedPass(ctx, s)
		if err != nil {
			return err
		}
		if stats.Created > 0 {
			samples = append(samples, cpu)
			created += stats.Created
		}
	}
	r.SchedulerPassMs10K = ptr(ms(median(samples)))
	r.SchedulerRunsCreatedPerPass = ptr(round2(float64(created) / float64(len(samples))))
	return nil
}

// timedPass runs one pass and returns the process CPU time it took.
func timedPass(ctx context.Context, s *scheduler.Scheduler) (time.Duration, scheduler.PassStats, error) {
	c0, err := cpuTime()
	if err != nil {
		return 0, scheduler.PassStats{}, err
	}
	stats, err := s.Pass(ctx)
	if err != nil {
		return 0, stats, fmt.Errorf("scheduler pass: %w", err)
	}
	c1, err := cpuTime()
	return c1 - c0, stats, err
}

// cronDeployment is deployment i: one of 100 flows, a 1-minute cron.
func cronDeployment(i int) *orionv1.Deployment {
	return &orionv1.Deployment{
		Name: fmt.Sprintf("d%05d", i), FlowName: fmt.Sprintf("flow%03d", i%100), FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND,
		Command:  []string{"true"},
		Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "* * * * *"}}},
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// fakeClock is the store's and the scheduler's clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
