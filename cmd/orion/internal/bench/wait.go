package bench

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// unfinished are the state types of a run that has not ended.
var unfinished = []orionv1.StateType{
	orionv1.StateType_STATE_TYPE_SCHEDULED, orionv1.StateType_STATE_TYPE_PENDING,
	orionv1.StateType_STATE_TYPE_RUNNING, orionv1.StateType_STATE_TYPE_CANCELLING,
	orionv1.StateType_STATE_TYPE_PAUSED,
}

// checkGap is the least time between two checks of waitFinished: the
// blocking query returns after every commit, which under load is thousands
// of times a second, and the bench must not add that much load itself.
const checkGap = 50 * time.Millisecond

// waitFinished blocks until no run of the deployment is unfinished, or
// timeout passes. It waits on ListFlowRuns blocking queries (wait_index),
// at most one per checkGap. Only when the wait ends is the time of the
// last run's end known, from the server's timestamps; the wait itself is
// not part of any figure.
func waitFinished(ctx context.Context, c *client.Client, deploymentID string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var index uint64
	for {
		begin := time.Now()
		wctx, cancel := context.WithDeadline(ctx, deadline)
		resp, err := c.FlowRuns.ListFlowRuns(wctx, &orionv1.ListFlowRunsRequest{
			DeploymentId: deploymentID, StateTypes: unfinished, PageSize: 1, WaitIndex: index,
		})
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case client.Code(err) == codes.DeadlineExceeded || (err == nil && time.Now().After(deadline)):
			return fmt.Errorf("runs still unfinished after %s", timeout)
		case err != nil:
			return fmt.Errorf("list unfinished runs: %w", err)
		case len(resp.GetFlowRuns()) == 0:
			return nil
		}
		index = resp.GetIndex()
		if rest := checkGap - time.Since(begin); rest > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(rest):
			}
		}
	}
}

// listRuns returns every run of the deployment.
func listRuns(ctx context.Context, c *client.Client, deploymentID string) ([]*orionv1.FlowRun, error) {
	var out []*orionv1.FlowRun
	token := ""
	for {
		resp, err := c.FlowRuns.ListFlowRuns(ctx, &orionv1.ListFlowRunsRequest{DeploymentId: deploymentID, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, resp.GetFlowRuns()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// allCompleted fails unless every run ended COMPLETED.
func allCompleted(runs []*orionv1.FlowRun, want int) error {
	if len(runs) != want {
		return fmt.Errorf("%d runs stored, %d created", len(runs), want)
	}
	for _, r := range runs {
		if s := r.GetState(); s.GetType() != orionv1.StateType_STATE_TYPE_COMPLETED {
			return fmt.Errorf("run %s ended %s: %s", r.GetId(), s.GetName(), s.GetMessage())
		}
	}
	return nil
}

// finishTimeout bounds waitFinished for n runs: two minutes plus 50 ms a
// run (a throughput of 20 runs/s), far beyond any healthy figure.
func finishTimeout(n int) time.Duration {
	return 2*time.Minute + time.Duration(n)*50*time.Millisecond
}
