package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exampleDeployment is the part of `orion deployment inspect -o json` that
// docs/schedules.md describes.
type exampleDeployment struct {
	ID               string `json:"id"`
	IsScheduleActive bool   `json:"is_schedule_active"`
	Schedule         struct {
		Interval *struct {
			Interval   string `json:"interval"`
			AnchorDate string `json:"anchor_date"`
			Timezone   string `json:"timezone"`
		} `json:"interval"`
		Cron *struct {
			Cron     string `json:"cron"`
			Timezone string `json:"timezone"`
			DayOr    *bool  `json:"day_or"`
		} `json:"cron"`
		RRule *struct {
			RRule    string `json:"rrule"`
			Timezone string `json:"timezone"`
		} `json:"rrule"`
	} `json:"schedule"`
	raw string // the whole output, for failure messages
}

// exampleRun is the part of `orion flow-run ls -o json` checked here.
type exampleRun struct {
	Tags              []string  `json:"tags"`
	AutoScheduled     bool      `json:"auto_scheduled"`
	IdempotencyKey    string    `json:"idempotency_key"`
	ExpectedStartTime time.Time `json:"expected_start_time"`
	State             struct {
		Type string `json:"type"`
	} `json:"state"`
}

// TestEndToEnd_ScheduleExamples creates examples/schedules/deployments.yaml
// and examples/schedules/flow.py on a real server and checks what
// docs/schedules.md says about them: the CLI's output, the stored
// schedules, their next dates (in the right zone offsets and spacing,
// whatever today's date), their dates across fixed DST changes, the
// scheduler's runs, backfill, pause and resume.
func TestEndToEnd_ScheduleExamples(t *testing.T) {
	e := newEnv(t)
	e.startServer()

	created := time.Now()
	r := e.mustRun("deployment", "create", "examples/schedules/deployments.yaml")
	exampleLines(t, r.stdout,
		"Loading deployments from yaml file at 'examples/schedules/deployments.yaml'...",
		"Created deployment 'every-15-minutes' for flow 'schedule-examples'",
		"Created deployment 'weekdays-9am-london' for flow 'schedule-examples'",
		"Created deployment 'first-monday-sydney' for flow 'schedule-examples'")
	r = e.mustRun("deployment", "create", "examples/schedules/flow.py")
	exampleLines(t, r.stdout,
		"Loading deployments from python script at 'examples/schedules/flow.py'...",
		"Created deployment 'daily-730-new-york' for flow 'nightly-report'",
		"Created deployment 'every-6-hours-sydney' for flow 'nightly-report'")

	// The stored schedules, as the docs show them.
	inspect := func(name string) exampleDeployment {
		t.Helper()
		d := exampleDeployment{raw: e.mustRun("deployment", "inspect", name, "-o", "json").stdout}
		if err := json.Unmarshal([]byte(d.raw), &d); err != nil {
			t.Fatalf("inspect %s: %v", name, err)
		}
		return d
	}
	every15 := inspect("schedule-examples/every-15-minutes")
	if iv := every15.Schedule.Interval; iv == nil || iv.Interval != "900s" || iv.AnchorDate != "2024-01-01T05:00:00Z" || iv.Timezone != "America/New_York" {
		t.Fatalf("every-15-minutes stored:\n%s", every15.raw)
	}
	london := inspect("schedule-examples/weekdays-9am-london")
	if c := london.Schedule.Cron; c == nil || c.Cron != "0 9 * * MON-FRI" || c.Timezone != "Europe/London" || c.DayOr != nil {
		t.Fatalf("weekdays-9am-london stored:\n%s", london.raw)
	}
	monthly := inspect("schedule-examples/first-monday-sydney")
	if rr := monthly.Schedule.RRule; rr == nil || rr.RRule != "DTSTART:20240101T083000\nRRULE:FREQ=MONTHLY;BYDAY=1MO\n" || rr.Timezone != "Australia/Sydney" {
		t.Fatalf("first-monday-sydney stored:\n%s", monthly.raw)
	}
	daily := inspect("nightly-report/daily-730-new-york")
	if iv := daily.Schedule.Interval; iv == nil || iv.Interval != "86400s" || iv.AnchorDate != "2024-01-01T12:30:00Z" || iv.Timezone != "America/New_York" {
		t.Fatalf("daily-730-new-york stored:\n%s", daily.raw)
	}
	sixHours := inspect("nightly-report/every-6-hours-sydney")
	if c := sixHours.Schedule.Cron; c == nil || c.Cron != "0 */6 * * *" || c.Timezone != "Australia/Sydney" || c.DayOr == nil || !*c.DayOr {
		t.Fatalf("every-6-hours-sydney stored:\n%s", sixHours.raw)
	}

	// The next dates from now: properties that hold on any day.
	preview := func(name string, n int, zone string) []time.Time {
		t.Helper()
		before := time.Now()
		out := e.mustRun("deployment", "preview", name, "-n", strconv.Itoa(n), "-o", "json").stdout
		dates := zonedDates(t, out, zone)
		if len(dates) != n || dates[0].Before(before) {
			t.Fatalf("preview %s: %s, want %d dates on or after %s", name, out, n, before)
		}
		for i := 1; i < len(dates); i++ {
			if !dates[i].After(dates[i-1]) {
				t.Fatalf("preview %s: dates out of order: %s", name, out)
			}
		}
		return dates
	}
	dates := preview("schedule-examples/every-15-minutes", 8, "America/New_York")
	for i, d := range dates {
		if d.Minute()%15 != 0 || d.Second() != 0 || (i > 0 && d.Sub(dates[i-1]) != 15*time.Minute) {
			t.Fatalf("every-15-minutes date %s is off the 15-minute grid: %v", d, dates)
		}
	}
	dates = preview("schedule-examples/weekdays-9am-london", 6, "Europe/London")
	for i, d := range dates {
		if d.Hour() != 9 || d.Minute() != 0 || d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			t.Fatalf("weekdays-9am-london date %s is not 09:00 on a weekday in London", d)
		}
		if i > 0 && nextWeekday(dates[i-1]) != d.Format(time.DateOnly) {
			t.Fatalf("weekdays-9am-london: %s follows %s, want the next weekday", d, dates[i-1])
		}
	}
	dates = preview("schedule-examples/first-monday-sydney", 3, "Australia/Sydney")
	for i, d := range dates {
		if d.Hour() != 8 || d.Minute() != 30 || d.Weekday() != time.Monday || d.Day() > 7 {
			t.Fatalf("first-monday-sydney date %s is not 08:30 on a first Monday in Sydney", d)
		}
		if i > 0 && d.Year()*12+int(d.Month()) != dates[i-1].Year()*12+int(dates[i-1].Month())+1 {
			t.Fatalf("first-monday-sydney: %s follows %s, want the next month", d, dates[i-1])
		}
	}
	dates = preview("nightly-report/daily-730-new-york", 4, "America/New_York")
	for i, d := range dates {
		if d.Hour() != 7 || d.Minute() != 30 || (i > 0 && dates[i-1].AddDate(0, 0, 1).Format(time.DateOnly) != d.Format(time.DateOnly)) {
			t.Fatalf("daily-730-new-york: %v are not 07:30 New York time on consecutive days", dates)
		}
	}
	for _, d := range preview("nightly-report/every-6-hours-sydney", 4, "Australia/Sydney") {
		if d.Hour()%6 != 0 || d.Minute() != 0 {
			t.Fatalf("every-6-hours-sydney date %s is not at 00, 06, 12 or 18 Sydney time", d)
		}
	}

	// The same schedules across fixed DST changes (the docs' examples),
	// through `orion schedule preview` with the stored fields.
	fixed := func(args ...string) []string {
		t.Helper()
		var out []string
		if err := json.Unmarshal([]byte(e.mustRun(append([]string{"schedule", "preview", "-o", "json"}, args...)...).stdout), &out); err != nil {
			t.Fatalf("schedule preview %v: %v", args, err)
		}
		return out
	}
	seconds := func(d string) string { return strings.TrimSuffix(d, "s") }
	iv, c, rr := every15.Schedule.Interval, london.Schedule.Cron, monthly.Schedule.RRule
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"every 15 minutes through New York's repeated hour",
			fixed("--interval", seconds(iv.Interval), "--anchor-date", iv.AnchorDate, "--timezone", iv.Timezone, "--start", "2024-11-03T01:30:00-04:00", "-n", "4"),
			[]string{"2024-11-03T01:30:00-04:00", "2024-11-03T01:45:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T01:15:00-05:00"}},
		{"09:00 London on weekdays over the spring-forward weekend",
			fixed("--cron", c.Cron, "--timezone", c.Timezone, "--start", "2024-03-28T00:00:00Z", "-n", "3"),
			[]string{"2024-03-28T09:00:00+00:00", "2024-03-29T09:00:00+00:00", "2024-04-01T09:00:00+01:00"}},
		{"first Monday 08:30 Sydney as daylight saving ends",
			fixed("--rrule", rr.RRule, "--timezone", rr.Timezone, "--start", "2024-03-01T00:00:00Z", "-n", "3"),
			[]string{"2024-03-04T08:30:00+11:00", "2024-04-01T08:30:00+11:00", "2024-05-06T08:30:00+10:00"}},
		{"daily 07:30 New York over spring forward",
			fixed("--interval", seconds(daily.Schedule.Interval.Interval), "--anchor-date", daily.Schedule.Interval.AnchorDate,
				"--timezone", "America/New_York", "--start", "2024-03-09T00:00:00-05:00", "-n", "3"),
			[]string{"2024-03-09T07:30:00-05:00", "2024-03-10T07:30:00-04:00", "2024-03-11T07:30:00-04:00"}},
		{"cron every 6 hours as Sydney falls back",
			fixed("--cron", sixHours.Schedule.Cron.Cron, "--timezone", "Australia/Sydney", "--start", "2024-04-06T12:00:00+11:00", "-n", "4"),
			[]string{"2024-04-06T12:00:00+11:00", "2024-04-06T18:00:00+11:00", "2024-04-07T00:00:00+11:00", "2024-04-07T06:00:00+10:00"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, tc.got, tc.want)
		}
	}
	r = e.mustRun("schedule", "preview", "--cron", c.Cron, "--timezone", c.Timezone, "--start", "2024-03-29T00:00:00Z", "-n", "2")
	exampleLines(t, r.stdout,
		"#   SCHEDULED TIME              ZONE                  UTC",
		"1   2024-03-29T09:00:00+00:00   Europe/London (GMT)   2024-03-29T09:00:00Z",
		"2   2024-04-01T09:00:00+01:00   Europe/London (BST)   2024-04-01T08:00:00Z")

	// The scheduler keeps at least 3 runs and an hour ahead, topped up to
	// an hour past the deployment's next slot (at most ORION_SCHEDULER_SPREAD,
	// 5 minutes, away): five or six runs of the 15-minute schedule (one more
	// once a date passes during the test).
	listRuns := func(name string) []exampleRun {
		t.Helper()
		var runs []exampleRun
		if err := json.Unmarshal([]byte(e.mustRun("flow-run", "ls", "--deployment", name, "--limit", "0", "-o", "json").stdout), &runs); err != nil {
			t.Fatalf("flow-run ls: %v", err)
		}
		return runs
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	var runs []exampleRun
	for runs = listRuns("schedule-examples/every-15-minutes"); len(runs) < 5; runs = listRuns("schedule-examples/every-15-minutes") {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the scheduler created %d runs of every-15-minutes in 20s, want 5", len(runs))
		}
	}
	latest := time.Time{}
	for _, run := range runs {
		at := run.ExpectedStartTime
		if !run.AutoScheduled || !slices.Contains(run.Tags, "auto-scheduled") || run.State.Type != "STATE_TYPE_SCHEDULED" ||
			run.IdempotencyKey != "scheduled "+every15.ID+" "+at.UTC().Format(time.RFC3339) || at.Minute()%15 != 0 {
			t.Fatalf("auto-scheduled run = %+v", run)
		}
		if at.After(latest) {
			latest = at
		}
	}
	if len(runs) > 7 || latest.Before(created.Add(time.Hour)) || latest.After(time.Now().Add(time.Hour+5*time.Minute+15*time.Minute)) {
		t.Fatalf("%d runs up to %s; want 5 to 7 reaching just past an hour and a slot ahead", len(runs), latest)
	}

	// Backfill a past window over London's spring-forward weekend, twice.
	const backfill = "Created %d runs of deployment 'schedule-examples/weekdays-9am-london' between 2024-03-25T00:00:00Z and 2024-04-05T23:59:59Z (%d already existed)"
	for _, want := range []string{strings.Replace(strings.Replace(backfill, "%d", "10", 1), "%d", "0", 1), strings.Replace(strings.Replace(backfill, "%d", "0", 1), "%d", "10", 1)} {
		r = e.mustRun("deployment", "backfill", "schedule-examples/weekdays-9am-london", "--start", "2024-03-25T00:00:00Z", "--end", "2024-04-05T23:59:59Z")
		exampleLines(t, r.stdout, want)
	}
	var backfilled []string
	for _, run := range listRuns("schedule-examples/weekdays-9am-london") {
		if slices.Contains(run.Tags, "backfill") && slices.Contains(run.Tags, "auto-scheduled") && run.AutoScheduled {
			backfilled = append(backfilled, run.ExpectedStartTime.UTC().Format("01-02T15"))
		}
	}
	slices.Sort(backfilled)
	if want := []string{"03-25T09", "03-26T09", "03-27T09", "03-28T09", "03-29T09", "04-01T08", "04-02T08", "04-03T08", "04-04T08", "04-05T08"}; !slices.Equal(backfilled, want) {
		t.Fatalf("backfilled runs at (UTC) %v, want %v", backfilled, want)
	}

	// Pause: the unstarted auto-scheduled runs (backfilled ones too) go; a
	// redeploy keeps the schedule paused; resume.
	r = e.mustRun("deployment", "pause-schedule", "schedule-examples/weekdays-9am-london")
	exampleLines(t, r.stdout, "Paused the schedule of deployment 'schedule-examples/weekdays-9am-london'")
	if runs := listRuns("schedule-examples/weekdays-9am-london"); len(runs) != 0 {
		t.Fatalf("%d runs left after pausing, want 0", len(runs))
	}
	r = e.mustRun("deployment", "preview", "schedule-examples/weekdays-9am-london")
	exampleLines(t, r.stderr, "Note: the schedule of 'schedule-examples/weekdays-9am-london' is paused; these dates will not run until it is resumed.")
	r = e.mustRun("deployment", "create", "examples/schedules/deployments.yaml")
	assertInOrder(t, r.stdout, "Updated deployment 'every-15-minutes'", "Updated deployment 'weekdays-9am-london'", "Updated deployment 'first-monday-sydney'")
	if inspect("schedule-examples/weekdays-9am-london").IsScheduleActive {
		t.Fatal("a redeploy re-activated the paused schedule")
	}
	r = e.mustRun("deployment", "resume-schedule", "schedule-examples/weekdays-9am-london")
	exampleLines(t, r.stdout, "Resumed the schedule of deployment 'schedule-examples/weekdays-9am-london'")
	if !inspect("schedule-examples/weekdays-9am-london").IsScheduleActive {
		t.Fatal("resume-schedule left the schedule paused")
	}
}

// nextWeekday is the date (YYYY-MM-DD) of the weekday after d.
func nextWeekday(d time.Time) string {
	d = d.AddDate(0, 0, 1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(time.DateOnly)
}

// zonedDates parses a JSON array of dates and checks that each carries
// zone's UTC offset at that instant.
func zonedDates(t *testing.T, out, zone string) []time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	if err := json.Unmarshal([]byte(out), &texts); err != nil {
		t.Fatalf("not one JSON array: %v\n%s", err, out)
	}
	dates := make([]time.Time, len(texts))
	for i, s := range texts {
		d, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("date %q: %v", s, err)
		}
		dates[i] = d.In(loc)
		if local := dates[i].Format("2006-01-02T15:04:05-07:00"); local != s {
			t.Fatalf("date %q does not carry %s's offset (%s)", s, zone, local)
		}
	}
	return dates
}

// exampleLines checks out line by line.
func exampleLines(t *testing.T, out string, want ...string) {
	t.Helper()
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !slices.Equal(got, want) {
		t.Fatalf("output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}
