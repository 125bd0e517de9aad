package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/scheduler"
)

// SetDeploymentScheduleActive flips the stored flag.
func (f *fakeOrion) SetDeploymentScheduleActive(_ context.Context, req *orionv1.SetDeploymentScheduleActiveRequest) (*orionv1.SetDeploymentScheduleActiveResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.deployments {
		if d.Id == req.Id {
			d.IsScheduleActive = req.Active
			return &orionv1.SetDeploymentScheduleActiveResponse{Deployment: d}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "deployment %s not found", req.Id)
}

// BackfillDeployment answers with the number of hours in the window as
// created runs, as an hourly schedule would.
func (f *fakeOrion) BackfillDeployment(_ context.Context, req *orionv1.BackfillDeploymentRequest) (*orionv1.BackfillDeploymentResponse, error) {
	hours := req.EndTime.AsTime().Sub(req.StartTime.AsTime()) / time.Hour
	return &orionv1.BackfillDeploymentResponse{Created: int32(hours) + 1, Existing: 2}, nil
}

// scheduleEnv is a CLI env wired to the server's schedule math.
func scheduleEnv(t *testing.T, f *fakeOrion) *cliEnv {
	e := newEnv(t, f)
	e.ext.PreviewSchedule = scheduler.Dates
	return e
}

func TestSchedulePreview(t *testing.T) {
	e := scheduleEnv(t, nil)
	r := e.mustRun(0, "schedule", "preview", "--cron", "0 * * * *", "--timezone", "America/New_York",
		"--start", "2018-03-11T01:00:00-05:00", "-n", "2", "-o", "json")
	var got []string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not one JSON array: %v\n%s", err, r.stdout)
	}
	if strings.Join(got, " ") != "2018-03-11T01:00:00-05:00 2018-03-11T03:00:00-04:00" || r.stderr != "" {
		t.Fatalf("json = %v, stderr %q", got, r.stderr)
	}

	r = e.mustRun(0, "schedule", "preview", "--interval", "86400", "--anchor-date", "2023-03-10T09:00:00-05:00",
		"--timezone", "America/New_York", "--start", "2023-03-11T00:00:00Z", "-n", "2")
	equalLines(t, r.stdout,
		"#   SCHEDULED TIME              ZONE                     UTC",
		"1   2023-03-11T09:00:00-05:00   America/New_York (EST)   2023-03-11T14:00:00Z",
		"2   2023-03-12T09:00:00-04:00   America/New_York (EDT)   2023-03-12T13:00:00Z",
	)

	// No -n and no --end: one date. Only --end: every date up to it.
	r = e.mustRun(0, "schedule", "preview", "--cron", "@daily", "--start", "2024-01-01T00:00:00Z", "-o", "json")
	equalLines(t, r.stdout, "[", `  "2024-01-01T00:00:00Z"`, "]")
	r = e.mustRun(0, "schedule", "preview", "--cron", "0 0 * * *", "--start", "2024-01-01T00:00:00Z", "--end", "2024-01-03T00:00:00Z", "-o", "json")
	if strings.Count(r.stdout, `"2024-01-0`) != 3 {
		t.Fatalf("--end only:\n%s", r.stdout)
	}
	r = e.mustRun(0, "schedule", "preview", "--interval", "1", "--anchor-date", "2024-01-01T00:00:00Z",
		"--start", "2024-01-01T00:00:00Z", "--end", "2024-01-02T00:00:00Z", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != scheduler.MaxIterations {
		t.Fatalf("--end only is capped at %d dates, got %d (%v)", scheduler.MaxIterations, len(got), err)
	}

	// --rrule takes the two characters \n between lines; --day-or=false is AND.
	r = e.mustRun(0, "schedule", "preview", "--rrule", `DTSTART:20230930T090000\nRRULE:FREQ=DAILY;COUNT=2`,
		"--timezone", "Australia/Sydney", "--start", "2023-01-01T00:00:00Z", "-n", "5", "-o", "json")
	equalLines(t, r.stdout, "[", `  "2023-09-30T09:00:00+10:00",`, `  "2023-10-01T09:00:00+11:00"`, "]")
	r = e.mustRun(0, "schedule", "preview", "--cron", "0 0 13 * FRI", "--day-or=false", "--start", "2023-10-01T00:00:00Z", "-o", "json")
	equalLines(t, r.stdout, "[", `  "2023-10-13T00:00:00Z"`, "]")

	// Sub-second dates keep their fraction (else 0.5 s apart print alike).
	r = e.mustRun(0, "schedule", "preview", "--interval", "0.5", "--anchor-date", "2024-01-01T00:00:00Z",
		"--start", "2024-01-01T00:00:00Z", "-n", "3", "-o", "json")
	equalLines(t, r.stdout, "[", `  "2024-01-01T00:00:00Z",`, `  "2024-01-01T00:00:00.5Z",`, `  "2024-01-01T00:00:01Z"`, "]")
	r = e.mustRun(0, "schedule", "preview", "--interval", "1.25", "--anchor-date", "2024-01-01T00:00:00Z",
		"--timezone", "Europe/London", "--start", "2024-01-01T00:00:00.5Z", "-n", "1")
	equalLines(t, r.stdout,
		"#   SCHEDULED TIME                 ZONE                  UTC",
		"1   2024-01-01T00:00:01.25+00:00   Europe/London (GMT)   2024-01-01T00:00:01.25Z")
}

func TestSchedulePreview_BadInput(t *testing.T) {
	e := scheduleEnv(t, nil)
	for _, args := range [][]string{
		{"--interval", "0"},
		{"--interval", "60", "--cron", "* * * * *"},
		{},
		{"--cron", "61 * * * *"},
		{"--cron", "H * * * *"},
		{"--cron", "* * * * *", "--timezone", "Mars/Olympus"},
		{"--rrule", "FREQ=SOMETIMES"},
		{"--cron", "* * * * *", "-n", "0"},
		{"--cron", "* * * * *", "--start", "yesterday"},
		{"--cron", "* * * * *", "--start", "2024-01-02T00:00:00Z", "--end", "2024-01-01T00:00:00Z"},
		{"--interval", "60", "--day-or=false"},
		{"--cron", "* * * * *", "--bogus"},
		{"--cron", "* * * * *", "-o", "yaml"},
	} {
		r := e.run(append([]string{"schedule", "preview"}, args...)...)
		if r.code != 2 || r.stdout != "" || len(lines(r.stderr)) != 1 || !strings.HasPrefix(r.stderr, "Error: ") {
			t.Errorf("preview %v: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", args, r.code, r.stdout, r.stderr)
		}
	}
	e.ext.PreviewSchedule = nil
	r := e.mustRun(1, "schedule", "preview", "--cron", "* * * * *")
	equalLines(t, r.stderr, "Error: schedule preview is not available in this build")
}

func TestDeploymentScheduleCommands(t *testing.T) {
	f := newFakeOrion()
	daily, weekly, other := seedDeployments(f)
	e := scheduleEnv(t, f)

	r := e.mustRun(0, "deployment", "preview", "hello/weekly", "-n", "3", "-o", "json")
	var got []string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 3 {
		t.Fatalf("preview: %v %v\n%s", got, err, r.stdout)
	}
	for _, d := range got {
		ts, _ := time.Parse(time.RFC3339, d)
		if ts.Weekday() != time.Monday || ts.Hour() != 9 || !ts.After(time.Now()) {
			t.Fatalf("%s is not a coming Monday 09:00", d)
		}
	}
	r = e.mustRun(0, "deployment", "preview", daily.Id)
	if len(lines(r.stdout)) != 2 {
		t.Fatalf("default -n is 1:\n%s", r.stdout)
	}
	r = e.mustRun(1, "deployment", "preview", "zeta/adhoc")
	equalLines(t, r.stderr, "Error: deployment 'zeta/adhoc' has no schedule")

	r = e.mustRun(0, "deployment", "pause-schedule", "hello/weekly")
	equalLines(t, r.stdout, "Paused the schedule of deployment 'hello/weekly'")
	r = e.mustRun(0, "deployment", "preview", "hello/weekly")
	if !strings.Contains(r.stderr, "paused") {
		t.Fatalf("no paused note on stderr: %q", r.stderr)
	}
	r = e.mustRun(0, "deployment", "resume-schedule", weekly.Id)
	equalLines(t, r.stdout, "Resumed the schedule of deployment 'hello/weekly'")
	e.mustRun(1, "deployment", "pause-schedule", other.Id)

	r = e.mustRun(0, "deployment", "backfill", "hello/daily", "--start", "2024-01-01T00:00:00Z", "--end", "2024-01-01T05:00:00Z")
	equalLines(t, r.stdout, "Created 6 runs of deployment 'hello/daily' between 2024-01-01T00:00:00Z and 2024-01-01T05:00:00Z (2 already existed)")
	r = e.mustRun(2, "deployment", "backfill", "hello/daily", "--start", "2024-01-01T00:00:00Z")
	equalLines(t, r.stderr, "Error: --start and --end are both required")
	e.mustRun(2, "deployment", "backfill", "hello/daily", "--start", "2024-01-02T00:00:00Z", "--end", "2024-01-01T00:00:00Z")
	r = e.mustRun(1, "deployment", "backfill", "hello/nope", "--start", "2024-01-01T00:00:00Z", "--end", "2024-01-01T05:00:00Z")
	if !strings.Contains(r.stderr, "not found") {
		t.Fatalf("stderr %q", r.stderr)
	}
}
