package validate_test

import (
	"strings"
	"testing"

	"github.com/orion-run/orion/server/validate"
)

func TestWorkQueueNames(t *testing.T) {
	if err := validate.WorkQueueNames("work_queues", []string{"default", "gpu"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		queues []string
		want   string
	}{
		{make([]string, validate.MaxWorkQueues+1), "work_queues has 101 entries"},
		{[]string{"ok", "bad/name"}, "work_queues[1]"},
	} {
		if err := validate.WorkQueueNames("work_queues", tc.queues); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.queues, err, tc.want)
		}
	}
}
