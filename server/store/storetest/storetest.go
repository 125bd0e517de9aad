// Package storetest is the contract suite every store.Store implementation
// must pass. An implementation's tests call Run with a function that opens
// an empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTestStore(t) })
//	}
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// waitTimeout bounds every wait on a notification; it is generous so that a
// slow CI machine never flakes, and only reached when the contract is broken.
const waitTimeout = 10 * time.Second

// t0 is the base time of every fixture.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Run runs the contract suite. open must return a new, empty store and
// register its cleanup with t.Cleanup; the cleanup must accept a store that
// the test already closed. open is called from parallel subtests.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Flows", testFlows},
		{"ListFlows", testListFlows},
		{"FlowSources", testFlowSources},
		{"Deployments", testDeployments},
		{"ListDeployments", testListDeployments},
		{"WorkQueues", testWorkQueues},
		{"Agents", testAgents},
		{"Tokens", testTokens},
		{"ReturnedRecordsAreCopies", testReturnedRecordsAreCopies},
		{"FlowRunCRUD", testFlowRunCRUD},
		{"RunsByState", testRunsByState},
		{"Counts", testCounts},
		{"RunsByStateWritesDuringVisit", testRunsByStateWritesDuringVisit},
		{"ListFlowRunsNewestFirst", testListFlowRunsNewestFirst},
		{"ListFlowRunsFilters", testListFlowRunsFilters},
		{"ListFlowRunsPagination", testListFlowRunsPagination},
		{"ScheduledRuns", testScheduledRuns},
		{"RunsCreatedBetween", testRunsCreatedBetween},
		{"IdempotencyKey", testIdempotencyKey},
		{"DeleteFlowRun", testDeleteFlowRun},
		{"States", testStates},
		{"Logs", testLogs},
		{"LogSources", testLogSources},
		{"Transitions", testTransitions},
		{"ModifyIndex", testModifyIndex},
		{"Rollback", testRollback},
		{"Changed", testChanged},
		{"ViewRejectsWrites", testViewRejectsWrites},
		{"ContextDone", testContextDone},
		{"TxNow", testTxNow},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// update runs fn in a write transaction and fails the test on error.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails the test unless errors.Is(err, target).
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// wantEqual fails the test unless the two messages are equal.
func wantEqual(t *testing.T, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

// wantIDs fails the test unless got holds exactly the records with ids
// want, in that order.
func wantIDs[M interface{ GetId() string }](t *testing.T, got []M, want ...string) {
	t.Helper()
	ids := make([]string, len(got))
	for i, m := range got {
		ids[i] = m.GetId()
	}
	wantStrings(t, ids, want...)
}

func ts(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(t0.Add(d)) }

// newRun is a SCHEDULED run of flow "etl" created at t0+created.
func newRun(id string, created time.Duration) *orionv1.FlowRun {
	return &orionv1.FlowRun{
		Id:                     id,
		Name:                   "run-" + id,
		FlowId:                 "flow-etl",
		FlowName:               "etl",
		State:                  &orionv1.State{Id: id + "-s", Type: orionv1.StateType_STATE_TYPE_SCHEDULED, Name: "Scheduled", Timestamp: ts(created)},
		NextScheduledStartTime: ts(created),
		CreateTime:             ts(created),
		UpdateTime:             ts(created),
	}
}

// setState moves r to state st with time key at (t0+at).
func setState(r *orionv1.FlowRun, st orionv1.StateType, at time.Duration) {
	r.State = &orionv1.State{Id: r.GetId() + "-" + st.String(), Type: st, Timestamp: ts(at)}
	r.UpdateTime = ts(at)
	r.LeaseExpireTime = nil
	switch st {
	case orionv1.StateType_STATE_TYPE_SCHEDULED:
		r.NextScheduledStartTime = ts(at)
	case orionv1.StateType_STATE_TYPE_PENDING, orionv1.StateType_STATE_TYPE_RUNNING, orionv1.StateType_STATE_TYPE_CANCELLING:
		r.LeaseExpireTime = ts(at)
	}
}

// putRuns stores runs in one write transaction.
func putRuns(t *testing.T, s store.Store, runs ...*orionv1.FlowRun) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, r := range runs {
			if err := tx.PutFlowRun(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// byState collects the ids RunsByState visits.
func byState(t *testing.T, s store.Store, st orionv1.StateType, before time.Time) []string {
	t.Helper()
	var ids []string
	view(t, s, func(tx store.Tx) error {
		return tx.RunsByState(st, before, func(r *orionv1.FlowRun) bool {
			if r.GetState().GetType() != st {
				t.Errorf("RunsByState(%v) visited run %s in state %v", st, r.GetId(), r.GetState().GetType())
			}
			ids = append(ids, r.GetId())
			return true
		})
	})
	return ids
}

// wantStrings fails the test unless got equals want.
func wantStrings(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
