package storetest

import (
	"testing"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

func testIdempotencyKey(t *testing.T, s store.Store) {
	r1 := newRun("r1", 0)
	r1.IdempotencyKey = "sched-1"
	other := newRun("r3", 0)
	other.FlowId, other.FlowName, other.IdempotencyKey = "flow-report", "report", "sched-1"
	putRuns(t, s, r1, other, newRun("r4", 0)) // r4 has no key

	// A conflicting put fails without side effects, so the caller can read
	// the holder and go on in the same transaction.
	update(t, s, func(tx store.Tx) error {
		dup := newRun("r2", 0)
		dup.IdempotencyKey = "sched-1"
		wantErr(t, tx.PutFlowRun(dup), store.ErrAlreadyExists)
		_, err := tx.FlowRun("r2")
		wantErr(t, err, store.ErrNotFound)
		got, err := tx.FlowRunByIdempotencyKey("flow-etl", "sched-1")
		must(t, err)
		if got.GetId() != "r1" {
			t.Errorf("FlowRunByIdempotencyKey = %s, want r1", got.GetId())
		}
		// Replacing the holder itself is fine.
		r1.RunCount = 1
		return tx.PutFlowRun(r1)
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.FlowRun("r2")
		wantErr(t, err, store.ErrNotFound)
		got, err := tx.FlowRunByIdempotencyKey("flow-report", "sched-1")
		must(t, err)
		if got.GetId() != "r3" {
			t.Errorf("FlowRunByIdempotencyKey(flow-report) = %s, want r3", got.GetId())
		}
		got, err = tx.FlowRunByIdempotencyKey("flow-etl", "sched-1")
		must(t, err)
		wantEqual(t, got, r1)
		_, err = tx.FlowRunByIdempotencyKey("flow-etl", "sched-2")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.FlowRunByIdempotencyKey("flow-etl", "")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})

	// Changing the key frees the old one.
	r1.IdempotencyKey = "sched-1b"
	putRuns(t, s, r1)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.FlowRunByIdempotencyKey("flow-etl", "sched-1")
		wantErr(t, err, store.ErrNotFound)
		got, err := tx.FlowRunByIdempotencyKey("flow-etl", "sched-1b")
		must(t, err)
		if got.GetId() != "r1" {
			t.Errorf("FlowRunByIdempotencyKey(sched-1b) = %s, want r1", got.GetId())
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		r2 := newRun("r2", 0)
		r2.IdempotencyKey = "sched-1"
		return tx.PutFlowRun(r2)
	})

	// Deleting the holder frees its key.
	update(t, s, func(tx store.Tx) error { return tx.DeleteFlowRun("r1") })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.FlowRunByIdempotencyKey("flow-etl", "sched-1b")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		r5 := &orionv1.FlowRun{Id: "r5", FlowId: "flow-etl", IdempotencyKey: "sched-1b"}
		return tx.PutFlowRun(r5)
	})
}
