package scheduler

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

func intervalSchedule(every time.Duration, anchor, tz string) *orionv1.Schedule {
	iv := &orionv1.IntervalSchedule{Interval: durationpb.New(every), Timezone: tz}
	if anchor != "" {
		a, _ := time.Parse(time.RFC3339, anchor)
		iv.AnchorDate = timestamppb.New(a)
	}
	return &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: iv}}
}

func cronDayOr(expr, tz string, dayOr bool) *orionv1.Schedule {
	s := cronSchedule(expr, tz)
	s.GetCron().DayOr = proto.Bool(dayOr)
	return s
}

func rruleSchedule(r, tz string) *orionv1.Schedule {
	return &orionv1.Schedule{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{Rrule: r, Timezone: tz}}}
}

type datesCase struct {
	name       string
	s          *orionv1.Schedule
	start, end string
	n          int
	want       []string
}

func runDates(t *testing.T, tests []datesCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Dates(tc.s, mustTime(t, tc.start), mustTime(t, tc.end), tc.n)
			if err != nil {
				t.Fatalf("Dates: %v", err)
			}
			var gotS []string
			for _, d := range got {
				gotS = append(gotS, d.Format(time.RFC3339))
			}
			if strings.Join(gotS, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("dates\n got: %v\nwant: %v", gotS, tc.want)
			}
		})
	}
}

func TestDates_Interval(t *testing.T) {
	runDates(t, []datesCase{
		{"daily 9am keeps wall clock over NY spring forward", intervalSchedule(24*time.Hour, "2023-03-10T09:00:00-05:00", "America/New_York"),
			"2023-03-10T09:00:00-05:00", "", 4,
			[]string{"2023-03-10T09:00:00-05:00", "2023-03-11T09:00:00-05:00", "2023-03-12T09:00:00-04:00", "2023-03-13T09:00:00-04:00"}},
		{"hourly fires every real hour through NY fall back", intervalSchedule(time.Hour, "2023-11-05T00:00:00-04:00", "America/New_York"),
			"2023-11-05T00:00:00-04:00", "", 4,
			[]string{"2023-11-05T00:00:00-04:00", "2023-11-05T01:00:00-04:00", "2023-11-05T01:00:00-05:00", "2023-11-05T02:00:00-05:00"}},
		{"future anchor extends the grid backwards", intervalSchedule(time.Hour, "2030-01-01T00:00:00Z", ""),
			"2025-06-01T00:30:00Z", "", 2, []string{"2025-06-01T01:00:00Z", "2025-06-01T02:00:00Z"}},
		{"36h is a calendar day plus 12 elapsed hours", intervalSchedule(36*time.Hour, "2023-03-11T00:00:00-05:00", "America/New_York"),
			"2023-03-11T00:00:00-05:00", "", 3,
			[]string{"2023-03-11T00:00:00-05:00", "2023-03-12T13:00:00-04:00", "2023-03-14T00:00:00-04:00"}},
		{"daily over London fall back", intervalSchedule(24*time.Hour, "2023-10-28T09:00:00+01:00", "Europe/London"),
			"2023-10-28T09:00:00+01:00", "", 2, []string{"2023-10-28T09:00:00+01:00", "2023-10-29T09:00:00Z"}},
		{"daily over Sydney spring forward", intervalSchedule(24*time.Hour, "2023-09-30T09:00:00+10:00", "Australia/Sydney"),
			"2023-09-30T09:00:00+10:00", "", 2, []string{"2023-09-30T09:00:00+10:00", "2023-10-01T09:00:00+11:00"}},
		{"start inside the grid, old anchor", intervalSchedule(time.Hour, "2020-01-01T00:00:00Z", ""),
			"2026-05-05T10:20:00Z", "", 1, []string{"2026-05-05T11:00:00Z"}},
		{"end only is inclusive", intervalSchedule(time.Hour, "2020-01-01T00:00:00Z", ""),
			"2026-05-05T10:00:00Z", "2026-05-05T13:00:00Z", 0,
			[]string{"2026-05-05T10:00:00Z", "2026-05-05T11:00:00Z", "2026-05-05T12:00:00Z", "2026-05-05T13:00:00Z"}},
		{"daily 02:30 in the NY gap moves forward", intervalSchedule(24*time.Hour, "2023-03-11T02:30:00-05:00", "America/New_York"),
			"2023-03-11T00:00:00-05:00", "", 3,
			[]string{"2023-03-11T02:30:00-05:00", "2023-03-12T03:30:00-04:00", "2023-03-13T02:30:00-04:00"}},
		{"daily 01:30 ambiguous takes the first occurrence", intervalSchedule(24*time.Hour, "2023-11-04T01:30:00-04:00", "America/New_York"),
			"2023-11-04T00:00:00-04:00", "", 3,
			[]string{"2023-11-04T01:30:00-04:00", "2023-11-05T01:30:00-04:00", "2023-11-06T01:30:00-05:00"}},
		{"n and end together", intervalSchedule(time.Hour, "2020-01-01T00:00:00Z", ""),
			"2026-05-05T10:00:00Z", "2026-05-05T11:00:00Z", 5, []string{"2026-05-05T10:00:00Z", "2026-05-05T11:00:00Z"}},
	})
}

func TestDates_Cron(t *testing.T) {
	runDates(t, []datesCase{
		{"Prefect reference: Montreal daily from a DST day", cronSchedule("10 0 * * *", "America/Montreal"),
			"2023-03-12T05:10:02Z", "", 3,
			[]string{"2023-03-13T00:10:00-04:00", "2023-03-14T00:10:00-04:00", "2023-03-15T00:10:00-04:00"}},
		{"Prefect reference: NY fall-back hourly fires at UTC 3,4,5,7,8", cronSchedule("0 * * * *", "America/New_York"),
			"2023-11-05T03:00:00Z", "", 5,
			[]string{"2023-11-04T23:00:00-04:00", "2023-11-05T00:00:00-04:00", "2023-11-05T01:00:00-04:00", "2023-11-05T02:00:00-05:00", "2023-11-05T03:00:00-05:00"}},
		{"issue example: NY spring-forward hourly", cronSchedule("0 * * * *", "America/New_York"),
			"2018-03-11T01:00:00-05:00", "", 2, []string{"2018-03-11T01:00:00-05:00", "2018-03-11T03:00:00-04:00"}},
		{"NY spring forward skips the missing 02:30", cronSchedule("30 2 * * *", "America/New_York"),
			"2023-03-11T00:00:00-05:00", "", 3,
			[]string{"2023-03-11T02:30:00-05:00", "2023-03-13T02:30:00-04:00", "2023-03-14T02:30:00-04:00"}},
		{"London fall back fires 01:30 once, first occurrence", cronSchedule("30 1 * * *", "Europe/London"),
			"2023-10-28T12:00:00Z", "", 3,
			[]string{"2023-10-29T01:30:00+01:00", "2023-10-30T01:30:00Z", "2023-10-31T01:30:00Z"}},
		{"London: start in the repeated hour does not refire it", cronSchedule("*/30 * * * *", "Europe/London"),
			"2023-10-29T01:15:00Z", "", 2, []string{"2023-10-29T02:00:00Z", "2023-10-29T02:30:00Z"}},
		{"Sydney spring forward skips 02:30", cronSchedule("30 2 * * *", "Australia/Sydney"),
			"2023-09-30T00:00:00+10:00", "", 3,
			[]string{"2023-09-30T02:30:00+10:00", "2023-10-02T02:30:00+11:00", "2023-10-03T02:30:00+11:00"}},
		{"Sydney fall back hourly fires 02:00 once", cronSchedule("0 * * * *", "Australia/Sydney"),
			"2023-04-02T00:00:00+11:00", "", 5,
			[]string{"2023-04-02T00:00:00+11:00", "2023-04-02T01:00:00+11:00", "2023-04-02T02:00:00+11:00", "2023-04-02T03:00:00+10:00", "2023-04-02T04:00:00+10:00"}},
		{"day_or default: the 13th or a Friday", cronSchedule("0 0 13 * 5", ""),
			"2023-10-01T00:00:00Z", "", 3, []string{"2023-10-06T00:00:00Z", "2023-10-13T00:00:00Z", "2023-10-20T00:00:00Z"}},
		{"day_or false: Friday the 13th", cronDayOr("0 0 13 * FRI", "", false),
			"2023-10-01T00:00:00Z", "", 3, []string{"2023-10-13T00:00:00Z", "2024-09-13T00:00:00Z", "2024-12-13T00:00:00Z"}},
		{"day_or false with a star day field changes nothing", cronDayOr("0 0 * * MON", "", false),
			"2023-10-01T00:00:00Z", "", 1, []string{"2023-10-02T00:00:00Z"}},
		{"keyword and names", cronSchedule("@daily", "Europe/London"),
			"2023-06-01T12:00:00Z", "", 1, []string{"2023-06-02T00:00:00+01:00"}},
		{"start is inclusive", cronSchedule("0 * * * *", ""), "2023-06-01T10:00:00Z", "", 1, []string{"2023-06-01T10:00:00Z"}},
		{"sub-second past a match", cronSchedule("0 * * * *", ""), "2023-06-01T10:00:00.5Z", "", 1, []string{"2023-06-01T11:00:00Z"}},
		{"never matches", cronSchedule("0 0 30 2 *", ""), "2023-06-01T10:00:00Z", "", 1, nil},
		{"end without n", cronSchedule("0 9 * * MON-FRI", "UTC"), "2023-06-02T00:00:00Z", "2023-06-06T09:00:00Z", 0,
			[]string{"2023-06-02T09:00:00Z", "2023-06-05T09:00:00Z", "2023-06-06T09:00:00Z"}},
	})
}

func TestDates_RRule(t *testing.T) {
	runDates(t, []datesCase{
		{"COUNT ends the series", rruleSchedule("DTSTART:20230101T090000\nRRULE:FREQ=DAILY;COUNT=3", "America/New_York"),
			"2022-12-01T00:00:00Z", "", 100,
			[]string{"2023-01-01T09:00:00-05:00", "2023-01-02T09:00:00-05:00", "2023-01-03T09:00:00-05:00"}},
		{"UNTIL ends the series", rruleSchedule("DTSTART:20230101T090000Z\nRRULE:FREQ=WEEKLY;UNTIL=20230201T000000Z", ""),
			"2022-12-01T00:00:00Z", "", 100,
			[]string{"2023-01-01T09:00:00Z", "2023-01-08T09:00:00Z", "2023-01-15T09:00:00Z", "2023-01-22T09:00:00Z", "2023-01-29T09:00:00Z"}},
		{"set: two RRULEs, RDATE and EXDATE", rruleSchedule("DTSTART:20230101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO\nRRULE:FREQ=WEEKLY;BYDAY=FR\nRDATE:20230104T120000\nEXDATE:20230106T090000", ""),
			"2023-01-01T00:00:00Z", "", 4,
			[]string{"2023-01-02T09:00:00Z", "2023-01-04T12:00:00Z", "2023-01-09T09:00:00Z", "2023-01-13T09:00:00Z"}},
		{"EXRULE removes dates", rruleSchedule("DTSTART:20230101T000000\nRRULE:FREQ=DAILY;COUNT=7\nEXRULE:FREQ=DAILY;INTERVAL=2;COUNT=4", ""),
			"2023-01-01T00:00:00Z", "", 10, []string{"2023-01-02T00:00:00Z", "2023-01-04T00:00:00Z", "2023-01-06T00:00:00Z"}},
		{"no DTSTART anchors at 2020-01-01 in the zone", rruleSchedule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "Europe/London"),
			"2023-06-01T00:00:00Z", "", 2, []string{"2023-06-01T09:00:00+01:00", "2023-06-02T09:00:00+01:00"}},
		{"TZID DTSTART keeps 9am over NY spring forward", rruleSchedule("DTSTART;TZID=America/New_York:20230310T090000\nRRULE:FREQ=DAILY;COUNT=3", ""),
			"2023-03-01T00:00:00Z", "", 5,
			[]string{"2023-03-10T09:00:00-05:00", "2023-03-11T09:00:00-05:00", "2023-03-12T09:00:00-04:00"}},
		{"floating DTSTART read in Sydney", rruleSchedule("DTSTART:20230930T090000\nRRULE:FREQ=DAILY;COUNT=2", "Australia/Sydney"),
			"2023-09-01T00:00:00Z", "", 5, []string{"2023-09-30T09:00:00+10:00", "2023-10-01T09:00:00+11:00"}},
		{"start after some dates", rruleSchedule("DTSTART:20230101T000000Z\nRRULE:FREQ=HOURLY;COUNT=5", ""),
			"2023-01-01T02:00:00Z", "", 10, []string{"2023-01-01T02:00:00Z", "2023-01-01T03:00:00Z", "2023-01-01T04:00:00Z"}},
		// DST as in cron, in every zone: a missing local time is skipped, a
		// repeated one is its first occurrence.
		{"NY spring forward skips the missing 02:30", rruleSchedule("DTSTART:20230311T023000\nRRULE:FREQ=DAILY", "America/New_York"),
			"2023-03-11T00:00:00-05:00", "", 3,
			[]string{"2023-03-11T02:30:00-05:00", "2023-03-13T02:30:00-04:00", "2023-03-14T02:30:00-04:00"}},
		{"NY 15 minutes go on after the gap", rruleSchedule("DTSTART:20230312T013000\nRRULE:FREQ=MINUTELY;INTERVAL=15", "America/New_York"),
			"2023-03-12T01:30:00-05:00", "", 4,
			[]string{"2023-03-12T01:30:00-05:00", "2023-03-12T01:45:00-05:00", "2023-03-12T03:00:00-04:00", "2023-03-12T03:15:00-04:00"}},
		{"Sydney spring forward skips the missing 02:30", rruleSchedule("DTSTART:20230930T023000\nRRULE:FREQ=DAILY", "Australia/Sydney"),
			"2023-09-30T00:00:00+10:00", "", 3,
			[]string{"2023-09-30T02:30:00+10:00", "2023-10-02T02:30:00+11:00", "2023-10-03T02:30:00+11:00"}},
		{"Sydney fall back fires 02:30 once, first occurrence", rruleSchedule("DTSTART:20230401T023000\nRRULE:FREQ=DAILY", "Australia/Sydney"),
			"2023-04-01T00:00:00+11:00", "", 3,
			[]string{"2023-04-01T02:30:00+11:00", "2023-04-02T02:30:00+11:00", "2023-04-03T02:30:00+10:00"}},
		{"London fall back hourly fires 01:00 once, first occurrence", rruleSchedule("DTSTART:20231028T000000\nRRULE:FREQ=HOURLY", "Europe/London"),
			"2023-10-29T00:00:00+01:00", "", 3,
			[]string{"2023-10-29T00:00:00+01:00", "2023-10-29T01:00:00+01:00", "2023-10-29T02:00:00Z"}},
		{"London EXDATE of a repeated time removes its first occurrence",
			rruleSchedule("DTSTART:20231028T013000\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE:20231029T013000", "Europe/London"),
			"2023-10-28T00:00:00Z", "", 5, []string{"2023-10-28T01:30:00+01:00", "2023-10-30T01:30:00Z"}},
		{"a rule of missing times only has no dates", rruleSchedule("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYHOUR=2;BYMINUTE=30", "America/New_York"),
			"2023-01-01T00:00:00Z", "", 3, nil},
	})
}

func TestParse_RRuleErrors(t *testing.T) {
	for _, r := range []string{
		"DTSTART:20230101T000000\nDTSTART:20230102T000000\nRRULE:FREQ=DAILY",
		"FOO:bar\nRRULE:FREQ=DAILY",
		"DTSTART:20230101T000000",
	} {
		if _, err := Parse(rruleSchedule(r, ""), time.Now()); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", r)
		}
	}
	if _, err := Parse(cronSchedule("@every 5m", ""), time.Now()); err == nil || !strings.Contains(err.Error(), "interval") {
		t.Errorf("@every: error %v, want one suggesting an interval schedule", err)
	}
}

func TestDates_IntervalDefaultAnchorIsNow(t *testing.T) {
	got, err := Dates(intervalSchedule(time.Hour, "", ""), time.Time{}, time.Time{}, 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("Dates = %v, %v", got, err)
	}
	if d := time.Until(got[0]); d < -time.Second || d > time.Second {
		t.Fatalf("first date %v is not now", got[0])
	}
}
