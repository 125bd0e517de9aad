package validate

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// TestWorkQueueLimits: creating and updating a queue (and a deployment)
// refuse a negative limit with the same message, naming the field.
func TestWorkQueueLimits(t *testing.T) {
	neg := proto.Int32(-1)
	for _, tc := range []struct {
		name, field string
		err         error
	}{
		{"create", "work_queue.concurrency_limit", WorkQueue(&orionv1.WorkQueue{Name: "q", ConcurrencyLimit: neg})},
		{"update", "concurrency_limit", UpdateWorkQueue(&orionv1.UpdateWorkQueueRequest{Id: "x", ConcurrencyLimit: neg})},
		{"deployment", "deployment.concurrency_limit", ConcurrencyLimit("deployment.concurrency_limit", neg)},
	} {
		want := tc.field + " must be >= 0 (0 means nothing runs; leave it unset for no limit)"
		if !errors.Is(tc.err, store.ErrInvalid) || !strings.Contains(tc.err.Error(), want) {
			t.Errorf("%s: %v, want %q", tc.name, tc.err, want)
		}
	}
	for _, ok := range []*int32{nil, proto.Int32(0), proto.Int32(5)} {
		if err := UpdateWorkQueue(&orionv1.UpdateWorkQueueRequest{Id: "x", ConcurrencyLimit: ok}); err != nil {
			t.Errorf("limit %v: %v", ok, err)
		}
	}
	if err := UpdateWorkQueue(&orionv1.UpdateWorkQueueRequest{}); err == nil || !strings.Contains(err.Error(), "id is required") {
		t.Errorf("no id: %v", err)
	}
	if err := UpdateWorkQueue(&orionv1.UpdateWorkQueueRequest{Id: "x", Description: proto.String(strings.Repeat("d", MaxDescription+1))}); err == nil || !strings.Contains(err.Error(), "description") {
		t.Errorf("long description: %v", err)
	}
}
