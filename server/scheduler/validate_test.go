package scheduler

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

func cronSchedule(expr, tz string) *orionv1.Schedule {
	return &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{Cron: expr, Timezone: tz}}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		s       *orionv1.Schedule
		wantErr string // substring; empty for valid
	}{
		{"no schedule", nil, ""},
		{"interval", &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(time.Hour), Timezone: "America/New_York"}}}, ""},
		{"zero interval", &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{Interval: durationpb.New(0)}}}, "schedule.interval"},
		{"cron", cronSchedule("0 9 * * MON-FRI", "Europe/Paris"), ""},
		{"cron with month and day names", cronSchedule("0 9 * MAR THU", ""), ""},
		{"cron keyword", cronSchedule("@daily", ""), ""},
		{"bad cron", cronSchedule("61 * * * *", ""), "schedule.cron"},
		{"hashed cron", cronSchedule("H * * * *", ""), "random and hashed"},
		{"unknown zone", cronSchedule("0 9 * * *", "Mars/Olympus"), "schedule.timezone"},
		{"rrule", &orionv1.Schedule{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{Rrule: "DTSTART:20260101T090000\nRRULE:FREQ=DAILY;COUNT=3"}}}, ""},
		{"bad rrule", &orionv1.Schedule{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{Rrule: "FREQ=SOMETIMES"}}}, "schedule.rrule"},
		{"long rrule", &orionv1.Schedule{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{Rrule: "FREQ=DAILY;" + strings.Repeat("X", MaxRRuleLength)}}}, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.s)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want one mentioning %q", err, tc.wantErr)
			case err != nil && !errors.Is(err, store.ErrInvalid):
				t.Fatalf("error %v does not match store.ErrInvalid", err)
			}
		})
	}
}
