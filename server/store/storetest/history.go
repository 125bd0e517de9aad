package storetest

import (
	"fmt"
	"testing"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

func testStates(t *testing.T, s store.Store) {
	// r1 and r10 share a prefix: their histories must not mix.
	update(t, s, func(tx store.Tx) error {
		for i := range 3 {
			for _, run := range []string{"r1", "r10", "r2"} {
				st := &orionv1.State{Id: fmt.Sprintf("%s-%d", run, i), Type: orionv1.StateType(i + 1), Timestamp: ts(time.Duration(i) * time.Second)}
				must(t, tx.AppendState(run, st))
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		return tx.AppendState("r1", &orionv1.State{Id: "r1-3", Type: completed})
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.States("r1")
		must(t, err)
		wantIDs(t, got, "r1-0", "r1-1", "r1-2", "r1-3")
		if got[1].GetType() != pending {
			t.Errorf("state r1-1 type = %v, want %v", got[1].GetType(), pending)
		}
		got, err = tx.States("r10")
		must(t, err)
		wantIDs(t, got, "r10-0", "r10-1", "r10-2")
		got, err = tx.States("none")
		must(t, err)
		wantIDs(t, got)
		return nil
	})
}

func testLogs(t *testing.T, s store.Store) {
	lines := func(levels ...int32) []*orionv1.Log {
		var out []*orionv1.Log
		for i, l := range levels {
			out = append(out, &orionv1.Log{Level: l, Name: "flow", Message: fmt.Sprintf("line %d", i), Timestamp: ts(time.Duration(i) * time.Second)})
		}
		return out
	}
	update(t, s, func(tx store.Tx) error {
		last, err := tx.AppendLogs("r1", lines(10, 20, 30))
		must(t, err)
		if last != 3 {
			t.Errorf("AppendLogs(r1) = %d, want 3", last)
		}
		last, err = tx.AppendLogs("r10", lines(20))
		must(t, err)
		if last != 1 {
			t.Errorf("AppendLogs(r10) = %d, want 1 (seq is per run)", last)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		last, err := tx.AppendLogs("r1", lines(40, 10))
		must(t, err)
		if last != 5 {
			t.Errorf("second AppendLogs(r1) = %d, want 5", last)
		}
		return nil
	})
	seqs := func(logs []*orionv1.Log) []string {
		var out []string
		for _, l := range logs {
			if l.GetFlowRunId() != "r1" {
				t.Errorf("log %d has flow_run_id %q, want r1", l.GetSeq(), l.GetFlowRunId())
			}
			out = append(out, fmt.Sprint(l.GetSeq()))
		}
		return out
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range []struct {
			name     string
			after    uint64
			minLevel int32
			limit    int
			want     []string
		}{
			{"all", 0, 0, 0, []string{"1", "2", "3", "4", "5"}},
			{"after", 2, 0, 0, []string{"3", "4", "5"}},
			{"after last", 5, 0, 0, nil},
			{"min level", 0, 20, 0, []string{"2", "3", "4"}},
			{"limit", 0, 0, 2, []string{"1", "2"}},
			{"all three", 1, 20, 2, []string{"2", "3"}},
			{"limit counts matches only", 0, 40, 1, []string{"4"}},
		} {
			got, err := tx.Logs("r1", tc.after, tc.minLevel, tc.limit)
			must(t, err)
			t.Run(tc.name, func(t *testing.T) { wantStrings(t, seqs(got), tc.want...) })
		}
		got, err := tx.Logs("r1", 0, 0, 0)
		must(t, err)
		if got[3].GetMessage() != "line 0" || got[3].GetLevel() != 40 {
			t.Errorf("log 4 = %v", got[3])
		}
		for run, want := range map[string]uint64{"r1": 5, "r10": 1, "none": 0} {
			last, err := tx.LastLogSeq(run)
			must(t, err)
			if last != want {
				t.Errorf("LastLogSeq(%s) = %d, want %d", run, last, want)
			}
		}
		none, err := tx.Logs("none", 0, 0, 0)
		must(t, err)
		if len(none) != 0 {
			t.Errorf("Logs(none) = %v", none)
		}
		return nil
	})
}

// testLogSources: a line whose source already has a line at or past its
// position is dropped, per run and source, within a batch and across
// batches; lines without a source are always stored.
func testLogSources(t *testing.T, s store.Store) {
	line := func(msg, src string, pos uint64) *orionv1.Log {
		return &orionv1.Log{Message: msg, Timestamp: ts(0), Source: src, SourcePosition: pos}
	}
	update(t, s, func(tx store.Tx) error {
		_, err := tx.AppendLogs("r1", []*orionv1.Log{
			line("a", "1/stdout", 2), line("b", "1/stdout", 4), line("x", "1/stderr", 3), line("free", "", 0),
		})
		must(t, err)
		// The same position in another run is another line.
		_, err = tx.AppendLogs("r2", []*orionv1.Log{line("a", "1/stdout", 2)})
		return err
	})
	var resent []*orionv1.Log
	update(t, s, func(tx store.Tx) error {
		resent = []*orionv1.Log{
			line("b", "1/stdout", 4), line("c", "1/stdout", 6), line("c", "1/stdout", 6),
			line("x", "1/stderr", 3), line("free", "", 0), line("a", "2/stdout", 2),
		}
		last, err := tx.AppendLogs("r1", resent)
		must(t, err)
		if last != 7 {
			t.Errorf("AppendLogs with resent lines = %d, want 7 (3 new lines after 4)", last)
		}
		return nil
	})
	var seqs []uint64
	for _, l := range resent {
		seqs = append(seqs, l.GetSeq())
	}
	if got := fmt.Sprint(seqs); got != "[0 5 0 0 6 7]" {
		t.Errorf("seqs set on the resent batch: %s, want [0 5 0 0 6 7] (0: dropped)", got)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Logs("r1", 0, 0, 0)
		must(t, err)
		var msgs []string
		for _, l := range got {
			msgs = append(msgs, l.GetMessage())
		}
		wantStrings(t, msgs, "a", "b", "x", "free", "c", "free", "a")
		return nil
	})
}

func testTransitions(t *testing.T, s store.Store) {
	res := &orionv1.OrchestrationResult{
		Status: orionv1.OrchestrationStatus_ORCHESTRATION_STATUS_ACCEPT,
		State:  &orionv1.State{Id: "s1", Type: running},
	}
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutTransition("r1", "t1", res))
		return tx.PutTransition("r10", "t1", &orionv1.OrchestrationResult{Reason: "other run"})
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Transition("r1", "t1")
		must(t, err)
		wantEqual(t, got, res)
		_, err = tx.Transition("r1", "t2")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.Transition("r2", "t1")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testDeleteFlowRun(t *testing.T, s store.Store) {
	r1, r10 := newRun("r1", 0), newRun("r10", time.Second)
	for _, r := range []*orionv1.FlowRun{r1, r10} {
		r.DeploymentId = "d1"
		r.IdempotencyKey = "key-" + r.GetId()
	}
	update(t, s, func(tx store.Tx) error {
		for _, r := range []*orionv1.FlowRun{r1, r10} {
			must(t, tx.PutFlowRun(r))
			must(t, tx.AppendState(r.GetId(), r.GetState()))
			_, err := tx.AppendLogs(r.GetId(), []*orionv1.Log{{Message: "a"}, {Message: "b"}})
			must(t, err)
			must(t, tx.PutTransition(r.GetId(), "t1", &orionv1.OrchestrationResult{Reason: "ok"}))
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteFlowRun("r1") })

	view(t, s, func(tx store.Tx) error {
		_, err := tx.FlowRun("r1")
		wantErr(t, err, store.ErrNotFound)
		states, err := tx.States("r1")
		must(t, err)
		logs, err := tx.Logs("r1", 0, 0, 0)
		must(t, err)
		last, err := tx.LastLogSeq("r1")
		must(t, err)
		if len(states) != 0 || len(logs) != 0 || last != 0 {
			t.Errorf("after delete: %d states, %d logs, last log seq %d", len(states), len(logs), last)
		}
		_, err = tx.Transition("r1", "t1")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.FlowRunByIdempotencyKey("flow-etl", "key-r1")
		wantErr(t, err, store.ErrNotFound)

		// r10 is untouched.
		states, err = tx.States("r10")
		must(t, err)
		logs, err = tx.Logs("r10", 0, 0, 0)
		must(t, err)
		if len(states) != 1 || len(logs) != 2 {
			t.Errorf("sibling run r10: %d states, %d logs, want 1 and 2", len(states), len(logs))
		}
		_, err = tx.Transition("r10", "t1")
		must(t, err)
		return nil
	})
	wantStrings(t, byState(t, s, scheduled, t0.Add(time.Hour)), "r10")
	ids, _ := listIDs(t, s, store.FlowRunFilter{})
	wantStrings(t, ids, "r10")
	ids, _ = listIDs(t, s, store.FlowRunFilter{DeploymentID: "d1"})
	wantStrings(t, ids, "r10")
}
