package validate_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/deployments"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
	"github.com/orion-run/orion/server/validate"
)

func seedDeployment() *orionv1.Deployment {
	params, _ := structpb.NewStruct(map[string]any{"name": "Marvin", "n": 3.0, "l": []any{1.0, map[string]any{"x": "y"}}})
	schema, _ := structpb.NewStruct(map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{}, "n": map[string]any{}, "l": map[string]any{}}})
	return &orionv1.Deployment{
		Name: "daily", FlowName: "etl", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"echo", "hi"},
		Parameters: params, ParameterSchema: schema, Tags: []string{"a", "b"}, WorkQueueName: "q",
		Retries: 2, RetryDelay: durationpb.New(1e9),
		Schedule:       &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "0 9 * * *", Timezone: "Europe/London"}}},
		Infrastructure: &orionv1.Infrastructure{Type: "subprocess", Env: map[string]string{"A": "b"}},
	}
}

// FuzzCreateDeployment decodes arbitrary bytes as a CreateDeployment
// request and runs it through the server's whole write path (validate,
// then deployments.Upsert in a real bbolt store) twice, as a retry would:
// nothing panics, errors are one line, a refused request leaves the store
// untouched, and the file passes Verify (pages and every index) afterwards.
func FuzzCreateDeployment(f *testing.F) {
	seed, _ := proto.Marshal(&orionv1.CreateDeploymentRequest{Deployment: seedDeployment()})
	f.Add(seed)
	py := seedDeployment()
	py.FlowKind, py.Command, py.FlowLocation = orionv1.FlowKind_FLOW_KIND_PYTHON, nil, "/x/flow.py"
	py.Schedule = &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(3600e9)}}}
	seed, _ = proto.Marshal(&orionv1.CreateDeploymentRequest{Deployment: py})
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var req orionv1.CreateDeploymentRequest
		if proto.Unmarshal(data, &req) != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "orion.db")
		st, err := bolt.Open(path, bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for attempt := 0; attempt < 2; attempt++ {
			err := validate.Deployment(req.GetDeployment())
			if err == nil {
				err = st.Update(ctx, func(tx store.Tx) error {
					_, _, err := deployments.Upsert(tx, req.GetDeployment())
					return err
				})
			}
			if err != nil {
				if !errors.Is(err, store.ErrInvalid) && !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("bad input must be InvalidArgument or NotFound, got %v", err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error not one line: %q", err)
				}
				var n int
				_ = st.View(ctx, func(tx store.Tx) error {
					ds, _ := tx.ListDeployments(store.DeploymentFilter{Limit: 10})
					n = len(ds)
					return nil
				})
				if n != 0 {
					t.Fatalf("a refused request stored %d deployments", n)
				}
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := bolt.Verify(path); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzRequests runs the other request validators over arbitrary requests:
// no panic, one-line errors.
func FuzzRequests(f *testing.F) {
	add := func(kind uint8, m proto.Message) {
		b, _ := proto.Marshal(m)
		f.Add(kind, b)
	}
	params, _ := structpb.NewStruct(map[string]any{"x": 1.0})
	add(0, &orionv1.CreateFlowRunRequest{FlowName: "f", Parameters: params, Tags: []string{"t"}, State: &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_RUNNING}})
	add(1, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: "d", IdempotencyKey: "k"})
	add(2, &orionv1.CreateLogsRequest{Logs: []*orionv1.Log{{FlowRunId: "r", Message: "m"}}})
	add(3, &agentv1.RegisterAgentRequest{Name: "a", WorkQueues: []string{"default"}})
	add(4, &orionv1.WorkQueue{Name: "q", Tags: []string{"t"}})
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		var err error
		switch kind % 5 {
		case 0:
			var m orionv1.CreateFlowRunRequest
			if proto.Unmarshal(data, &m) != nil {
				return
			}
			err = validate.CreateFlowRun(&m)
		case 1:
			var m orionv1.CreateDeploymentFlowRunRequest
			if proto.Unmarshal(data, &m) != nil {
				return
			}
			err = validate.CreateDeploymentFlowRun(&m)
		case 2:
			var m orionv1.CreateLogsRequest
			if proto.Unmarshal(data, &m) != nil {
				return
			}
			err = validate.Logs(m.GetLogs())
		case 3:
			var m agentv1.RegisterAgentRequest
			if proto.Unmarshal(data, &m) != nil {
				return
			}
			err = validate.RegisterAgent(&m)
		case 4:
			var m orionv1.WorkQueue
			if proto.Unmarshal(data, &m) != nil {
				return
			}
			err = validate.WorkQueue(&m)
		}
		if err != nil && (!errors.Is(err, store.ErrInvalid) || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("want a one-line InvalidArgument error, got %q", err)
		}
	})
}
