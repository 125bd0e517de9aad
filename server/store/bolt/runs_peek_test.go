package bolt

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"pgregory.net/rapid"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

var (
	peekTypes = []orionv1.StateType{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	peekTags  = []string{"nightly", "etl", "", "p1"}
)

func genPeekRun(t *rapid.T, label string) *orionv1.FlowRun {
	r := &orionv1.FlowRun{
		Id:           rapid.StringMatching(`[a-f0-9-]{0,36}`).Draw(t, label+"_id"),
		DeploymentId: rapid.SampledFrom([]string{"", "d1"}).Draw(t, label+"_deployment"),
		Tags:         rapid.SliceOfN(rapid.SampledFrom(peekTags), 0, 4).Draw(t, label+"_tags"),
		RunCount:     rapid.Int32Range(0, 3).Draw(t, label+"_run_count"),
	}
	if rapid.Bool().Draw(t, label+"_has_state") {
		r.State = &orionv1.State{
			Type:      rapid.SampledFrom(peekTypes).Draw(t, label+"_type"),
			Name:      rapid.SampledFrom([]string{"", "Late", "Failed"}).Draw(t, label+"_name"),
			Message:   rapid.String().Draw(t, label+"_message"),
			Timestamp: timestamppb.Now(),
		}
	}
	if rapid.Bool().Draw(t, label+"_has_params") {
		r.Parameters, _ = structpb.NewStruct(map[string]any{"tags": []any{"nightly"}, "state": 4})
	}
	return r
}

// TestMayMatch_AgreesWithMatchRun: on any encoded run, and on two encodings
// concatenated (which proto merges), the pre-filter's state and tag
// verdict is exactly matchRun's, so a list page skips no run that matches.
func TestMayMatch_AgreesWithMatchRun(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genPeekRun(t, "run")
		v, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if rapid.Bool().Draw(t, "merged") {
			w, err := proto.Marshal(genPeekRun(t, "more"))
			if err != nil {
				t.Fatal(err)
			}
			v = append(v, w...)
			r = new(orionv1.FlowRun)
			if err := proto.Unmarshal(v, r); err != nil {
				t.Fatal(err)
			}
		}
		f := store.FlowRunFilter{
			StateTypes: rapid.SliceOfNDistinct(rapid.SampledFrom(peekTypes), 0, 3, func(s orionv1.StateType) orionv1.StateType { return s }).Draw(t, "states"),
			Tags:       rapid.SliceOfN(rapid.SampledFrom(peekTags), 0, 2).Draw(t, "tags"),
		}
		if got, want := mayMatch(v, &f), matchRun(r, &f); got != want {
			t.Fatalf("mayMatch = %v, matchRun = %v for run %v, filter states %v tags %v", got, want, r, f.StateTypes, f.Tags)
		}
	})
}

// TestMayMatch_UnreadableMayMatch: bytes it cannot parse are left to the
// decoder (which reports them), never skipped as a non-match.
func TestMayMatch_UnreadableMayMatch(t *testing.T) {
	v, _ := proto.Marshal(&orionv1.FlowRun{Id: "r", State: &orionv1.State{Type: orionv1.StateType_STATE_TYPE_COMPLETED}, Tags: []string{"a"}})
	f := store.FlowRunFilter{StateTypes: []orionv1.StateType{orionv1.StateType_STATE_TYPE_FAILED}}
	if mayMatch(v, &f) {
		t.Fatal("a COMPLETED run passed a FAILED filter")
	}
	undecodable := 0
	for cut := 1; cut < len(v); cut++ {
		if err := proto.Unmarshal(v[:cut], new(orionv1.FlowRun)); err != nil {
			undecodable++
			if !mayMatch(v[:cut], &f) {
				t.Fatalf("cut at %d (undecodable: %v) was skipped as a non-match", cut, err)
			}
		}
	}
	if undecodable == 0 {
		t.Fatal("no cut of the encoding was undecodable: the test checks nothing")
	}
}
