package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// TestUpdate_GroupCommitIsolatesFailures queues many requests behind one
// that holds the writer, so they commit as one group, and makes some of
// them fail after writing (an error, a panic, a cancelled caller): those
// leave no trace, every other one commits with its own consecutive modify
// index and sees the writes of the requests before it.
func TestUpdate_GroupCommitIsolatesFailures(t *testing.T) {
	s := newTest(t)
	ctx := context.Background()
	must(t, s.Update(ctx, func(tx store.Tx) error { return tx.PutAgent(&orionv1.Agent{Id: "counter"}) }))
	_, base := s.Changed()

	hold, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		must(t, s.Update(ctx, func(tx store.Tx) error {
			close(held)
			<-hold // the writer is busy: everything below queues up
			return nil
		}))
	})
	<-held

	const n = 40
	errBoom := errors.New("boom")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	results := make([]error, n)
	indexes := make([]uint64, n)
	for i := range n {
		wg.Go(func() {
			c := ctx
			if i%10 == 7 {
				c = cancelledAfterQueueing(cancelled)
			}
			results[i] = s.Update(c, func(tx store.Tx) error {
				a, err := tx.Agent("counter")
				if err != nil {
					return err
				}
				a.RunsInFlight++ // each committed request adds one, after the ones before it
				if err := tx.PutAgent(a); err != nil {
					return err
				}
				if err := tx.PutFlowRun(&orionv1.FlowRun{Id: fmt.Sprintf("r%02d", i), State: &orionv1.State{Type: orionv1.StateType_STATE_TYPE_SCHEDULED}, CreateTime: timestamppb.Now()}); err != nil {
					return err
				}
				indexes[i] = tx.Index()
				switch i % 10 {
				case 3:
					return errBoom
				case 5:
					panic("bad request")
				}
				return nil
			})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); len(s.writes) < n; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests queued", len(s.writes), n)
		}
	}
	close(hold)
	wg.Wait()

	var ok []uint64
	for i, err := range results {
		switch i % 10 {
		case 3:
			if !errors.Is(err, errBoom) {
				t.Errorf("request %d: %v, want its own error", i, err)
			}
		case 5:
			if err == nil || err.Error() != "store update panicked: bad request" {
				t.Errorf("request %d: %v, want the panic as an error", i, err)
			}
		case 7:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("request %d: %v, want context.Canceled", i, err)
			}
		default:
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			ok = append(ok, indexes[i])
		}
	}
	slices.Sort(ok)
	for k, idx := range ok {
		if want := base + 2 + uint64(k); idx != want { // +1: the holding request
			t.Fatalf("committed indexes %v, want consecutive from %d", ok, base+2)
		}
	}
	must(t, s.View(ctx, func(tx store.Tx) error {
		a, err := tx.Agent("counter")
		if err != nil {
			return err
		}
		if int(a.GetRunsInFlight()) != len(ok) {
			t.Errorf("counter %d, want %d (failed requests rolled back)", a.GetRunsInFlight(), len(ok))
		}
		for i := range n {
			_, err := tx.FlowRun(fmt.Sprintf("r%02d", i))
			if committed := results[i] == nil; committed != (err == nil) {
				t.Errorf("run r%02d: committed %v, stored: %v", i, committed, err)
			}
		}
		if tx.Index() != base+1+uint64(len(ok)) {
			t.Errorf("modify index %d, want %d", tx.Index(), base+1+uint64(len(ok)))
		}
		return nil
	}))
}

// cancelledAfterQueueing returns a context that is already cancelled: the
// Update must still be refused even though it was admitted earlier (the
// writer checks again before running it).
func cancelledAfterQueueing(ctx context.Context) context.Context { return &lateCancel{Context: ctx} }

// lateCancel reports no error on Update's first check and the parent's
// cancellation afterwards, as a caller giving up while queued would.
type lateCancel struct {
	context.Context
	mu     sync.Mutex
	checks int
}

func (c *lateCancel) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks++
	if c.checks == 1 {
		return nil
	}
	return c.Context.Err()
}

// TestUpdate_RollbackRestoresIndexEntries: a request of a group that moved
// a run to another state (index entries deleted and added without reading
// them first), appended a state and logs, then failed, leaves the run, its
// history and every index as they were; the request after it commits.
func TestUpdate_RollbackRestoresIndexEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orion.db")
	s := openTest(t, path, Options{})
	ctx := context.Background()
	run := &orionv1.FlowRun{Id: "moved", FlowName: "f", WorkQueueName: "q", DeploymentId: "d",
		State: &orionv1.State{Type: orionv1.StateType_STATE_TYPE_SCHEDULED}, CreateTime: timestamppb.Now()}
	must(t, s.Update(ctx, func(tx store.Tx) error { return tx.PutFlowRun(run) }))

	hold, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		must(t, s.Update(ctx, func(tx store.Tx) error { close(held); <-hold; return nil }))
	})
	<-held
	errBoom := errors.New("boom")
	var failed, next error
	wg.Go(func() {
		failed = s.Update(ctx, func(tx store.Tx) error {
			r, err := tx.FlowRun("moved")
			if err != nil {
				return err
			}
			r.State = &orionv1.State{Type: orionv1.StateType_STATE_TYPE_RUNNING}
			r.AgentId, r.LeaseEpoch = "a", 1
			if err := tx.PutFlowRun(r); err != nil {
				return err
			}
			if err := tx.AppendState("moved", r.GetState()); err != nil {
				return err
			}
			if _, err := tx.AppendLogs("moved", []*orionv1.Log{{Message: "x", Timestamp: timestamppb.Now()}}); err != nil {
				return err
			}
			return errBoom
		})
	})
	for deadline := time.Now().Add(10 * time.Second); len(s.writes) < 1; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("the failing request never queued")
		}
	}
	wg.Go(func() {
		next = s.Update(ctx, func(tx store.Tx) error { return tx.PutAgent(&orionv1.Agent{Id: "after"}) })
	})
	for deadline := time.Now().Add(10 * time.Second); len(s.writes) < 2; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("the second request never queued")
		}
	}
	close(hold)
	wg.Wait()
	if !errors.Is(failed, errBoom) || next != nil {
		t.Fatalf("failing request: %v; next: %v", failed, next)
	}
	must(t, s.View(ctx, func(tx store.Tx) error {
		r, err := tx.FlowRun("moved")
		if err != nil || r.GetState().GetType() != orionv1.StateType_STATE_TYPE_SCHEDULED || r.GetAgentId() != "" {
			t.Errorf("run after the rollback: %v %v", r, err)
		}
		if states, _ := tx.States("moved"); len(states) != 0 {
			t.Errorf("states after the rollback: %v", states)
		}
		if logs, _ := tx.Logs("moved", 0, 0, 0); len(logs) != 0 {
			t.Errorf("logs after the rollback: %v", logs)
		}
		_, err = tx.Agent("after")
		return err
	}))
	must(t, s.Close())
	checkFile(t, path)
}
