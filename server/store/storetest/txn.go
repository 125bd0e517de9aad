package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

var errBoom = errors.New("boom")

// txIndex returns Tx.Index as seen by a read transaction.
func txIndex(t *testing.T, s store.Store) uint64 {
	t.Helper()
	var i uint64
	view(t, s, func(tx store.Tx) error { i = tx.Index(); return nil })
	return i
}

func testModifyIndex(t *testing.T, s store.Store) {
	_, i0 := s.Changed()
	if got := txIndex(t, s); got != i0 {
		t.Fatalf("View index %d, Changed index %d", got, i0)
	}

	var in uint64
	update(t, s, func(tx store.Tx) error { in = tx.Index(); return nil })
	if in != i0+1 {
		t.Fatalf("first Update index %d, want %d", in, i0+1)
	}

	// Several writes in one transaction share one index.
	a, b := newRun("a", 0), newRun("b", 0)
	update(t, s, func(tx store.Tx) error {
		in = tx.Index()
		must(t, tx.PutFlowRun(a))
		must(t, tx.PutFlow(&orionv1.Flow{Id: "f", Name: "f"}))
		must(t, tx.PutFlowRun(b))
		if tx.Index() != in {
			t.Errorf("Index changed within a transaction: %d then %d", in, tx.Index())
		}
		return nil
	})
	if in != i0+2 || a.GetModifyIndex() != in || b.GetModifyIndex() != in {
		t.Fatalf("index %d, runs stamped %d and %d, want all %d", in, a.GetModifyIndex(), b.GetModifyIndex(), i0+2)
	}
	if got := txIndex(t, s); got != i0+2 {
		t.Fatalf("View index %d after two commits, want %d", got, i0+2)
	}

	// A rolled-back transaction does not consume an index.
	err := s.Update(context.Background(), func(tx store.Tx) error {
		must(t, tx.PutFlowRun(newRun("c", 0)))
		return errBoom
	})
	wantErr(t, err, errBoom)
	if got := txIndex(t, s); got != i0+2 {
		t.Fatalf("View index %d after a rollback, want %d", got, i0+2)
	}
	update(t, s, func(tx store.Tx) error { in = tx.Index(); return nil })
	if in != i0+3 {
		t.Fatalf("Update index %d after a rollback, want %d", in, i0+3)
	}
	if _, got := s.Changed(); got != i0+3 {
		t.Fatalf("Changed index %d, want %d", got, i0+3)
	}
	view(t, s, func(tx store.Tx) error {
		r, err := tx.FlowRun("a")
		must(t, err)
		if r.GetModifyIndex() != i0+2 {
			t.Errorf("stored run ModifyIndex %d, want %d", r.GetModifyIndex(), i0+2)
		}
		return nil
	})
}

func testRollback(t *testing.T, s store.Store) {
	ch, i0 := s.Changed()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		r := newRun("r1", 0)
		r.DeploymentId, r.IdempotencyKey = "d1", "k"
		must(t, tx.PutFlow(&orionv1.Flow{Id: "f1", Name: "etl"}))
		must(t, tx.PutDeployment(&orionv1.Deployment{Id: "d1", Name: "daily", FlowName: "etl"}))
		must(t, tx.PutFlowRun(r))
		must(t, tx.AppendState("r1", r.GetState()))
		_, err := tx.AppendLogs("r1", []*orionv1.Log{{Message: "x"}})
		must(t, err)
		must(t, tx.PutTransition("r1", "t1", &orionv1.OrchestrationResult{}))
		must(t, tx.PutWorkQueue(&orionv1.WorkQueue{Id: "q1", Name: "default"}))
		must(t, tx.PutAgent(&orionv1.Agent{Id: "a1"}))
		must(t, tx.PutFlowSource(&store.FlowSource{Digest: "sha256:x", Text: "x"}))
		return errBoom
	})
	wantErr(t, err, errBoom)

	view(t, s, func(tx store.Tx) error {
		for name, err := range map[string]error{
			"flow":               second(tx.Flow("f1")),
			"flow by name":       second(tx.FlowByName("etl")),
			"deployment":         second(tx.Deployment("d1")),
			"deployment by name": second(tx.DeploymentByName("etl", "daily")),
			"flow run":           second(tx.FlowRun("r1")),
			"run by idempotency": second(tx.FlowRunByIdempotencyKey("flow-etl", "k")),
			"transition":         second(tx.Transition("r1", "t1")),
			"work queue":         second(tx.WorkQueue("q1")),
			"work queue by name": second(tx.WorkQueueByName("default")),
			"agent":              second(tx.Agent("a1")),
			"flow source":        second(tx.FlowSource("sha256:x")),
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s after rollback: %v, want ErrNotFound", name, err)
			}
		}
		must(t, tx.RunsByState(scheduled, t0.Add(time.Hour), func(r *orionv1.FlowRun) bool {
			t.Errorf("RunsByState visited rolled-back run %s", r.GetId())
			return true
		}))
		states, err := tx.States("r1")
		must(t, err)
		last, err := tx.LastLogSeq("r1")
		must(t, err)
		runs, _, err := tx.ListFlowRuns(store.FlowRunFilter{})
		must(t, err)
		if len(states) != 0 || last != 0 || len(runs) != 0 {
			t.Errorf("after rollback: %d states, last log seq %d, %d listed runs", len(states), last, len(runs))
		}
		return nil
	})
	if got := txIndex(t, s); got != i0 {
		t.Errorf("index %d after rollback, want %d", got, i0)
	}
	select {
	case <-ch:
		t.Error("Changed channel closed by a rolled-back transaction")
	default:
	}
}

// second returns the error of a (value, error) pair.
func second[T any](_ T, err error) error { return err }

func testChanged(t *testing.T, s store.Store) {
	ch, i0 := s.Changed()
	select {
	case <-ch:
		t.Fatal("Changed channel closed before any commit")
	default:
	}
	woke := make(chan struct{})
	go func() {
		defer close(woke)
		<-ch
	}()

	view(t, s, func(store.Tx) error { return nil })
	select {
	case <-ch:
		t.Fatal("Changed channel closed by a read transaction")
	default:
	}

	update(t, s, func(tx store.Tx) error { return tx.PutFlow(&orionv1.Flow{Id: "f1", Name: "etl"}) })
	for _, c := range []<-chan struct{}{ch, woke} {
		select {
		case <-c:
		case <-time.After(waitTimeout):
			t.Fatal("Changed channel not closed after a commit")
		}
	}
	ch2, i1 := s.Changed()
	if i1 != i0+1 {
		t.Fatalf("Changed index %d after one commit, want %d", i1, i0+1)
	}
	select {
	case <-ch2:
		t.Fatal("new Changed channel is already closed")
	default:
	}
	// The watcher re-reads and sees the change.
	view(t, s, func(tx store.Tx) error { return second(tx.Flow("f1")) })
}

func testViewRejectsWrites(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutDeployment(&orionv1.Deployment{Id: "d1", Name: "daily", FlowName: "etl"}))
		must(t, tx.PutFlowRun(newRun("r1", 0)))
		must(t, tx.PutWorkQueue(&orionv1.WorkQueue{Id: "q1", Name: "default"}))
		return tx.PutAgent(&orionv1.Agent{Id: "a1"})
	})
	i0 := txIndex(t, s)
	view(t, s, func(tx store.Tx) error {
		for name, err := range map[string]error{
			"PutFlow":          tx.PutFlow(&orionv1.Flow{Id: "f1", Name: "etl"}),
			"PutFlowSource":    tx.PutFlowSource(&store.FlowSource{Digest: "sha256:x", Text: "x"}),
			"PutDeployment":    tx.PutDeployment(&orionv1.Deployment{Id: "d2", Name: "hourly", FlowName: "etl"}),
			"DeleteDeployment": tx.DeleteDeployment("d1"),
			"PutFlowRun":       tx.PutFlowRun(newRun("r2", 0)),
			"DeleteFlowRun":    tx.DeleteFlowRun("r1"),
			"AppendState":      tx.AppendState("r1", &orionv1.State{Id: "s"}),
			"AppendLogs":       second(tx.AppendLogs("r1", []*orionv1.Log{{Message: "x"}})),
			"PutTransition":    tx.PutTransition("r1", "t1", &orionv1.OrchestrationResult{}),
			"PutWorkQueue":     tx.PutWorkQueue(&orionv1.WorkQueue{Id: "q2", Name: "other"}),
			"DeleteWorkQueue":  tx.DeleteWorkQueue("q1"),
			"PutAgent":         tx.PutAgent(&orionv1.Agent{Id: "a2"}),
			"DeleteAgent":      tx.DeleteAgent("a1"),
		} {
			if err == nil {
				t.Errorf("%s succeeded in a read transaction", name)
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		must(t, second(tx.Deployment("d1")))
		must(t, second(tx.FlowRun("r1")))
		must(t, second(tx.WorkQueue("q1")))
		must(t, second(tx.Agent("a1")))
		wantErr(t, second(tx.Flow("f1")), store.ErrNotFound)
		wantErr(t, second(tx.FlowRun("r2")), store.ErrNotFound)
		states, err := tx.States("r1")
		must(t, err)
		last, err := tx.LastLogSeq("r1")
		must(t, err)
		if len(states) != 0 || last != 0 {
			t.Errorf("read transaction wrote %d states, log seq %d", len(states), last)
		}
		return nil
	})
	if got := txIndex(t, s); got != i0 {
		t.Errorf("index moved from %d to %d by a read transaction", i0, got)
	}
}

func testContextDone(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	fn := func(store.Tx) error { called = true; return nil }
	wantErr(t, s.Update(ctx, fn), context.Canceled)
	wantErr(t, s.View(ctx, fn), context.Canceled)
	if called {
		t.Error("fn ran with a done context")
	}
}

func testTxNow(t *testing.T, s store.Store) {
	check := func(tx store.Tx) error {
		now := tx.Now()
		if now.IsZero() {
			t.Error("Tx.Now is zero")
		}
		if !tx.Now().Equal(now) {
			t.Error("Tx.Now changed within a transaction")
		}
		return nil
	}
	update(t, s, check)
	view(t, s, check)
}

func testClose(t *testing.T, s store.Store) {
	must(t, s.Close())
	fn := func(store.Tx) error { t.Error("fn ran on a closed store"); return nil }
	wantErr(t, s.Update(context.Background(), fn), store.ErrClosed)
	wantErr(t, s.View(context.Background(), fn), store.ErrClosed)
}
