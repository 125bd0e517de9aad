package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func TestWriteDeploymentTable_Sorted(t *testing.T) {
	deps := []*orionv1.Deployment{
		{Id: "id-3", FlowName: "zeta", Name: "a", WorkQueueName: "default"},
		{Id: "id-2", FlowName: "alpha", Name: "weekly", WorkQueueName: "batch", IsScheduleActive: true,
			Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "0 9 * * 1", Timezone: "UTC"}}}},
		{Id: "id-1", FlowName: "alpha", Name: "daily", WorkQueueName: "default", IsScheduleActive: false,
			Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(24 * time.Hour)}}}},
	}
	var buf bytes.Buffer
	if err := writeDeploymentTable(&buf, deps); err != nil {
		t.Fatal(err)
	}
	equalLines(t, buf.String(),
		"NAME           ID     WORK QUEUE   SCHEDULE",
		"alpha/daily    id-1   default      every 1d [paused]",
		"alpha/weekly   id-2   batch        cron 0 9 * * 1 (UTC)",
		"zeta/a         id-3   default      -",
	)
	if deps[0].Id != "id-3" {
		t.Error("the caller's slice must not be reordered")
	}
}

func TestWriteFlowRunTable(t *testing.T) {
	runs := []*orionv1.FlowRun{
		{Id: "r2", Name: "quick-fox", FlowName: "hello", DeploymentName: "daily",
			State:             &orionv1.State{Type: orionv1.StateType_STATE_TYPE_SCHEDULED, Name: "Late"},
			ExpectedStartTime: ts(time.Hour)},
		{Id: "r1", Name: "messy-petrel", FlowName: "hello",
			State:             &orionv1.State{Type: orionv1.StateType_STATE_TYPE_COMPLETED},
			ExpectedStartTime: ts(0), StartTime: ts(time.Second)},
	}
	var buf bytes.Buffer
	if err := writeFlowRunTable(&buf, runs, time.UTC); err != nil {
		t.Fatal(err)
	}
	equalLines(t, buf.String(),
		"ID   NAME           FLOW    DEPLOYMENT   STATE       EXPECTED START        START",
		"r2   quick-fox      hello   daily        Late        2024-05-01 19:01:02   -",
		"r1   messy-petrel   hello   -            Completed   2024-05-01 18:01:02   2024-05-01 18:01:03",
	)
}

func TestLogLine(t *testing.T) {
	tests := []struct {
		log  *orionv1.Log
		want string
	}{
		{&orionv1.Log{Level: 20, Name: "stdout", Message: "hello", Timestamp: ts(345 * time.Millisecond)},
			"2024-05-01 18:01:02.345 | INFO    | stdout - hello"},
		{&orionv1.Log{Level: 30, Name: "orion.flow_runs", Message: "careful", Timestamp: ts(0)},
			"2024-05-01 18:01:02.000 | WARNING | orion.flow_runs - careful"},
		{&orionv1.Log{Level: 50, Name: "x", Message: "boom", Timestamp: ts(0)},
			"2024-05-01 18:01:02.000 | CRITICAL | x - boom"},
		{&orionv1.Log{Level: 10, Name: "x", Message: "d", Timestamp: ts(0)},
			"2024-05-01 18:01:02.000 | DEBUG   | x - d"},
		{&orionv1.Log{Level: 40, Name: "stderr", Message: "e", Timestamp: ts(0)},
			"2024-05-01 18:01:02.000 | ERROR   | stderr - e"},
		{&orionv1.Log{Level: 25, Name: "x", Message: "m", Timestamp: ts(0)},
			"2024-05-01 18:01:02.000 | Level 25 | x - m"},
	}
	for _, tt := range tests {
		if got := logLine(tt.log, time.UTC); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
	// Times print in the display zone.
	got := logLine(&orionv1.Log{Level: 20, Name: "n", Message: "m", Timestamp: ts(0)}, time.FixedZone("X", 2*3600))
	if !strings.HasPrefix(got, "2024-05-01 20:01:02.000 |") {
		t.Errorf("zone not applied: %q", got)
	}
}

func TestStateLineAndNames(t *testing.T) {
	tests := []struct {
		state *orionv1.State
		line  string
	}{
		{st(orionv1.StateType_STATE_TYPE_SCHEDULED, "", "", 0), "18:01:02 Scheduled"},
		{st(orionv1.StateType_STATE_TYPE_SCHEDULED, "Late", "", time.Second), "18:01:03 Late"},
		{st(orionv1.StateType_STATE_TYPE_RUNNING, "Retrying", "", 0), "18:01:02 Retrying"},
		{st(orionv1.StateType_STATE_TYPE_FAILED, "", "Process exited\nwith code 1", 0), "18:01:02 Failed - Process exited with code 1"},
		{st(orionv1.StateType_STATE_TYPE_CANCELLING, "", "", 0), "18:01:02 Cancelling"},
		{st(orionv1.StateType_STATE_TYPE_CRASHED, "", "", 0), "18:01:02 Crashed"},
	}
	for _, tt := range tests {
		if got := stateLine(tt.state, time.UTC); got != tt.line {
			t.Errorf("got %q, want %q", got, tt.line)
		}
	}
	if got := stateName(nil); got != "-" {
		t.Errorf("stateName(nil) = %q", got)
	}
	if got := typeTitle(orionv1.StateType_STATE_TYPE_UNSPECIFIED); got != "Unknown" {
		t.Errorf("typeTitle(unspecified) = %q", got)
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                  "0s",
		45 * time.Second:                   "45s",
		90 * time.Minute:                   "1h30m",
		time.Hour:                          "1h",
		24 * time.Hour:                     "1d",
		25*time.Hour + time.Second:         "1d1h1s",
		1500 * time.Millisecond:            "1.5s",
		time.Minute + 250*time.Millisecond: "1m0.25s",
		-time.Minute:                       "-1m",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestScheduleText(t *testing.T) {
	long := "DTSTART:20240101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9"
	tests := []struct {
		s      *orionv1.Schedule
		active bool
		want   string
	}{
		{nil, true, "-"},
		{&orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(time.Hour), Timezone: "UTC"}}}, true, "every 1h (UTC)"},
		{&orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "*/5 * * * *"}}}, false, "cron */5 * * * * [paused]"},
		{&orionv1.Schedule{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{Rrule: "FREQ=DAILY"}}}, true, "rrule FREQ=DAILY"},
		{&orionv1.Schedule{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{Rrule: long}}}, true, "rrule DTSTART:20240101T090000 RRULE:FREQ=WEEK..."},
	}
	for _, tt := range tests {
		if got := scheduleText(tt.s, tt.active); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestWriteProtoList_JSON(t *testing.T) {
	var buf bytes.Buffer
	if err := writeProtoList(&buf, []*orionv1.Deployment{}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "[]\n" {
		t.Errorf("empty list = %q", buf.String())
	}
	buf.Reset()
	if err := writeProtoList(&buf, []*orionv1.Deployment{{Id: "a", FlowName: "f", Name: "n"}}); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, buf.String())
	}
	// snake_case names, unpopulated fields present.
	for _, key := range []string{"id", "flow_name", "work_queue_name", "is_schedule_active", "schedule", "retry_delay"} {
		if _, ok := got[0][key]; !ok {
			t.Errorf("missing key %q in %s", key, buf.String())
		}
	}
	if got[0]["flow_kind"] != "FLOW_KIND_UNSPECIFIED" {
		t.Errorf("flow_kind = %v", got[0]["flow_kind"])
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{"": "-", "  ": "-", "a\tb": "a b", "line1\nline2": "line1 line2"} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}
