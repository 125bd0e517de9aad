package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func TestHelloFlow_CopyMatchesExample(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "examples", "hello", "flow.py"))
	if err != nil {
		t.Fatal(err)
	}
	if helloFlow != string(want) {
		t.Fatal("hello_flow.py differs from examples/hello/flow.py: copy the example over it")
	}
}

func TestHelloFlowPath_FallsBackToTheCopy(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // no checkout above a temp folder
	p, err := helloFlowPath(filepath.Join(dir, "orion"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != helloFlow {
		t.Fatalf("%s does not hold the embedded flow", p)
	}
}

func TestQuantile_NearestRank(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := quantile(s, q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("quantile of nothing = %v", got)
	}
	if l := latencyOf([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}); l.P50 != 2 || l.Max != 3 {
		t.Errorf("latencyOf = %+v", l)
	}
}

func TestDueToClaim(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(t0.Add(d)) }
	states := []*orionv1.State{
		{Type: orionv1.StateType_STATE_TYPE_SCHEDULED, Timestamp: ts(-time.Second), ScheduledTime: ts(0)},
		{Type: orionv1.StateType_STATE_TYPE_PENDING, Timestamp: ts(3 * time.Millisecond)},
		{Type: orionv1.StateType_STATE_TYPE_RUNNING, Timestamp: ts(5 * time.Millisecond)},
	}
	run := &orionv1.FlowRun{Id: "r", CreateTime: ts(-time.Second)}
	if got, err := dueToClaim(run, states); err != nil || got != 3*time.Millisecond {
		t.Errorf("due on time: %v %v, want 3ms", got, err)
	}
	run.CreateTime = ts(time.Millisecond) // created after its scheduled time: due when created
	if got, err := dueToClaim(run, states); err != nil || got != 2*time.Millisecond {
		t.Errorf("created late: %v %v, want 2ms", got, err)
	}
	if _, err := dueToClaim(run, states[:1]); err == nil {
		t.Error("no PENDING state: want an error")
	}
}

func TestOptions_Validation(t *testing.T) {
	o, err := Options{Binary: "orion"}.withDefaults()
	if err != nil || o.Runs != 20000 || len(o.Phases) != len(phases) || o.subprocessRuns() != 500 || o.e2eRuns() != 50 {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	for _, bad := range []Options{
		{Binary: "orion", Phases: []string{"nope"}},
		{Binary: "orion", Runs: 3},
		{Binary: "orion", Duration: time.Millisecond},
		{},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

func TestClosedLoop_CountsAndStopsOnError(t *testing.T) {
	var calls atomic.Int64
	res, err := closedLoop(context.Background(), nil, 4, 10*time.Millisecond, 50*time.Millisecond, func(context.Context, int, int64) error {
		calls.Add(1)
		return nil
	})
	if err != nil || len(res.latencies) == 0 || int64(len(res.latencies)) > calls.Load() || res.rps() <= 0 {
		t.Fatalf("closedLoop: %d recorded of %d calls, rps %v, err %v", len(res.latencies), calls.Load(), res.rps(), err)
	}
	boom := errors.New("boom")
	if _, err := closedLoop(context.Background(), nil, 2, 0, time.Minute, func(context.Context, int, int64) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("error not returned: %v", err)
	}
	if err := parallel(context.Background(), 3, 10, func(_ context.Context, i int) error {
		if i == 7 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("parallel: %v", err)
	}
}

func TestResult_TableAndFailure(t *testing.T) {
	r := &Result{RunsPerSecond: ptr(2500.0), DispatchLatencyMs: &Latency{P50: 1, P90: 2, P99: 3, Max: 4}, GoVersion: "go1.x", CPUs: 2}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"runs_per_second", "2500.00 runs/s", "dispatch_latency_ms", "p99 3.00"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	if r.Failed() != nil {
		t.Error("no phase failed")
	}
	r.Errors = map[string]string{"list": "store full"}
	if err := r.Failed(); err == nil || !strings.Contains(err.Error(), "list: store full") {
		t.Errorf("Failed() = %v", err)
	}
}

func TestFinishedRun_StatesSpreadOverDeployments(t *testing.T) {
	deps := make([]*orionv1.Deployment, listDeployments)
	for i := range deps {
		deps[i] = &orionv1.Deployment{Id: fmt.Sprint("d", i), FlowName: fmt.Sprint("flow-", i%listFlows)}
	}
	failed := map[string]int{}
	longest, gap := 0, 0 // the longest stretch of consecutive runs without a FAILED one
	for i := range 100_000 {
		d := deps[i%listDeployments]
		if r, _ := finishedRun(i, d, "f", time.Now()); r.GetState().GetType() == orionv1.StateType_STATE_TYPE_FAILED {
			failed[d.GetId()]++
			gap = 0
		} else {
			gap++
			longest = max(longest, gap)
		}
	}
	for _, d := range deps {
		if n := failed[d.GetId()]; n < 70 || n > 130 {
			t.Fatalf("deployment %s has %d FAILED runs of 1,000, want about 100", d.GetId(), n)
		}
	}
	if longest > 200 {
		t.Fatalf("%d consecutive runs without a FAILED one: failures are bunched", longest)
	}
}

// TestSteadyRate: the rate between the 10th and 90th percentile of the end
// times, whatever the order of the runs; a slow start and tail do not count.
func TestSteadyRate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var runs []*orionv1.FlowRun
	for i := range 100 {
		end := t0.Add(time.Duration(i) * 10 * time.Millisecond) // 100 runs/s
		switch {
		case i < 5:
			end = t0.Add(-time.Duration(5-i) * time.Second) // a slow start
		case i >= 95:
			end = t0.Add(time.Duration(i) * time.Second) // a slow tail
		}
		runs = append(runs, &orionv1.FlowRun{State: &orionv1.State{Timestamp: timestamppb.New(end)}})
	}
	slices.Reverse(runs)
	if got := steadyRate(runs); got != 100 {
		t.Fatalf("steady rate %v, want 100", got)
	}
	if got := steadyRate(runs[:9]); got != 0 {
		t.Fatalf("steady rate of 9 runs %v, want 0", got)
	}
}

// TestCPUTime reads the CPU time of a child that burnt some and of the
// test process itself.
func TestCPUTime(t *testing.T) {
	// The child counts in the shell until it has used at least 50 ms of
	// CPU by its own clock, says so, and then waits to be stopped.
	p, err := startProc("busy", "sh", []string{"-c",
		`i=0; while [ $i -lt 2000000 ]; do i=$((i+1)); if [ $((i % 1000)) -eq 0 ] && [ "$(awk '{print $14+$15}' /proc/$$/stat)" -ge 5 ]; then break; fi; done; echo burnt; exec sleep 60`},
		os.Environ(), filepath.Join(t.TempDir(), "busy.log"), "burnt")
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	begin := time.Now()
	if err := p.waitReady(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := p.cpuTime()
	if err != nil {
		t.Fatal(err)
	}
	if got < 50*time.Millisecond || got > time.Since(begin)+time.Second {
		t.Fatalf("cpuTime = %s, want at least 50ms and at most the wall time", got)
	}

	before, err := cpuTime()
	if err != nil {
		t.Fatal(err)
	}
	var after time.Duration
	for i := 0; i < 1e9 && after <= before; i++ {
		if after, err = cpuTime(); err != nil {
			t.Fatal(err)
		}
	}
	if after <= before {
		t.Fatalf("cpuTime of the bench did not move: %s then %s", before, after)
	}
}
