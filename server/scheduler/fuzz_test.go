package scheduler

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// FuzzSchedule parses arbitrary interval, cron and rrule schedules: no
// panic; an invalid one is refused with a one-line message naming
// "schedule"; a valid one yields at most n strictly increasing dates inside
// the window, and Validate agrees with Parse.
func FuzzSchedule(f *testing.F) {
	f.Add(uint8(0), "", "America/New_York", int64(3600), int64(1_600_000_000))
	f.Add(uint8(0), "", "Europe/London", int64(86400), int64(1_900_000_000))
	f.Add(uint8(1), "0 9 * * 1-5", "Australia/Sydney", int64(0), int64(0))
	f.Add(uint8(1), "@hourly", "", int64(0), int64(0))
	f.Add(uint8(1), "30 2 * 3 SUN", "America/New_York", int64(0), int64(0))
	f.Add(uint8(1), "0 0 31 2 *", "UTC", int64(0), int64(0))
	f.Add(uint8(2), "DTSTART:20180311T000000\nRRULE:FREQ=HOURLY;COUNT=5", "America/New_York", int64(0), int64(0))
	f.Add(uint8(2), "RRULE:FREQ=DAILY;BYHOUR=9\nEXDATE:20270101T090000\nRDATE:20270102T100000", "Europe/London", int64(0), int64(0))
	f.Add(uint8(2), "FREQ=WEEKLY;UNTIL=20270601T000000Z", "", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, kind uint8, expr, tz string, seconds, anchorUnix int64) {
		s := &orionv1.Schedule{}
		switch kind % 3 {
		case 0:
			iv := &orionv1.IntervalSchedule{Interval: durationpb.New(time.Duration(seconds) * time.Second), Timezone: tz}
			if anchorUnix != 0 {
				iv.AnchorDate = timestamppb.New(time.Unix(anchorUnix%(1<<36), 0))
			}
			s.Kind = &orionv1.Schedule_Interval{Interval: iv}
		case 1:
			s.Kind = &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: expr, Timezone: tz}}
		case 2:
			s.Kind = &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{Rrule: expr, Timezone: tz}}
		}
		start := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
		end := start.Add(60 * 24 * time.Hour)
		verr := Validate(s)
		sched, perr := Parse(s, start)
		if (verr == nil) != (perr == nil) {
			t.Fatalf("Validate says %v but Parse says %v", verr, perr)
		}
		if perr != nil {
			if msg := perr.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "schedule") {
				t.Fatalf("error not one line naming the schedule: %q", msg)
			}
			return
		}
		const n = 50
		dates := Between(sched, start, end, n)
		if len(dates) > n {
			t.Fatalf("%d dates, asked for at most %d", len(dates), n)
		}
		for i, d := range dates {
			if d.Before(start) || d.After(end) {
				t.Fatalf("date %s outside [%s, %s]", d, start, end)
			}
			if i > 0 && !d.After(dates[i-1]) {
				t.Fatalf("dates not strictly increasing: %s then %s", dates[i-1], d)
			}
		}
	})
}
