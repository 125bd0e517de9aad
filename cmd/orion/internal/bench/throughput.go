package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// runThroughput measures sustained end-to-end throughput, first with the
// agents' noop infrastructure (the control plane alone), then with real
// subprocesses running `true`.
func runThroughput(ctx context.Context, e *env, r *Result) error {
	cl, err := e.newCluster(ctx, e.opts.Agents)
	if err != nil {
		return err
	}
	defer cl.close()
	rps, steady, err := pushRuns(ctx, cl, "throughput-noop", "noop", e.opts.Runs)
	if err != nil {
		return fmt.Errorf("noop: %w", err)
	}
	r.RunsPerSecond, r.RunsPerSecondSteady = ptr(rps), ptr(steady)
	e.log.Info("noop throughput", "runs", e.opts.Runs, "runs_per_second", rps, "runs_per_second_steady", steady)
	rps, _, err = pushRuns(ctx, cl, "throughput-subprocess", "subprocess", e.opts.subprocessRuns())
	if err != nil {
		return fmt.Errorf("subprocess: %w", err)
	}
	r.RunsPerSecondSubprocess = ptr(rps)
	return nil
}

// pushRuns creates n runs of a new deployment, due at once, with
// throughputConcurrency creates in flight while the agents claim and run them,
// waits until every run has ended, checks they all COMPLETED, and returns
// n divided by the time from the first run's creation to the last run's
// end, both read from the server's timestamps, and the steady rate (see
// steadyRate).
func pushRuns(ctx context.Context, cl *cluster, name, infra string, n int) (overall, steady float64, err error) {
	dep, err := cl.deployment(ctx, name, infra)
	if err != nil {
		return 0, 0, err
	}
	err = parallel(ctx, throughputConcurrency, n, func(ctx context.Context, _ int) error {
		_, err := cl.c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: dep.GetId()})
		if err != nil {
			return fmt.Errorf("create run: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if err := waitFinished(ctx, cl.c, dep.GetId(), finishTimeout(n)); err != nil {
		return 0, 0, err
	}
	runs, err := listRuns(ctx, cl.c, dep.GetId())
	if err != nil {
		return 0, 0, err
	}
	if err := allCompleted(runs, n); err != nil {
		return 0, 0, err
	}
	first, last := span(runs)
	if !last.After(first) {
		return 0, 0, errors.New("the runs' timestamps do not span any time")
	}
	if cl.e.log.IsDebug() {
		cl.e.log.Debug("throughput timeline", timeline(runs, first)...)
	}
	return round2(float64(n) / last.Sub(first).Seconds()), steadyRate(runs), nil
}

// steadyRate is the rate at which runs ended between the 10th and the
// 90th percentile of their end times: the sustained rate, without the
// start (connections, first offers, the heap growing) and the tail (the
// last agents finishing). 0 with fewer than 10 runs.
func steadyRate(runs []*orionv1.FlowRun) float64 {
	if len(runs) < 10 {
		return 0
	}
	ends := sortedTimes(runs, endTime)
	lo, hi := len(ends)/10, len(ends)*9/10
	d := ends[hi].Sub(ends[lo])
	if d <= 0 {
		return 0
	}
	return round2(float64(hi-lo) / d.Seconds())
}

// timeline is log fields (seconds after first) of when the runs were
// created and ended, at a few percentiles: where a window's time went (a
// slow start, a straggler at the end).
func timeline(runs []*orionv1.FlowRun, first time.Time) []any {
	creates, ends := sortedTimes(runs, createTime), sortedTimes(runs, endTime)
	var out []any
	for _, q := range []int{0, 1, 10, 50, 90, 99, 100} {
		i := min(len(runs)-1, len(runs)*q/100)
		out = append(out, fmt.Sprintf("created_p%d_s", q), round2(creates[i].Sub(first).Seconds()),
			fmt.Sprintf("ended_p%d_s", q), round2(ends[i].Sub(first).Seconds()))
	}
	return out
}

// createTime and endTime are a finished run's creation and end.
func createTime(r *orionv1.FlowRun) time.Time { return r.GetCreateTime().AsTime() }
func endTime(r *orionv1.FlowRun) time.Time    { return r.GetState().GetTimestamp().AsTime() }

// sortedTimes is at(r) of every run, earliest first.
func sortedTimes(runs []*orionv1.FlowRun, at func(*orionv1.FlowRun) time.Time) []time.Time {
	out := make([]time.Time, len(runs))
	for i, r := range runs {
		out[i] = at(r)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// span returns the earliest creation and the latest end of runs.
func span(runs []*orionv1.FlowRun) (first, last time.Time) {
	for _, r := range runs {
		c, end := createTime(r), endTime(r)
		if first.IsZero() || c.Before(first) {
			first = c
		}
		if end.After(last) {
			last = end
		}
	}
	return first, last
}
