package scheduler

import (
	"sort"
	"strings"
	"time"

	"github.com/teambition/rrule-go"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// rruleSet is an RFC 5545 recurrence set: the union of its RRULE lines and
// RDATEs, minus its EXRULE lines and EXDATEs. rrule-go's own Set holds one
// RRULE and no EXRULE, so the set logic lives here and rrule-go expands the
// single rules.
//
// The rules are expanded on local wall-clock time (rrule-go runs in UTC,
// where no time is missing or repeated) and each occurrence is then placed
// in the DTSTART's zone as cron places its matches: a local time that does
// not exist is skipped, and one that occurs twice is its first occurrence.
// Expanding in the zone itself would leave both to time.Date, whose choice
// depends on the sign of the zone's UTC offset (the second occurrence in
// London and Sydney, the first in New York) and can step back in time at a
// spring-forward gap, which ended a sub-hourly series there.
type rruleSet struct {
	rules, exrules  []*rrule.RRule // in UTC, on wall-clock times in wall
	rdates, exdates []time.Time
	wall            *time.Location // the DTSTART's zone
	loc             *time.Location
}

// newRRule parses an rrule schedule. A floating DTSTART (and UNTIL, RDATE,
// EXDATE) is read in the schedule's timezone; without a DTSTART the set is
// anchored at 2020-01-01T00:00 in that zone, so every scheduler pass sees
// the same dates (Prefect #9872). With no timezone a DTSTART;TZID=... names
// the zone; otherwise it is UTC.
func newRRule(r *orionv1.RRuleSchedule) (*rruleSet, error) {
	loc, err := LoadLocation(r.GetTimezone())
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(r.GetRrule(), "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	dtstart := time.Date(2020, 1, 1, 0, 0, 0, 0, loc)
	set := &rruleSet{loc: loc}
	seenStart := false
	for _, l := range lines {
		name, value := splitRRuleLine(l)
		if name != "DTSTART" {
			continue
		}
		if seenStart {
			return nil, store.Invalidf("schedule.rrule has more than one DTSTART")
		}
		seenStart = true
		if dtstart, err = rrule.StrToDtStart(value, loc); err != nil {
			return nil, store.Invalidf("schedule.rrule DTSTART %q is invalid: %v", value, err)
		}
		if r.GetTimezone() == "" {
			set.loc = dtstart.Location()
		}
	}
	for _, l := range lines {
		name, value := splitRRuleLine(l)
		switch name {
		case "DTSTART":
		case "RRULE", "EXRULE":
			opt, err := rrule.StrToROptionInLocation(value, dtstart.Location())
			if err != nil {
				return nil, store.Invalidf("schedule.rrule %s %q is invalid: %v", name, value, err)
			}
			opt.Dtstart = wallClock(dtstart, dtstart.Location())
			if !opt.Until.IsZero() {
				opt.Until = wallClock(opt.Until, dtstart.Location())
			}
			rule, err := rrule.NewRRule(*opt)
			if err != nil {
				return nil, store.Invalidf("schedule.rrule %s %q is invalid: %v", name, value, err)
			}
			if name == "RRULE" {
				set.rules = append(set.rules, rule)
			} else {
				set.exrules = append(set.exrules, rule)
			}
		case "RDATE", "EXDATE":
			ts, err := rrule.StrToDatesInLoc(value, dtstart.Location())
			if err != nil {
				return nil, store.Invalidf("schedule.rrule %s %q is invalid: %v", name, value, err)
			}
			for i, t := range ts {
				// A repeated local time is its first occurrence, as in
				// the rules (time.Parse may pick either).
				if first := resolveWall(wallClock(t, t.Location()), t.Location()); len(first) > 0 {
					ts[i] = first[0]
				}
			}
			if name == "RDATE" {
				set.rdates = append(set.rdates, ts...)
			} else {
				set.exdates = append(set.exdates, ts...)
			}
		default:
			return nil, store.Invalidf("schedule.rrule line %q: expected DTSTART, RRULE, RDATE, EXRULE or EXDATE", l)
		}
	}
	set.wall = dtstart.Location()
	if len(set.rules) == 0 && len(set.rdates) == 0 {
		return nil, store.Invalidf("schedule.rrule has no RRULE or RDATE line")
	}
	return set, nil
}

// splitRRuleLine splits "NAME:value" or "NAME;params:value" into the upper
// case name and the rest; a bare "FREQ=..." line is an RRULE.
func splitRRuleLine(l string) (string, string) {
	i := strings.IndexAny(l, ":;")
	if i <= 0 || strings.Contains(l[:i], "=") {
		return "RRULE", l
	}
	// The parameters stay with the value: rrule-go reads "TZID=...:..."
	// and "VALUE=DATE-TIME:..." itself.
	return strings.ToUpper(l[:i]), l[i+1:]
}

// Location implements Schedule.
func (s *rruleSet) Location() *time.Location { return s.loc }

// Next implements Schedule.
func (s *rruleSet) Next(t time.Time) (time.Time, bool) {
	return s.iterate(t)()
}

// iterate returns an iterator over the set's dates at or after from, in
// order and without duplicates. Each rule is expanded from its DTSTART, so
// the cost grows with the occurrences before from (as in dateutil).
func (s *rruleSet) iterate(from time.Time) func() (time.Time, bool) {
	incl := newMerge(s.rules, s.rdates, s.wall)
	excl := newMerge(s.exrules, s.exdates, s.wall)
	var last time.Time
	return func() (time.Time, bool) {
		for {
			d, ok := incl.next()
			if !ok {
				return time.Time{}, false
			}
			if d.Before(from) || (!last.IsZero() && d.Equal(last)) {
				continue
			}
			last = d
			if !excl.skipTo(d) {
				return d.In(s.loc), true
			}
		}
	}
}

// merge yields the dates of several sorted sources in order.
type merge struct {
	heads []time.Time
	gens  []func() (time.Time, bool)
}

func newMerge(rules []*rrule.RRule, dates []time.Time, wall *time.Location) *merge {
	m := &merge{}
	sorted := append([]time.Time(nil), dates...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	i := 0
	m.add(func() (time.Time, bool) {
		if i == len(sorted) {
			return time.Time{}, false
		}
		i++
		return sorted[i-1], true
	})
	for _, r := range rules {
		m.add(placeIn(r.Iterator(), wall))
	}
	return m
}

// placeIn turns the wall-clock occurrences of a rule (UTC times standing
// for local times) into instants in loc: a local time that does not exist
// is skipped, one that occurs twice is its first occurrence. Wall-clock
// order is then instant order. A rule whose occurrences have all been
// missing local times for 28 years never has another one.
func placeIn(next func() (time.Time, bool), loc *time.Location) func() (time.Time, bool) {
	return func() (time.Time, bool) {
		var skipping time.Time
		for {
			w, ok := next()
			if !ok {
				return time.Time{}, false
			}
			if ts := resolveWall(w, loc); len(ts) > 0 {
				return ts[0], true
			}
			if skipping.IsZero() {
				skipping = w
			} else if w.After(skipping.AddDate(28, 0, 0)) {
				return time.Time{}, false
			}
		}
	}
}

func (m *merge) add(gen func() (time.Time, bool)) {
	if d, ok := gen(); ok {
		m.heads = append(m.heads, d)
		m.gens = append(m.gens, gen)
	}
}

// next pops the earliest head.
func (m *merge) next() (time.Time, bool) {
	if len(m.heads) == 0 {
		return time.Time{}, false
	}
	min := 0
	for i := range m.heads {
		if m.heads[i].Before(m.heads[min]) {
			min = i
		}
	}
	d := m.heads[min]
	if nd, ok := m.gens[min](); ok {
		m.heads[min] = nd
	} else {
		m.heads = append(m.heads[:min], m.heads[min+1:]...)
		m.gens = append(m.gens[:min], m.gens[min+1:]...)
	}
	return d, true
}

// skipTo drops dates before d and reports whether d itself is present.
func (m *merge) skipTo(d time.Time) bool {
	for len(m.heads) > 0 {
		min := 0
		for i := range m.heads {
			if m.heads[i].Before(m.heads[min]) {
				min = i
			}
		}
		if !m.heads[min].Before(d) {
			return m.heads[min].Equal(d)
		}
		m.next()
	}
	return false
}
