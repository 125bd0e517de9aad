package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

var benchT0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// benchRun is run i of a realistic mix: 10 flows, 100 deployments, five
// states, one tag in three, one idempotency key per run.
func benchRun(i int) *orionv1.FlowRun {
	states := []orionv1.StateType{
		orionv1.StateType_STATE_TYPE_SCHEDULED, orionv1.StateType_STATE_TYPE_PENDING,
		orionv1.StateType_STATE_TYPE_RUNNING, orionv1.StateType_STATE_TYPE_COMPLETED,
		orionv1.StateType_STATE_TYPE_FAILED,
	}
	at := timestamppb.New(benchT0.Add(time.Duration(i) * time.Second))
	r := &orionv1.FlowRun{
		Id:                     fmt.Sprintf("run-%08d", i),
		Name:                   fmt.Sprintf("clever-otter-%d", i),
		FlowId:                 fmt.Sprintf("flow-%d", i%10),
		FlowName:               fmt.Sprintf("flow-%d", i%10),
		DeploymentId:           fmt.Sprintf("dep-%03d", i%100),
		DeploymentName:         "daily",
		WorkQueueName:          "default",
		IdempotencyKey:         fmt.Sprintf("scheduled-%d", i),
		State:                  &orionv1.State{Id: fmt.Sprintf("state-%d", i), Type: states[i%len(states)], Name: "State", Timestamp: at},
		ExpectedStartTime:      at,
		NextScheduledStartTime: at,
		LeaseExpireTime:        at,
		CreateTime:             at,
		UpdateTime:             at,
	}
	if i%3 == 0 {
		r.Tags = []string{"nightly", "team-a"}
	}
	return r
}

func BenchmarkPutFlowRun(b *testing.B) {
	ctx := context.Background()
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("insert/nosync=%t", noSync), func(b *testing.B) {
			s := openTest(b, filepath.Join(b.TempDir(), "orion.db"), Options{NoSync: noSync})
			i := 0
			for b.Loop() {
				r := benchRun(i)
				i++
				if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutFlowRun(r) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Replacing a run moves its by-state entry: read, delete old keys, write.
	b.Run("state_change/nosync=true", func(b *testing.B) {
		s := openTest(b, filepath.Join(b.TempDir(), "orion.db"), Options{NoSync: true})
		fill(b, s, 10_000)
		i := 0
		for b.Loop() {
			id := fmt.Sprintf("run-%08d", i%10_000)
			i++
			err := s.Update(ctx, func(tx store.Tx) error {
				r, err := tx.FlowRun(id)
				if err != nil {
					return err
				}
				r.State.Type = orionv1.StateType_STATE_TYPE_RUNNING
				r.LeaseExpireTime = timestamppb.New(tx.Now())
				return tx.PutFlowRun(r)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkListFlowRunsPage(b *testing.B) {
	const n = 100_000
	s := openTest(b, filepath.Join(b.TempDir(), "orion.db"), Options{NoSync: true})
	fill(b, s, n)
	ctx := context.Background()

	var middle string // a cursor halfway down the listing
	if err := s.View(ctx, func(tx store.Tx) error {
		var err error
		_, middle, err = tx.ListFlowRuns(store.FlowRunFilter{Limit: n / 2})
		return err
	}); err != nil {
		b.Fatal(err)
	}

	for _, bc := range []struct {
		name string
		f    store.FlowRunFilter
	}{
		{"unfiltered", store.FlowRunFilter{}},
		{"flow_name", store.FlowRunFilter{FlowName: "flow-3"}},
		{"deployment", store.FlowRunFilter{DeploymentID: "dep-042"}},
		{"state_and_tag", store.FlowRunFilter{StateTypes: []orionv1.StateType{orionv1.StateType_STATE_TYPE_RUNNING}, Tags: []string{"nightly"}}},
		{"flow_name_after_cursor", store.FlowRunFilter{FlowName: "flow-3", After: middle}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := bc.f
			f.Limit = 50
			for b.Loop() {
				err := s.View(ctx, func(tx store.Tx) error {
					runs, _, err := tx.ListFlowRuns(f)
					if err == nil && len(runs) != 50 {
						err = fmt.Errorf("page of %d runs", len(runs))
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fill stores runs 0..n-1 in batches.
func fill(b *testing.B, s *Store, n int) {
	b.Helper()
	const batch = 5_000
	for lo := 0; lo < n; lo += batch {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			for i := lo; i < min(lo+batch, n); i++ {
				if err := tx.PutFlowRun(benchRun(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutFlowRun_Parallel inserts runs from many goroutines at once,
// fsync on, as concurrent API writes do: the group commit shares each
// commit's fsync among every request that queued meanwhile.
func BenchmarkPutFlowRun_Parallel(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, filepath.Join(b.TempDir(), "orion.db"), Options{})
	var next atomic.Int64
	b.SetParallelism(32) // 64 writers on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := benchRun(int(next.Add(1)))
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutFlowRun(r) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
