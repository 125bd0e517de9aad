package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/scheduler"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
)

// envInt reads a positive integer benchmark knob.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScheduler_SteadyStatePass measures one scheduler pass over
// ORION_BENCH_DEPLOYMENTS (default 10,000) deployments with 1-minute cron
// schedules, in a store that already holds about ORION_BENCH_RUNS (default
// 1,000,000) runs created by earlier passes. Each iteration advances the
// clock by the 10 s loop interval, so a pass creates the ~1/6 of the
// deployments' next runs that fell due, as in production. It reports the
// process CPU time per steady-state pass (cpu-ms/op) and the runs created
// per pass; the first pass and the first minute after the restart are
// logged apart.
//
//	go test -run '^$' -bench SteadyStatePass -benchtime 20x ./server/scheduler
func BenchmarkScheduler_SteadyStatePass(b *testing.B) {
	// The server runs with GOGC 200 (cmd/orion); measure the same way.
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	nDeps := envInt("ORION_BENCH_DEPLOYMENTS", 10000)
	nRuns := envInt("ORION_BENCH_RUNS", 1000000)
	path := filepath.Join(b.TempDir(), "orion.db")
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)}
	ctx := context.Background()

	// Setup without fsync: deployments, then passes an hour apart until
	// the store holds nRuns runs.
	st, err := bolt.Open(path, bolt.Options{Clock: clock.Now, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	begin := time.Now()
	for i := 0; i < nDeps; i += 1000 {
		err := st.Update(ctx, func(tx store.Tx) error {
			for j := i; j < min(i+1000, nDeps); j++ {
				_, _, err := deployments.Upsert(tx, &orionv1.Deployment{
					Name: fmt.Sprintf("d%05d", j), FlowName: fmt.Sprintf("flow%03d", j%100), FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND,
					Command: []string{"true"}, Schedule: cron("* * * * *"),
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	s := scheduler.New(st, scheduler.Config{Now: clock.Now})
	stored := 0
	for stored < nRuns {
		stats, err := s.Pass(ctx)
		if err != nil {
			b.Fatal(err)
		}
		stored += stats.Created
		clock.Advance(min(time.Hour, time.Duration(nRuns-stored+nDeps-1)/time.Duration(nDeps)*time.Minute))
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: %d deployments, %d runs in %s", nDeps, stored, time.Since(begin).Round(time.Second))

	// Measure with fsync, as a server runs, after a restart: the first
	// pass rebuilds the in-memory due times and is reported apart.
	st, err = bolt.Open(path, bolt.Options{Clock: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s = scheduler.New(st, scheduler.Config{Now: clock.Now})
	cpu0, wall0 := cpuTime(b), time.Now()
	stats, err := s.Pass(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("first pass after restart: %d evaluated, %d created, cpu %s, wall %s",
		stats.Evaluated, stats.Created, (cpuTime(b) - cpu0).Round(time.Millisecond), time.Since(wall0).Round(time.Millisecond))

	cpu0, wall0 = cpuTime(b), time.Now()
	if stats, err = s.Pass(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("idle pass (nothing due): %d evaluated, %d created, cpu %s, wall %s",
		stats.Evaluated, stats.Created, (cpuTime(b) - cpu0).Round(time.Millisecond), time.Since(wall0).Round(time.Millisecond))

	// The first minute after a restart also counts each schedule's runs
	// ahead once (then they are tracked incrementally): reported apart.
	cpu0, wall0 = cpuTime(b), time.Now()
	warm := 0
	for range 6 {
		clock.Advance(10 * time.Second)
		st, err := s.Pass(ctx)
		if err != nil {
			b.Fatal(err)
		}
		warm += st.Created
	}
	b.Logf("first minute after restart: 6 passes, %d created, cpu %s per pass, wall %s per pass",
		warm, ((cpuTime(b) - cpu0) / 6).Round(time.Millisecond), (time.Since(wall0) / 6).Round(time.Millisecond))

	var created int
	var cpu time.Duration
	if path := os.Getenv("ORION_BENCH_CPUPROFILE"); path != "" {
		// Profile the measured passes only, not the set-up.
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	b.ResetTimer()
	for b.Loop() {
		clock.Advance(10 * time.Second)
		c0 := cpuTime(b)
		stats, err := s.Pass(ctx)
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime(b) - c0
		created += stats.Created
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(created)/float64(b.N), "runs/op")
}
