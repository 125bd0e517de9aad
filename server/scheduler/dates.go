package scheduler

import (
	"fmt"
	"sort"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// MaxIterations caps the dates returned when only an end is given, as
// Prefect's MAX_ITERATIONS (1,000) does.
const MaxIterations = 1000

// Schedule is a parsed schedule. It is pure: no I/O, and the same inputs
// always give the same dates.
type Schedule interface {
	// Location is the schedule's time zone; every date it returns is in it.
	Location() *time.Location
	// Next returns the first date at or after t, and false when the series
	// has ended (COUNT, UNTIL, or a cron expression that never matches).
	Next(t time.Time) (time.Time, bool)
}

// Parse validates s and returns its parsed form. Interval schedules without
// an anchor are anchored at now, as a deployment's is when it is stored.
func Parse(s *orionv1.Schedule, now time.Time) (Schedule, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	switch k := s.GetKind().(type) {
	case *orionv1.Schedule_Interval:
		return newInterval(k.Interval, now)
	case *orionv1.Schedule_Cron:
		return newCron(k.Cron)
	case *orionv1.Schedule_Rrule:
		return newRRule(k.Rrule)
	}
	return nil, store.Invalidf("schedule is empty")
}

// Dates returns the dates of s on or after start (inclusive), at most n of
// them and none after end (inclusive), sorted and without duplicates, in the
// schedule's time zone. Prefect's get_dates rules apply: a zero start means
// now; with neither n nor end, n is 1; with only end, every date up to end,
// capped at MaxIterations.
func Dates(s *orionv1.Schedule, start, end time.Time, n int) ([]time.Time, error) {
	now := time.Now()
	if start.IsZero() {
		start = now
	}
	sched, err := Parse(s, now)
	if err != nil {
		return nil, err
	}
	return Between(sched, start, end, n), nil
}

// Between is Dates for a parsed schedule.
func Between(s Schedule, start, end time.Time, n int) []time.Time {
	switch {
	case n <= 0 && end.IsZero():
		n = 1
	case n <= 0:
		n = MaxIterations
	}
	next := func() (time.Time, bool) { return s.Next(start) }
	if it, ok := s.(iterator); ok {
		next = it.iterate(start)
	}
	var out []time.Time
	for len(out) < n {
		d, ok := next()
		if !ok || (!end.IsZero() && d.After(end)) {
			break
		}
		if len(out) > 0 && !d.After(out[len(out)-1]) {
			break // a schedule must advance; never loop on one date
		}
		out = append(out, d)
		start = d.Add(time.Nanosecond)
	}
	return out
}

// iterator is implemented by schedules that expand cheaply as a sequence
// but expensively per Next call (rrule sets expand from their DTSTART).
type iterator interface {
	iterate(from time.Time) func() (time.Time, bool)
}

// LoadLocation loads an IANA zone name; "" is UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, store.Invalidf("schedule.timezone %q is not a known IANA time zone (e.g. 'America/New_York')", name)
	}
	return loc, nil
}

// wallClock returns t's local date and time in loc as a UTC time, so that
// arithmetic on it is pure calendar arithmetic with no DST.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// resolveWall returns the instants at which the wall-clock time w (a UTC
// time standing for a local time) occurs in loc, earliest first: none in a
// spring-forward gap, two in a fall-back overlap, one otherwise.
func resolveWall(w time.Time, loc *time.Location) []time.Time {
	// Zone transitions are months apart, so the offsets in force a day
	// either side cover every offset w can have.
	var out []time.Time
	for _, probe := range []time.Time{w.Add(-26 * time.Hour), w, w.Add(26 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		t := w.Add(-time.Duration(off) * time.Second).In(loc)
		if !wallClock(t, loc).Equal(w) {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o.Equal(t)
		}
		if !dup {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// localTime turns the wall-clock time w into an instant in loc the way
// Prefect (pendulum) does: an ambiguous time is its first occurrence, and a
// time in a gap moves forward by the gap (02:30 on a spring-forward night in
// New York is 03:30 EDT).
func localTime(w time.Time, loc *time.Location) time.Time {
	if ts := resolveWall(w, loc); len(ts) > 0 {
		return ts[0]
	}
	_, off := w.Add(-26 * time.Hour).In(loc).Zone()
	return w.Add(-time.Duration(off) * time.Second).In(loc)
}

// String forms used in logs and errors.
func describe(s *orionv1.Schedule) string {
	switch k := s.GetKind().(type) {
	case *orionv1.Schedule_Interval:
		return fmt.Sprintf("interval %s", k.Interval.GetInterval().AsDuration())
	case *orionv1.Schedule_Cron:
		return fmt.Sprintf("cron %q", k.Cron.GetCron())
	case *orionv1.Schedule_Rrule:
		return "rrule"
	}
	return "none"
}
