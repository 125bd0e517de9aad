package orchestration

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// benchRun is a run as a claim, a start and an end find it: a deployment
// run due a minute ago, with a retry policy.
func benchRun(t orionv1.StateType) *orionv1.FlowRun {
	due := timestamppb.New(t0.Add(-time.Minute))
	return &orionv1.FlowRun{
		Id: "r1", DeploymentId: "d1", RunCount: 1, Retries: 2, RetryDelay: durationpb.New(10 * time.Second),
		NextScheduledStartTime: due, ExpectedStartTime: due,
		State: &orionv1.State{Id: "s0", Type: t, Name: DefaultName(t), Timestamp: due, ScheduledTime: due},
	}
}

// BenchmarkEvaluate measures the rule evaluation of the transitions every
// run goes through (claim, start, end), a failure sent to retry, and the
// rejected double claim, each on its own.
func BenchmarkEvaluate(b *testing.B) {
	for _, bc := range []struct {
		name     string
		from, to orionv1.StateType
		want     Status
	}{
		{"claim_scheduled_to_pending", Scheduled, Pending, Accept},
		{"start_pending_to_running", Pending, Running, Accept},
		{"end_running_to_completed", Running, Completed, Accept},
		{"retry_running_to_failed", Running, Failed, Reject},
		{"double_claim_pending_to_pending", Pending, Pending, Abort},
		{"terminal_completed_to_running", Completed, Running, Abort},
	} {
		b.Run(bc.name, func(b *testing.B) {
			run := benchRun(bc.from)
			proposed, err := NewState(&orionv1.StateProposal{Type: bc.to}, t0, "s1", "")
			if err != nil {
				b.Fatal(err)
			}
			in := Input{Run: run, Proposed: proposed, Now: t0}
			b.ReportAllocs()
			for b.Loop() {
				if d := Evaluate(in); d.Status != bc.want {
					b.Fatalf("status %v, want %v", d.Status, bc.want)
				}
			}
		})
	}
}

// BenchmarkDecideAndApply measures what a transition costs outside the
// store: normalizing the proposal, evaluating the rules, applying the
// bookkeeping to a copy of the run and building the result, for the three
// transitions of a successful run.
func BenchmarkDecideAndApply(b *testing.B) {
	steps := []struct{ from, to orionv1.StateType }{{Scheduled, Pending}, {Pending, Running}, {Running, Completed}}
	runs := make([]*orionv1.FlowRun, len(steps))
	for i, s := range steps {
		runs[i] = benchRun(s.from)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i, s := range steps {
			proposed, err := NewState(&orionv1.StateProposal{Type: s.to}, t0, "s1", "t1")
			if err != nil {
				b.Fatal(err)
			}
			run := proto.Clone(runs[i]).(*orionv1.FlowRun)
			d := Evaluate(Input{Run: run, Proposed: proposed, Now: t0})
			if d.Status != Accept {
				b.Fatalf("%v -> %v: %v", s.from, s.to, d.Status)
			}
			Apply(run, d.State)
			_ = d.Result(run.GetState())
		}
	}
}
