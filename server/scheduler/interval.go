package scheduler

import (
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// day is one calendar day of an interval.
const day = 24 * time.Hour

// interval fires on a grid through its anchor that extends both ways. Step
// k of the grid is the anchor's local date and time moved by k·days calendar
// days in the zone (so 09:00 stays 09:00 across DST), then by k·rest of
// exact elapsed time (so an hourly schedule fires every real hour, twice at
// 01:00 on a fall-back night).
type interval struct {
	anchor     time.Time // in loc
	anchorWall time.Time // the anchor's local date and time, as UTC
	every      time.Duration
	days       int
	rest       time.Duration
	loc        *time.Location
}

// newInterval parses an interval schedule; an unset anchor is now.
func newInterval(iv *orionv1.IntervalSchedule, now time.Time) (*interval, error) {
	loc, err := LoadLocation(iv.GetTimezone())
	if err != nil {
		return nil, err
	}
	anchor := now
	if iv.GetAnchorDate() != nil {
		anchor = iv.GetAnchorDate().AsTime()
	}
	every := iv.GetInterval().AsDuration()
	anchor = anchor.In(loc)
	return &interval{
		anchor:     anchor,
		anchorWall: wallClock(anchor, loc),
		every:      every,
		days:       int(every / day),
		rest:       every % day,
		loc:        loc,
	}, nil
}

// Location implements Schedule.
func (s *interval) Location() *time.Location { return s.loc }

// at returns grid point k.
func (s *interval) at(k int64) time.Time {
	if k == 0 {
		return s.anchor
	}
	t := s.anchor
	if s.days != 0 {
		t = localTime(s.anchorWall.AddDate(0, 0, int(k)*s.days), s.loc)
	}
	return t.Add(time.Duration(k) * s.rest)
}

// Next implements Schedule: the first grid point at or after t. It jumps
// to the grid point nearest t by exact arithmetic and then corrects by the
// few steps DST can shift calendar days, so its cost does not grow with the
// distance from the anchor.
func (s *interval) Next(t time.Time) (time.Time, bool) {
	k := int64(t.Sub(s.anchor) / s.every)
	for s.at(k).Before(t) {
		k++
	}
	for !s.at(k - 1).Before(t) {
		k--
	}
	return s.at(k), true
}
