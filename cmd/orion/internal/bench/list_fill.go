package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
)

// The list phase's store: listFlows flows, listDeployments deployments
// (spread evenly over the flows), runs spread evenly over the deployments
// and over the last 30 days.
const (
	listFlows       = 10
	listDeployments = 100
	fillBatch       = 50_000
)

// fillStore writes n finished runs straight into a new store at path
// through server/store/bolt, in large transactions without fsync, the way
// a server would have stored them: each run with its final state in the
// history and every index entry. The file is synced at the end, so that
// the server started on it does not pay for flushing the fill (its first
// commit would). It returns the deployments' ids.
func fillStore(ctx context.Context, path string, n int) ([]string, error) {
	ids, err := fill(ctx, path, n)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync the list store: %w", err)
	}
	return ids, nil
}

func fill(ctx context.Context, path string, n int) ([]string, error) {
	st, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	deps := make([]*orionv1.Deployment, listDeployments)
	err = st.Update(ctx, func(tx store.Tx) error {
		for i := range deps {
			d, _, err := deployments.Upsert(tx, &orionv1.Deployment{
				Name: fmt.Sprintf("deployment-%03d", i), FlowName: fmt.Sprintf("flow-%d", i%listFlows),
				FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"},
			})
			if err != nil {
				return err
			}
			deps[i] = d
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create deployments: %w", err)
	}
	flows := map[string]string{}
	err = st.View(ctx, func(tx store.Tx) error {
		for _, d := range deps {
			f, err := tx.FlowByName(d.GetFlowName())
			if err != nil {
				return err
			}
			flows[d.GetFlowName()] = f.GetId()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	end := time.Now().Add(-time.Minute)
	step := 30 * 24 * time.Hour / time.Duration(n)
	for lo := 0; lo < n; lo += fillBatch {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < min(lo+fillBatch, n); i++ {
				d := deps[i%listDeployments]
				created := end.Add(-time.Duration(n-i) * step)
				run, state := finishedRun(i, d, flows[d.GetFlowName()], created)
				if err := tx.PutFlowRun(run); err != nil {
					return err
				}
				if err := tx.AppendState(run.GetId(), state); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("store runs: %w", err)
		}
	}
	ids := make([]string, len(deps))
	for i, d := range deps {
		ids[i] = d.GetId()
	}
	return ids, nil
}

// finishedRun is run i of deployment d, created at created and finished
// five seconds later: 85% COMPLETED, 10% FAILED, 3% CANCELLED, 2% CRASHED
// in every deployment and flow; one in three tagged "nightly".
func finishedRun(i int, d *orionv1.Deployment, flowID string, created time.Time) (*orionv1.FlowRun, *orionv1.State) {
	typ, name := orionv1.StateType_STATE_TYPE_COMPLETED, "Completed"
	// The state is drawn from a hash of i, so that it depends neither on
	// the deployment (i % listDeployments) nor on the time (failures are
	// not bunched together).
	switch pct := (uint64(i) * 0x9E3779B97F4A7C15 >> 32) % 100; {
	case pct < 10:
		typ, name = orionv1.StateType_STATE_TYPE_FAILED, "Failed"
	case pct < 13:
		typ, name = orionv1.StateType_STATE_TYPE_CANCELLED, "Cancelled"
	case pct < 15:
		typ, name = orionv1.StateType_STATE_TYPE_CRASHED, "Crashed"
	}
	start, finish := created.Add(time.Second), created.Add(5*time.Second)
	state := &orionv1.State{Id: uuid.NewString(), Type: typ, Name: name, Timestamp: timestamppb.New(finish)}
	params, _ := structpb.NewStruct(map[string]any{"name": fmt.Sprintf("user-%d", i%1000)})
	run := &orionv1.FlowRun{
		Id: uuid.NewString(), Name: fmt.Sprintf("bench-run-%d", i),
		FlowId: flowID, FlowName: d.GetFlowName(), DeploymentId: d.GetId(), DeploymentName: d.GetName(),
		WorkQueueName: d.GetWorkQueueName(), Parameters: params, State: state, RunCount: 1,
		ExpectedStartTime: timestamppb.New(created), NextScheduledStartTime: timestamppb.New(created),
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(finish), TotalRunTime: durationpb.New(4 * time.Second),
		Infrastructure: &orionv1.Infrastructure{Type: "subprocess"}, InfrastructurePid: fmt.Sprint(10000 + i%50000),
		CreateTime: timestamppb.New(created), UpdateTime: timestamppb.New(finish),
	}
	if i%3 == 0 {
		run.Tags = []string{"nightly", "team-a"}
	}
	return run, state
}
