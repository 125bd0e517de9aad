package scheduler

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// cronExpr evaluates a 5-field cron expression on local wall-clock time.
//
// robfig/cron evaluates in the zone itself and lets time.Date normalise
// nonexistent and repeated times, which fires a spring-forward 02:30 at
// 03:30 and an hourly schedule only once per real hour at fall-back. Here
// the expression is matched against the local date and time (robfig's
// matcher run in UTC, where no time is missing or repeated) and each match
// is then placed in the zone: a local time that does not exist is skipped,
// and one that occurs twice fires once, at its first occurrence (Prefect
// after PR #10678).
type cronExpr struct {
	spec *cron.SpecSchedule // Location is UTC: it matches wall-clock times
	// dayAnd requires both day-of-month and day-of-week to match when both
	// are restricted (day_or: false).
	dayAnd bool
	loc    *time.Location
}

// starBit is robfig/cron's marker of a "*" or "?" field.
const starBit = 1 << 63

// parseCron parses expr with the 5-field parser and rejects the forms Orion
// does not support: @every (use an interval schedule) and TZ= prefixes (use
// the timezone field).
func parseCron(expr string) (*cron.SpecSchedule, error) {
	expr = strings.TrimSpace(expr)
	upper := strings.ToUpper(expr)
	if strings.HasPrefix(upper, "TZ=") || strings.HasPrefix(upper, "CRON_TZ=") {
		return nil, store.Invalidf("schedule.cron %q: set the time zone with schedule.timezone, not a TZ= prefix", expr)
	}
	parsed, err := cronParser.Parse(expr)
	if err != nil {
		return nil, store.Invalidf("schedule.cron %q is invalid: %v", expr, err)
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, store.Invalidf("schedule.cron %q: @every is not a cron expression; use an interval schedule", expr)
	}
	return spec, nil
}

func newCron(c *orionv1.CronSchedule) (*cronExpr, error) {
	loc, err := LoadLocation(c.GetTimezone())
	if err != nil {
		return nil, err
	}
	spec, err := parseCron(c.GetCron())
	if err != nil {
		return nil, err
	}
	utc := *spec
	utc.Location = time.UTC
	restricted := spec.Dom&starBit == 0 && spec.Dow&starBit == 0
	return &cronExpr{spec: &utc, dayAnd: c.DayOr != nil && !c.GetDayOr() && restricted, loc: loc}, nil
}

// Location implements Schedule.
func (s *cronExpr) Location() *time.Location { return s.loc }

// Next implements Schedule. Candidates are walked in wall-clock order from
// t's local time; a candidate whose first occurrence lies before t has
// already fired (t is in the repeated hour), so it is passed over.
func (s *cronExpr) Next(t time.Time) (time.Time, bool) {
	w := wallClock(t, s.loc).Add(-time.Second)
	// The calendar repeats every 28 years, so a later match never comes.
	limit := w.AddDate(28, 0, 0)
	for {
		// robfig returns the first match strictly after w, or zero when
		// none exists within five years.
		w = s.spec.Next(w)
		if w.IsZero() || w.After(limit) {
			return time.Time{}, false
		}
		if s.dayAnd && (1<<uint(w.Day())&s.spec.Dom == 0 || 1<<uint(w.Weekday())&s.spec.Dow == 0) {
			continue
		}
		ts := resolveWall(w, s.loc)
		if len(ts) == 0 {
			continue // spring forward: this local time does not exist
		}
		if !ts[0].Before(t) {
			return ts[0], true
		}
	}
}
