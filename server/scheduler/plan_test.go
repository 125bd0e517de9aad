package scheduler

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"pgregory.net/rapid"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// TestPlanDates_IncrementalMatchesFresh: evaluating a schedule pass after
// pass with the previous plan's ahead gives exactly the dates and check
// times that evaluating it from scratch (as after a restart) gives, for
// random schedules, limits and pass times — including across DST.
func TestPlanDates_IncrementalMatchesFresh(t *testing.T) {
	schedules := []*orionv1.Schedule{
		{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "* * * * *"}}},
		{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "*/7 1-3 * * *", Timezone: "America/New_York"}}},
		{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: "30 2 * * *", Timezone: "Europe/London"}}},
		{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(13 * time.Second), AnchorDate: timestamppb.New(time.Unix(1_700_000_000, 0))}}},
		{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(25 * time.Hour), Timezone: "Australia/Sydney", AnchorDate: timestamppb.New(time.Unix(1_700_000_000, 0))}}},
		{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{Rrule: "DTSTART:20270301T000000\nRRULE:FREQ=MINUTELY;INTERVAL=5;COUNT=400", Timezone: "America/New_York"}}},
	}
	rapid.Check(t, func(rt *rapid.T) {
		spec := schedules[rapid.IntRange(0, len(schedules)-1).Draw(rt, "schedule")]
		l := Limits{
			MinRuns: rapid.IntRange(0, 5).Draw(rt, "min_runs"),
			MinTime: time.Duration(rapid.IntRange(0, 180).Draw(rt, "min_minutes")) * time.Minute,
			MaxTime: time.Duration(rapid.IntRange(1, 30).Draw(rt, "max_days")) * 24 * time.Hour,
		}
		l.MaxRuns = rapid.IntRange(max(l.MinRuns, 1), 120).Draw(rt, "max_runs")
		lead := time.Duration(rapid.IntRange(0, 120).Draw(rt, "lead_seconds")) * time.Second
		sched, err := Parse(spec, time.Unix(0, 0))
		if err != nil {
			rt.Fatal(err)
		}
		now := time.Date(2027, 3, 13, 22, 0, 0, 0, time.UTC) // spring forward in New York
		var watermark time.Time
		prev := unknownAhead
		for pass := 0; pass < 40; pass++ {
			now = now.Add(time.Duration(rapid.IntRange(0, 7200).Draw(rt, "step_seconds")) * time.Second)
			inc := l.planDates(sched, watermark, now, prev, lead)
			fresh := l.planDates(sched, watermark, now, unknownAhead, lead)
			if !slices.Equal(inc.dates, fresh.dates) || !inc.checkAt.Equal(fresh.checkAt) {
				rt.Fatalf("pass %d at %s (watermark %s): incremental %v / %s, fresh %v / %s",
					pass, now, watermark, inc.dates, inc.checkAt, fresh.dates, fresh.checkAt)
			}
			if len(inc.dates) > 0 {
				watermark = inc.dates[len(inc.dates)-1]
			}
			prev = inc.ahead
		}
	})
}
