package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/client"
)

// interruptBound is how long Execute keeps trying to report the final state
// after its ctx was cancelled.
const interruptBound = 30 * time.Second

// Execute runs one flow run in the foreground, without an agent or a lease
// (`orion deployment execute`). The caller created run in PENDING. Execute
// proposes RUNNING through the public API, runs the flow exactly as an
// agent would (same environment, working directory and logs), copies every
// output line to out as well (nil: only logs), proposes the final state and
// returns the run as the server has it afterwards.
//
// Cancelling ctx stops the flow (SIGTERM, then SIGKILL) and reports CRASHED
// "Execution was interrupted"; cancelling the run on the server stops it and
// reports CANCELLED. The error is non-nil when the flow could not be run
// (the server did not accept RUNNING) or its final state was not delivered;
// a flow that failed is not an error: see the returned run's state.
func Execute(ctx context.Context, c *client.Client, home string, dep *orionv1.Deployment, run *orionv1.FlowRun, out io.Writer, logger hclog.Logger) (*orionv1.FlowRun, error) {
	if c == nil || run.GetId() == "" {
		return nil, errors.New("execute: a client and a flow run are required")
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if home == "" {
		home = client.Home()
	}
	log := logger.Named("agent").With("flow_run_id", run.GetId())
	e := &executor{
		client:    c,
		home:      home,
		apiURL:    c.URL(),
		baseEnv:   os.Environ(),
		runners:   DefaultRunners(),
		clock:     time.Now,
		after:     time.After,
		stopGrace: DefaultStopGrace,
	}

	// The execution outlives ctx by at most interruptBound, so an
	// interrupted run can still be reported.
	execCtx, cancelExec := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelExec()
	stop := newStopper()
	finished := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		watchCancellation(execCtx, c, run.GetId(), stop, log)
	}()
	go func() {
		select {
		case <-ctx.Done():
			stop.stop(stopInterrupt, "")
		case <-finished:
			return
		}
		select {
		case <-time.After(interruptBound):
			cancelExec()
		case <-finished:
		}
	}()

	o := e.execute(execCtx, &job{
		run:    run,
		dep:    dep,
		epoch:  run.GetLeaseEpoch(),
		rep:    &directReporter{flowRuns: c.FlowRuns, flowRunID: run.GetId()},
		stop:   stop,
		echo:   out,
		logger: log,
	})
	close(finished)
	cancelExec()
	<-watchDone

	final := o.run
	if final == nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rpcTimeout)
		resp, err := c.FlowRuns.GetFlowRun(rctx, &orionv1.GetFlowRunRequest{Id: run.GetId()})
		cancel()
		if err == nil {
			final = resp.GetFlowRun()
		}
	}
	if o.err != nil {
		return final, fmt.Errorf("execute flow run %s: %w", run.GetId(), o.err)
	}
	return final, nil
}

// watchCancellation stops the job when the run is cancelled on the server
// (a foreground run has no agent to receive the cancel request). It is best
// effort and returns when ctx is done or the watch ends.
func watchCancellation(ctx context.Context, c *client.Client, id string, stop *stopper, log hclog.Logger) {
	stream, err := c.FlowRuns.WatchFlowRun(ctx, &orionv1.WatchFlowRunRequest{Id: id})
	if err != nil {
		log.Debug("cannot watch the run for cancellation", "error", err)
		return
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			if ctx.Err() == nil {
				log.Debug("watch for cancellation ended", "error", err)
			}
			return
		}
		switch resp.GetFlowRun().GetState().GetType() {
		case orionv1.StateType_STATE_TYPE_CANCELLING, orionv1.StateType_STATE_TYPE_CANCELLED:
			log.Info("flow run cancelled on the server; stopping it")
			stop.stop(stopCancel, resp.GetFlowRun().GetState().GetMessage())
			return
		}
	}
}
