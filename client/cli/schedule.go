package cli

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// scheduleSpec is a schedule as written in a spec (YAML or Python), before it
// becomes an orionv1.Schedule. Exactly one of Interval, Cron and RRule is set.
type scheduleSpec struct {
	// Interval in seconds.
	Interval   *float64
	AnchorDate string
	Timezone   string
	Cron       string
	DayOr      *bool
	RRule      string
}

// toProto checks the schedule and converts it. The server validates the
// cron expression, the rrule and the time zone.
func (s *scheduleSpec) toProto() (*orionv1.Schedule, error) {
	if s == nil {
		return nil, nil
	}
	kinds := 0
	for _, set := range []bool{s.Interval != nil, s.Cron != "", s.RRule != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errors.New("exactly one of interval, cron or rrule is required")
	}
	switch {
	case s.Interval != nil:
		if s.DayOr != nil {
			return nil, errors.New("day_or is only valid with cron")
		}
		secs := *s.Interval
		if math.IsNaN(secs) || math.IsInf(secs, 0) || secs <= 0 {
			return nil, fmt.Errorf("interval must be a positive number of seconds, got %v", secs)
		}
		iv := &orionv1.IntervalSchedule{
			Interval: durationpb.New(time.Duration(math.Round(secs * float64(time.Second)))),
			Timezone: s.Timezone,
		}
		if s.AnchorDate != "" {
			t, err := parseTimestamp(s.AnchorDate, s.Timezone)
			if err != nil {
				return nil, fmt.Errorf("anchor_date: %v", err)
			}
			iv.AnchorDate = timestamppb.New(t)
		}
		return &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: iv}}, nil
	case s.Cron != "":
		if s.AnchorDate != "" {
			return nil, errors.New("anchor_date is only valid with interval")
		}
		return &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{
			Cron: s.Cron, Timezone: s.Timezone, DayOr: s.DayOr,
		}}}, nil
	default:
		if s.AnchorDate != "" {
			return nil, errors.New("anchor_date is only valid with interval")
		}
		if s.DayOr != nil {
			return nil, errors.New("day_or is only valid with cron")
		}
		return &orionv1.Schedule{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{
			Rrule: s.RRule, Timezone: s.Timezone,
		}}}, nil
	}
}

// naiveLayouts are the ISO 8601 forms without a UTC offset that
// parseTimestamp accepts (Python's isoformat() of a naive datetime among them).
var naiveLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTimestamp parses RFC 3339 or ISO 8601 ("2024-01-02T09:00:00+01:00",
// "2024-01-02 09:00:00", "2024-01-02"). A time without an offset is read in
// tz (an IANA name; empty means UTC).
func parseTimestamp(s, tz string) (time.Time, error) {
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			// Only needed for a naive time; an explicit offset wins anyway.
			if t, ok := parseWithOffset(s); ok {
				return t, nil
			}
			return time.Time{}, fmt.Errorf("unknown time zone '%s'", tz)
		}
		loc = l
	}
	return parseTimestampIn(s, loc)
}

// parseTimestampIn is parseTimestamp with naive times read in loc.
func parseTimestampIn(s string, loc *time.Location) (time.Time, error) {
	if t, ok := parseWithOffset(s); ok {
		return t, nil
	}
	s = isoT(strings.TrimSpace(s))
	for _, layout := range naiveLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date '%s': expected RFC 3339 or ISO 8601, e.g. 2024-01-02T09:00:00Z", strings.TrimSpace(s))
}

// parseWithOffset parses an RFC 3339 time (a space may replace the "T").
func parseWithOffset(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, isoT(strings.TrimSpace(s)))
	return t, err == nil
}

// isoT replaces a space between date and time by "T".
func isoT(s string) string {
	if len(s) > 10 && s[10] == ' ' {
		return s[:10] + "T" + s[11:]
	}
	return s
}
