package bench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// dispatchLead is how long before its scheduled time each run of the
// dispatch phase is created.
const dispatchLead = time.Second

// runDispatch measures dispatch latency at a steady DispatchRate due runs
// per second across the agents. Run i is created dispatchLead before it is
// due, at start + i/rate, so runs fall due at the steady rate while new
// ones keep being created. The latency of a run is its PENDING state's
// timestamp (the claim transaction's time, on the server's clock) minus
// the moment it became due: its scheduled time, or its creation time if
// the create arrived late. The deployment uses noop infrastructure, so
// the agents do nothing else.
func runDispatch(ctx context.Context, e *env, r *Result) error {
	cl, err := e.newCluster(ctx, e.opts.Agents)
	if err != nil {
		return err
	}
	defer cl.close()
	dep, err := cl.deployment(ctx, "dispatch", "noop")
	if err != nil {
		return err
	}
	n := int(float64(e.opts.DispatchRate) * e.opts.Duration.Seconds())
	interval := time.Second / time.Duration(e.opts.DispatchRate)
	start := time.Now().Add(dispatchLead + 100*time.Millisecond)

	ids := make([]string, n)
	errc := make(chan error, 1)
	sem := make(chan struct{}, writeConcurrency)
	var wg sync.WaitGroup
create:
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if !waitUntil(ctx, due.Add(-dispatchLead)) {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break create
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, err := cl.c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{
				DeploymentId: dep.GetId(), ScheduledTime: timestamppb.New(due),
			})
			if err != nil {
				select {
				case errc <- fmt.Errorf("create run: %w", err):
				default:
				}
				return
			}
			ids[i] = resp.GetFlowRun().GetId()
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := waitFinished(ctx, cl.c, dep.GetId(), finishTimeout(n)); err != nil {
		return err
	}
	samples := make([]time.Duration, n)
	err = parallel(ctx, readConcurrency, n, func(ctx context.Context, i int) error {
		run, err := cl.c.FlowRuns.GetFlowRun(ctx, &orionv1.GetFlowRunRequest{Id: ids[i]})
		if err != nil {
			return fmt.Errorf("get run: %w", err)
		}
		states, err := cl.c.FlowRuns.ListFlowRunStates(ctx, &orionv1.ListFlowRunStatesRequest{FlowRunId: ids[i]})
		if err != nil {
			return fmt.Errorf("list states: %w", err)
		}
		samples[i], err = dueToClaim(run.GetFlowRun(), states.GetStates())
		return err
	})
	if err != nil {
		return err
	}
	logSlowest(e, samples, interval)
	r.DispatchLatencyMs = latencyOf(samples)
	return nil
}

// dueToClaim is the time from the moment run became due to its first
// PENDING state.
func dueToClaim(run *orionv1.FlowRun, states []*orionv1.State) (time.Duration, error) {
	var due, pending time.Time
	for _, s := range states {
		switch s.GetType() {
		case orionv1.StateType_STATE_TYPE_SCHEDULED:
			if due.IsZero() && s.GetScheduledTime() != nil {
				due = s.GetScheduledTime().AsTime()
			}
		case orionv1.StateType_STATE_TYPE_PENDING:
			if pending.IsZero() {
				pending = s.GetTimestamp().AsTime()
			}
		}
	}
	if due.IsZero() || pending.IsZero() {
		return 0, fmt.Errorf("run %s has no scheduled or no pending state in its history", run.GetId())
	}
	if created := run.GetCreateTime().AsTime(); created.After(due) {
		due = created
	}
	return max(0, pending.Sub(due)), nil
}

// waitUntil waits until t; false when ctx ended first.
func waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// logSlowest logs, at debug level, when the five slowest runs fell due
// (seconds into the phase), to tell a warm-up from a hiccup.
func logSlowest(e *env, samples []time.Duration, interval time.Duration) {
	idx := make([]int, len(samples))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(samples[b], samples[a]) })
	for _, i := range idx[:min(5, len(idx))] {
		e.log.Debug("slow dispatch", "due_after_s", (time.Duration(i) * interval).Seconds(), "latency_ms", ms(samples[i]))
	}
}
