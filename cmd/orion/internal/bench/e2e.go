package bench

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
)

// runE2E measures the hello-world flow end to end: the deployment is
// created from examples/hello/flow.py with `orion deployment create`, then
// runs are requested one at a time (CreateDeploymentFlowRun with
// name=Marvin) and each is timed on the bench's clock from just before the
// request to the WatchFlowRun update that shows it COMPLETED. An agent
// runs each in a real Python subprocess. One warm-up run is not recorded
// (it unpacks the Python runtime into the agents' home).
func runE2E(ctx context.Context, e *env, r *Result) error {
	if err := pythonAvailable(); err != nil {
		return err
	}
	cl, err := e.newCluster(ctx, e.opts.Agents)
	if err != nil {
		return err
	}
	defer cl.close()
	cliHome, err := e.mkdir("cli-home")
	if err != nil {
		return err
	}
	flow, err := helloFlowPath(e.opts.Binary, cliHome)
	if err != nil {
		return err
	}
	if _, err := e.deploymentCreate(ctx, cl.url, cliHome, flow); err != nil {
		return err
	}
	dep, err := cl.c.Deployments.GetDeploymentByName(ctx, &orionv1.GetDeploymentByNameRequest{FlowName: helloFlowName, DeploymentName: helloDeploymentName})
	if err != nil {
		return fmt.Errorf("get the hello-world deployment: %w", err)
	}
	params, _ := structpb.NewStruct(map[string]any{"name": "Marvin"})
	req := &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: dep.GetDeployment().GetId(), Parameters: params}
	n := e.opts.e2eRuns()
	var samples []time.Duration
	for i := range n + 1 {
		took, err := helloRun(ctx, cl, req)
		if err != nil {
			return err
		}
		if i > 0 {
			samples = append(samples, took)
		}
	}
	l := latencyOf(samples)
	r.HelloWorldE2EMs = &Quantiles{P50: l.P50, P99: l.P99}
	return nil
}

// helloRun requests one run and waits for it to end; it fails unless the
// run COMPLETED.
func helloRun(ctx context.Context, cl *cluster, req *orionv1.CreateDeploymentFlowRunRequest) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	begin := time.Now()
	resp, err := cl.c.Deployments.CreateDeploymentFlowRun(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("run hello-world: %w", err)
	}
	id := resp.GetFlowRun().GetId()
	w, err := cl.c.FlowRuns.WatchFlowRun(ctx, &orionv1.WatchFlowRunRequest{Id: id})
	if err != nil {
		return 0, fmt.Errorf("watch run %s: %w", id, err)
	}
	for {
		m, err := w.Recv()
		if err != nil {
			return 0, fmt.Errorf("watch run %s: %w", id, err)
		}
		s := m.GetFlowRun().GetState()
		if !orchestration.IsTerminal(s.GetType()) {
			continue
		}
		took := time.Since(begin)
		if s.GetType() != orchestration.Completed {
			return 0, fmt.Errorf("hello-world run %s ended %s: %s", id, s.GetName(), s.GetMessage())
		}
		return took, nil
	}
}
