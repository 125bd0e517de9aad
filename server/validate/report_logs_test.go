package validate_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/validate"
)

func TestReportLogs(t *testing.T) {
	line := func(run, msg string) *orionv1.Log {
		return &orionv1.Log{FlowRunId: run, Message: msg, Timestamp: timestamppb.Now()}
	}
	own := []*orionv1.Log{line("", "a"), line("r1", "b")}
	if err := validate.ReportLogs("r1", own); err != nil || own[0].GetFlowRunId() != "r1" {
		t.Fatalf("own lines: %v, run id %q", err, own[0].GetFlowRunId())
	}
	many := make([]*orionv1.Log, validate.MaxReportLogs+1)
	for i := range many {
		many[i] = line("r1", "x")
	}
	for _, tc := range []struct {
		name string
		logs []*orionv1.Log
		want string
	}{
		{"another run's line", []*orionv1.Log{line("r1", "a"), line("r2", "b")}, `logs[1].flow_run_id is "r2"`},
		{"too many lines", many, "send at most 100"},
		{"too many bytes", []*orionv1.Log{line("r1", strings.Repeat("x", 600_000)), line("r1", strings.Repeat("y", 600_000))}, "bytes in a state report"},
		{"no timestamp", []*orionv1.Log{{Message: "m"}}, "logs[0].timestamp is required"},
	} {
		if err := validate.ReportLogs("r1", tc.logs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
