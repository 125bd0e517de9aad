package orchestration

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"pgregory.net/rapid"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

var allTypes = []orionv1.StateType{Scheduled, Pending, Running, Completed, Failed, Cancelled, Crashed, Paused, Cancelling}

func genType() *rapid.Generator[orionv1.StateType] {
	return rapid.SampledFrom(allTypes)
}

// genRun draws a run in an arbitrary state with arbitrary bookkeeping.
func genRun(t *rapid.T) *orionv1.FlowRun {
	typ := genType().Draw(t, "initial")
	names := []string{DefaultName(typ)}
	if typ == Scheduled {
		names = append(names, NameLate, NameAwaitingRetry)
	}
	r := &orionv1.FlowRun{
		Id:         "r",
		RunCount:   rapid.Int32Range(0, 4).Draw(t, "run_count"),
		Retries:    rapid.Int32Range(0, 3).Draw(t, "retries"),
		RetryDelay: durationpb.New(time.Duration(rapid.IntRange(0, 60).Draw(t, "delay")) * time.Second),
		State: &orionv1.State{Type: typ, Name: rapid.SampledFrom(names).Draw(t, "name"),
			Timestamp: timestamppb.New(t0.Add(-time.Minute))},
	}
	if rapid.Bool().Draw(t, "has_deployment") {
		r.DeploymentId = "d"
	}
	if typ == Scheduled || rapid.Bool().Draw(t, "has_scheduled_time") {
		at := timestamppb.New(t0.Add(time.Duration(rapid.IntRange(-60, 60).Draw(t, "due")) * time.Second))
		r.State.ScheduledTime = at
		if typ == Scheduled {
			r.NextScheduledStartTime = at
		}
	}
	return r
}

// The rules, checked on arbitrary (run, proposal) pairs.
func TestRulesProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run := genRun(t)
		before := proto.Clone(run).(*orionv1.FlowRun)
		to := genType().Draw(t, "proposed")
		force := rapid.Bool().Draw(t, "force")
		manual := rapid.Bool().Draw(t, "manual_retry")
		p, err := NewState(&orionv1.StateProposal{Type: to}, t0, "s", "")
		if err != nil {
			t.Fatal(err)
		}
		d := Evaluate(Input{Run: run, Proposed: p, Now: t0, Force: force, ManualRetry: manual})
		from := run.GetState().GetType()

		if !proto.Equal(run, before) {
			t.Fatal("Evaluate must not modify the run")
		}
		if (d.Status == Accept || d.Status == Reject) != (d.State != nil) {
			t.Fatalf("status %v with state %v", d.Status, d.State)
		}
		if d.Status == Abort && d.Reason == "" {
			t.Fatal("an ABORT needs a reason")
		}
		if d.Status == Wait && d.Delay <= 0 {
			t.Fatalf("WAIT with delay %s", d.Delay)
		}
		if force {
			if d.Status != Accept {
				t.Fatalf("force must accept, got %v", d.Status)
			}
			return
		}
		moved := d.Status == Accept || d.Status == Reject
		if IsTerminal(from) && moved {
			// The one exception: an explicit retry of a deployment's run back to SCHEDULED.
			if !manual || run.GetDeploymentId() == "" || d.State.GetType() != Scheduled {
				t.Fatalf("terminal %s moved to %s without force", DefaultName(from), d.State.GetName())
			}
		}
		if manual && moved && !IsTerminal(from) {
			t.Fatal("a manual retry of an unfinished run must be refused")
		}
		if to == Pending && moved && d.State.GetType() == Pending {
			switch from {
			case Pending, Running, Cancelling, Cancelled:
				t.Fatalf("%s entered PENDING again: a claim must be a compare-and-set", DefaultName(from))
			}
		}
		if from == Cancelling && moved && d.State.GetType() != Cancelled && !IsTerminal(d.State.GetType()) {
			t.Fatalf("CANCELLING moved to %s", d.State.GetName())
		}
		if d.Status == Reject && d.State.GetName() == NameAwaitingRetry {
			if run.GetRunCount() > run.GetRetries() || run.GetRetries() == 0 {
				t.Fatal("retried beyond the retry budget")
			}
			if d.State.GetTimestamp() == nil || d.State.GetScheduledTime() == nil {
				t.Fatal("AwaitingRetry needs a timestamp and a scheduled time")
			}
		}
		if to == Running && d.Status != Wait && (from == Scheduled || from == Pending) && !manual {
			if due := run.GetState().GetScheduledTime(); due != nil && due.AsTime().After(t0) {
				t.Fatal("RUNNING before the scheduled time must WAIT")
			}
		}
	})
}

// Apply's bookkeeping along arbitrary accepted histories: run count counts
// RUNNING entries, end time is set exactly in terminal states, the next
// scheduled start exactly in SCHEDULED, the expected start never changes
// once set, total run time never decreases, and PENDING is never entered
// twice without leaving the agent's hands in between.
func TestApplyProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run := &orionv1.FlowRun{Id: "r", Retries: rapid.Int32Range(0, 2).Draw(t, "retries"), RetryDelay: durationpb.New(0), DeploymentId: "d"}
		now := t0
		first, _ := NewState(&orionv1.StateProposal{Type: Scheduled}, now, "s0", "")
		Apply(run, first)
		expected := run.GetExpectedStartTime().AsTime()
		runningEntries := int32(0)
		claimOpen := false // PENDING entered since the run last left the agent's hands
		steps := rapid.IntRange(1, 30).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			now = now.Add(time.Duration(rapid.IntRange(0, 10).Draw(t, "dt")) * time.Second)
			to := genType().Draw(t, "to")
			p, _ := NewState(&orionv1.StateProposal{Type: to}, now, "s", "")
			d := Evaluate(Input{Run: run, Proposed: p, Now: now, ManualRetry: rapid.Bool().Draw(t, "manual")})
			if d.Status != Accept && d.Status != Reject {
				continue
			}
			prevTotal := run.GetTotalRunTime().AsDuration()
			if d.State.GetType() == Pending {
				if claimOpen {
					t.Fatal("PENDING entered twice within one claim")
				}
				claimOpen = true
			}
			if !IsHeld(d.State.GetType()) {
				claimOpen = false
			}
			if d.State.GetType() == Running {
				runningEntries++
			}
			Apply(run, d.State)
			if run.GetRunCount() != runningEntries {
				t.Fatalf("run count %d, RUNNING entered %d times", run.GetRunCount(), runningEntries)
			}
			if (run.EndTime != nil) != IsTerminal(run.GetState().GetType()) {
				t.Fatalf("end time %v in %s", run.EndTime, run.GetState().GetName())
			}
			if (run.NextScheduledStartTime != nil) != (run.GetState().GetType() == Scheduled) {
				t.Fatalf("next scheduled start %v in %s", run.NextScheduledStartTime, run.GetState().GetName())
			}
			if !run.GetExpectedStartTime().AsTime().Equal(expected) {
				t.Fatal("expected start time changed")
			}
			if run.GetTotalRunTime().AsDuration() < prevTotal {
				t.Fatal("total run time decreased")
			}
			if run.GetState() != d.State || !run.GetUpdateTime().AsTime().Equal(now) {
				t.Fatal("the state and update time must be the transition's")
			}
		}
	})
}
