package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

type recordingObserver struct {
	mu      sync.Mutex
	commits int
	changes []StateChange
}

func (o *recordingObserver) Committed(_ time.Duration, changes []StateChange) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.commits++
	o.changes = append(o.changes, changes...)
}

func TestObserver_ReportsCommittedStateChangesOnly(t *testing.T) {
	obs := &recordingObserver{}
	s := openTest(t, filepath.Join(t.TempDir(), "orion.db"), Options{Observer: obs})
	ctx := context.Background()
	run := &orionv1.FlowRun{Id: "r1", FlowId: "f1", CreateTime: timestamppb.Now(),
		State: &orionv1.State{Id: "s1", Type: orionv1.StateType_STATE_TYPE_SCHEDULED}}
	put := func(r *orionv1.FlowRun, fail bool) {
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.PutFlowRun(r); err != nil {
				return err
			}
			if fail {
				return errors.New("roll back")
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatalf("update: %v", err)
		}
	}
	put(run, false)
	run.State = &orionv1.State{Id: "s2", Type: orionv1.StateType_STATE_TYPE_PENDING}
	put(run, true) // rolled back: not reported
	put(run, false)
	run.Tags = []string{"x"} // same state: not a change
	put(run, false)

	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []StateChange{
		{From: orionv1.StateType_STATE_TYPE_UNSPECIFIED, To: orionv1.StateType_STATE_TYPE_SCHEDULED},
		{From: orionv1.StateType_STATE_TYPE_SCHEDULED, To: orionv1.StateType_STATE_TYPE_PENDING},
	}
	if obs.commits != 3 || len(obs.changes) != len(want) {
		t.Fatalf("commits=%d changes=%v", obs.commits, obs.changes)
	}
	for i := range want {
		if obs.changes[i] != want[i] {
			t.Fatalf("change %d = %v, want %v", i, obs.changes[i], want[i])
		}
	}
	if s.Size() <= 0 {
		t.Fatal("size not reported")
	}
}
