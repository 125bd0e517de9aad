package bench

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// startupRepeats is how many times each startup figure is taken; the
// median is reported.
const startupRepeats = 5

// startupSeedRuns is how many runs the store holds when the server is
// restarted.
const startupSeedRuns = 1000

// runStartup measures `orion deployment create examples/hello/flow.py` as
// a whole process (the first of the repeats also unpacks the Python runtime
// into the CLI's fresh home), then the server's start on the existing store
// (the deployment and startupSeedRuns runs): from the process start to the
// first 200 of GET /api/health. Both are medians of startupRepeats.
func runStartup(ctx context.Context, e *env, r *Result) error {
	if err := pythonAvailable(); err != nil {
		return err
	}
	home, err := e.mkdir("server-home")
	if err != nil {
		return err
	}
	cliHome, err := e.mkdir("cli-home")
	if err != nil {
		return err
	}
	flow, err := helloFlowPath(e.opts.Binary, cliHome)
	if err != nil {
		return err
	}
	e.log.Info("hello-world flow", "path", flow)
	srv, url, _, err := e.startServer(ctx, "server-first", home)
	if err != nil {
		return err
	}
	var creates []time.Duration
	for range startupRepeats {
		took, err := e.deploymentCreate(ctx, url, cliHome, flow)
		if err != nil {
			return err
		}
		creates = append(creates, took)
	}
	r.DeploymentCreateMs = ptr(ms(median(creates)))
	if err := seedRuns(ctx, url, startupSeedRuns); err != nil {
		return err
	}
	e.stop(srv)

	var starts []time.Duration
	for i := range startupRepeats {
		srv, _, took, err := e.startServer(ctx, fmt.Sprintf("server-restart-%d", i), home)
		if err != nil {
			return err
		}
		starts = append(starts, took)
		e.stop(srv)
	}
	r.ServerStartMs = ptr(ms(median(starts)))
	return nil
}

// seedRuns creates n runs of the hello-world deployment, due in an hour.
func seedRuns(ctx context.Context, url string, n int) error {
	c, err := client.Dial(url, client.WithToken(""))
	if err != nil {
		return err
	}
	defer c.Close()
	dep, err := c.Deployments.GetDeploymentByName(ctx, &orionv1.GetDeploymentByNameRequest{FlowName: helloFlowName, DeploymentName: helloDeploymentName})
	if err != nil {
		return fmt.Errorf("get the hello-world deployment: %w", err)
	}
	later := timestamppb.New(time.Now().Add(time.Hour))
	return parallel(ctx, writeConcurrency, n, func(ctx context.Context, _ int) error {
		_, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{
			DeploymentId: dep.GetDeployment().GetId(), ScheduledTime: later,
		})
		if err != nil {
			return fmt.Errorf("seed runs: %w", err)
		}
		return nil
	})
}
