package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/client"
)

// scheduleOnTime is how far after its scheduled time a run may start and
// still count as on time (the agent is pushed the run at its time).
const scheduleOnTime = 2 * time.Second

// TestEndToEnd_IntervalSchedule creates a YAML deployment with a 1-second
// interval schedule and checks that the server's scheduler creates its runs
// and a real agent executes at least three of them on time, with no two
// runs at the same scheduled time; pausing the schedule removes the runs
// that have not started.
func TestEndToEnd_IntervalSchedule(t *testing.T) {
	e := newEnv(t)
	e.startServer()
	e.startAgent("--work-queue", "default")
	c, err := client.Dial(e.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	spec := filepath.Join(t.TempDir(), "ticker.yaml")
	yaml := "- name: every-second\n  flow_name: e2e-ticker\n  command: [\"true\"]\n  schedule:\n    interval: 1\n"
	if err := os.WriteFile(spec, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustRun("deployment", "create", spec)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	dep, err := c.Deployments.GetDeploymentByName(ctx, &orionv1.GetDeploymentByNameRequest{FlowName: "e2e-ticker", DeploymentName: "every-second"})
	if err != nil {
		t.Fatal(err)
	}
	depID := dep.GetDeployment().GetId()
	listRuns := func() []*orionv1.FlowRun {
		resp, err := c.FlowRuns.ListFlowRuns(ctx, &orionv1.ListFlowRunsRequest{DeploymentId: depID, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetFlowRuns()
	}

	// Wait (polling the server: a run's state has no event to wait on here)
	// until three completed runs started on time.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	var onTime []*orionv1.FlowRun
	for len(onTime) < 3 {
		onTime = onTime[:0]
		for _, r := range listRuns() {
			if r.GetState().GetType() != orionv1.StateType_STATE_TYPE_COMPLETED || !r.GetAutoScheduled() {
				continue
			}
			late := r.GetStartTime().AsTime().Sub(r.GetExpectedStartTime().AsTime())
			if late > -time.Second && late <= scheduleOnTime {
				onTime = append(onTime, r)
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("only %d runs completed on time within 30s; runs: %v", len(onTime), listRuns())
		}
	}

	runs := listRuns()
	seen := map[time.Time]bool{}
	for _, r := range runs {
		at := r.GetExpectedStartTime().AsTime()
		if seen[at] {
			t.Fatalf("two runs scheduled at %s", at)
		}
		seen[at] = true
		if !slices.Contains(r.GetTags(), "auto-scheduled") {
			t.Fatalf("run %s lacks the auto-scheduled tag: %v", r.GetId(), r.GetTags())
		}
	}

	// Pausing removes the runs that have not started, in the same
	// transaction; the scheduler creates no new ones.
	e.mustRun("deployment", "pause-schedule", "e2e-ticker/every-second")
	for _, r := range listRuns() {
		if r.GetState().GetType() == orionv1.StateType_STATE_TYPE_SCHEDULED {
			t.Fatalf("run %s is still SCHEDULED after pause", r.GetId())
		}
	}
}
