package orchestration

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func runIn(t orionv1.StateType, name string) *orionv1.FlowRun {
	r := &orionv1.FlowRun{Id: "r1"}
	if t != orionv1.StateType_STATE_TYPE_UNSPECIFIED {
		r.State = &orionv1.State{Type: t, Name: name, Timestamp: timestamppb.New(t0.Add(-time.Minute))}
	}
	return r
}

func propose(t *testing.T, typ orionv1.StateType) *orionv1.State {
	t.Helper()
	s, err := NewState(&orionv1.StateProposal{Type: typ}, t0, "s1", "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEvaluate_Table(t *testing.T) {
	future := timestamppb.New(t0.Add(30 * time.Second))
	type transitionCase struct {
		name     string
		run      *orionv1.FlowRun
		to       orionv1.StateType
		force    bool
		want     Status
		wantName string
		wantType orionv1.StateType
	}
	tests := []transitionCase{
		{"scheduled to pending is a claim", runIn(Scheduled, "Scheduled"), Pending, false, Accept, "Pending", Pending},
		{"late runs stay claimable", runIn(Scheduled, NameLate), Pending, false, Accept, "Pending", Pending},
		{"pending to pending is aborted", runIn(Pending, "Pending"), Pending, false, Abort, "", 0},
		{"running to pending is aborted", runIn(Running, "Running"), Pending, false, Abort, "", 0},
		{"cancelling to pending is aborted", runIn(Cancelling, "Cancelling"), Pending, false, Abort, "", 0},
		{"completed cannot move", runIn(Completed, "Completed"), Running, false, Abort, "", 0},
		{"crashed cannot move", runIn(Crashed, "Crashed"), Scheduled, false, Abort, "", 0},
		{"force bypasses terminal", runIn(Failed, "Failed"), Scheduled, true, Accept, "Scheduled", Scheduled},
		{"pending to running", runIn(Pending, "Pending"), Running, false, Accept, "Running", Running},
		{"cancelling to running is aborted", runIn(Cancelling, "Cancelling"), Running, false, Abort, "", 0},
		{"cancelling to cancelled", runIn(Cancelling, "Cancelling"), Cancelled, false, Accept, "Cancelled", Cancelled},
		{"cancelling to completed (really finished)", runIn(Cancelling, "Cancelling"), Completed, false, Accept, "Completed", Completed},
		{"running to completed", runIn(Running, "Running"), Completed, false, Accept, "Completed", Completed},
		{"running to failed without retries", runIn(Running, "Running"), Failed, false, Accept, "Failed", Failed},
		{"cancelling a scheduled run cancels it at once", runIn(Scheduled, "Scheduled"), Cancelling, false, Reject, "Cancelled", Cancelled},
		{"cancelling a running run", runIn(Running, "Running"), Cancelling, false, Accept, "Cancelling", Cancelling},
		{"new run may start scheduled", runIn(0, ""), Scheduled, false, Accept, "Scheduled", Scheduled},
	}
	waitRun := runIn(Pending, "Pending")
	waitRun.NextScheduledStartTime = future
	tests = append(tests, transitionCase{"running before the scheduled time waits", waitRun, Running, false, Wait, "", 0})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(Input{Run: tc.run, Proposed: propose(t, tc.to), Now: t0, Force: tc.force})
			if d.Status != tc.want {
				t.Fatalf("status = %v (%s), want %v", d.Status, d.Reason, tc.want)
			}
			if tc.want == Abort && d.Reason == "" {
				t.Fatal("an abort must give a reason")
			}
			if tc.want == Accept || tc.want == Reject {
				if d.State.GetName() != tc.wantName || d.State.GetType() != tc.wantType {
					t.Fatalf("state = %s/%s, want %s/%s", d.State.GetType(), d.State.GetName(), tc.wantType, tc.wantName)
				}
			}
		})
	}
}

func TestEvaluate_WaitDelay(t *testing.T) {
	run := runIn(Scheduled, "Scheduled")
	run.NextScheduledStartTime = timestamppb.New(t0.Add(42 * time.Second))
	d := Evaluate(Input{Run: run, Proposed: propose(t, Running), Now: t0})
	if d.Status != Wait || d.Delay != 42*time.Second {
		t.Fatalf("got %v delay %s", d.Status, d.Delay)
	}
	if res := d.Result(run.State); res.GetDelay().AsDuration() != 42*time.Second {
		t.Fatalf("result delay = %s", res.GetDelay().AsDuration())
	}
}

func TestEvaluate_RetryFailedFlows(t *testing.T) {
	run := runIn(Running, "Running")
	run.RunCount, run.Retries, run.RetryDelay = 1, 2, durationpb.New(10*time.Second)
	d := Evaluate(Input{Run: run, Proposed: propose(t, Failed), Now: t0})
	if d.Status != Reject || d.State.GetName() != NameAwaitingRetry || d.State.GetType() != Scheduled {
		t.Fatalf("got %v %s/%s", d.Status, d.State.GetType(), d.State.GetName())
	}
	if got := d.State.GetScheduledTime().AsTime(); !got.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("retry at %s", got)
	}
	run.RunCount = 3 // retries exhausted
	if d := Evaluate(Input{Run: run, Proposed: propose(t, Failed), Now: t0}); d.Status != Accept {
		t.Fatalf("exhausted retries: %v", d.Status)
	}
}

func TestEvaluate_RenameReruns(t *testing.T) {
	run := runIn(Scheduled, NameAwaitingRetry)
	run.RunCount = 1
	if d := Evaluate(Input{Run: run, Proposed: propose(t, Running), Now: t0}); d.State.GetName() != NameRetrying {
		t.Fatalf("name = %s", d.State.GetName())
	}
	run = runIn(Pending, "Pending")
	run.RunCount = 1
	if d := Evaluate(Input{Run: run, Proposed: propose(t, Running), Now: t0}); d.State.GetName() != NameRerunning {
		t.Fatalf("name = %s", d.State.GetName())
	}
}

func TestApply_Bookkeeping(t *testing.T) {
	run := &orionv1.FlowRun{Id: "r1"}
	step := func(typ orionv1.StateType, at time.Time) {
		s, err := NewState(&orionv1.StateProposal{Type: typ}, at, "id", "")
		if err != nil {
			t.Fatal(err)
		}
		Apply(run, s)
	}
	step(Scheduled, t0)
	if !run.GetExpectedStartTime().AsTime().Equal(t0) || !run.GetNextScheduledStartTime().AsTime().Equal(t0) {
		t.Fatalf("expected/next start not set: %v", run)
	}
	step(Pending, t0.Add(time.Second))
	if run.NextScheduledStartTime != nil {
		t.Fatal("next scheduled start must clear when leaving SCHEDULED")
	}
	step(Running, t0.Add(2*time.Second))
	if run.GetRunCount() != 1 || !run.GetStartTime().AsTime().Equal(t0.Add(2*time.Second)) {
		t.Fatalf("run count %d start %v", run.GetRunCount(), run.GetStartTime())
	}
	step(Completed, t0.Add(7*time.Second))
	if run.GetTotalRunTime().AsDuration() != 5*time.Second || !run.GetEndTime().AsTime().Equal(t0.Add(7*time.Second)) {
		t.Fatalf("total %s end %v", run.GetTotalRunTime().AsDuration(), run.GetEndTime())
	}
	if !run.GetExpectedStartTime().AsTime().Equal(t0) {
		t.Fatal("expected start time must be set once")
	}
}

func TestNewState_Validation(t *testing.T) {
	if _, err := NewState(&orionv1.StateProposal{}, t0, "", ""); err == nil {
		t.Fatal("a proposal without a type must be rejected")
	}
	if _, err := NewState(&orionv1.StateProposal{Type: 99}, t0, "", ""); err == nil {
		t.Fatal("an unknown type must be rejected")
	}
	s, err := NewState(&orionv1.StateProposal{Type: Scheduled}, t0, "", "")
	if err != nil || s.GetName() != "Scheduled" || !s.GetScheduledTime().AsTime().Equal(t0) {
		t.Fatalf("got %v %v", s, err)
	}
}

func TestParseStateType(t *testing.T) {
	for in, want := range map[string]orionv1.StateType{"running": Running, "COMPLETED": Completed, "STATE_TYPE_FAILED": Failed} {
		if got, ok := ParseStateType(in); !ok || got != want {
			t.Errorf("ParseStateType(%q) = %v %v", in, got, ok)
		}
	}
	if _, ok := ParseStateType("bogus"); ok {
		t.Error("bogus parsed")
	}
}
