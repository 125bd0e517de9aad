package scheduler

import (
	"hash/fnv"
	"time"
)

// Limits bound how far ahead the scheduler keeps runs, with Prefect's
// defaults (PREFECT_ORION_SERVICES_SCHEDULER_{MIN,MAX}_{RUNS,SCHEDULED_TIME}).
type Limits struct {
	// MinRuns and MinTime: keep at least this many runs and this far ahead.
	MinRuns int
	MinTime time.Duration
	// MaxRuns and MaxTime: never more runs ahead than this, nor further.
	MaxRuns int
	MaxTime time.Duration
	// Spread staggers when deployments are topped up: each keeps up to
	// Spread more than MinTime ahead, by an amount fixed by its id (see
	// Lead), so deployments on the same cron ("* * * * *") do not all need
	// their next run in the same pass. Zero: no staggering.
	Spread time.Duration
}

// Lead is deployment id's share of Spread: a fixed amount in [0, Spread)
// by which its runs are kept further ahead than MinTime.
func (l Limits) Lead(id string) time.Duration {
	if l.Spread <= 0 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(id)) //nolint:errcheck // hash writes never fail
	return time.Duration(uint64(h.Sum32())%uint64(l.Spread/time.Millisecond)) * time.Millisecond
}

// DefaultLimits are Prefect's: at least 3 runs and 1 hour, at most 100 runs
// and 100 days.
var DefaultLimits = Limits{MinRuns: 3, MinTime: time.Hour, MaxRuns: 100, MaxTime: 100 * 24 * time.Hour, Spread: time.Minute}

// plan is the work one deployment needs at one instant.
type plan struct {
	// dates are the new dates to create runs for, after the watermark.
	dates []time.Time
	// checkAt is the earliest instant at which the deployment can need more
	// runs; until then a pass skips it without computing anything.
	checkAt time.Time
	// ahead describes the dates on or after the evaluation instant up to
	// the new watermark, so the next evaluation need not recount them.
	ahead ahead
}

// ahead is what a plan knows of a schedule's upcoming dates: the first one
// on or after the instant it was computed, and how many there are up to
// the watermark (-1 when it did not need to count them all).
type ahead struct {
	first time.Time
	count int
}

// unknownAhead is the ahead of a deployment evaluated for the first time.
var unknownAhead = ahead{count: -1}

// planDates applies Prefect's rule to the dates on or after now: take them
// in order, stopping as soon as there are MinRuns of them and the last is
// MinTime ahead, and never going past MaxRuns dates or now+MaxTime. Dates up
// to the watermark already have runs, so only the ones after it are
// returned; the dates before it are only counted. The watermark is zero
// when no run exists yet. lead (Lead of the deployment) is added to
// MinTime.
//
// prev is the previous plan's ahead for the same watermark (unknownAhead
// if none): the dates it counted that have passed since are dropped one by
// one instead of counting everything again, which keeps a steady-state
// evaluation at a few Next calls however many runs a schedule keeps ahead.
func (l Limits) planDates(s Schedule, watermark, now time.Time, prev ahead, lead time.Duration) plan {
	horizon := now.Add(l.MaxTime)
	minTime := l.MinTime + lead
	satisfied := func(count int, last time.Time) bool {
		return count >= l.MinRuns && !last.Before(now.Add(minTime))
	}
	var (
		count int
		first time.Time // the first date on or after now
		last  time.Time
		from  = now
	)
	if !watermark.Before(now) {
		from, last = watermark.Add(time.Nanosecond), watermark
		switch {
		case prev.count >= 0:
			first, count = prev.first, prev.count
			for count > 0 && first.Before(now) {
				count--
				d, ok := s.Next(first.Add(time.Nanosecond))
				if !ok || d.After(watermark) {
					count = 0
					break
				}
				first = d
			}
			if count == 0 {
				first, last = time.Time{}, time.Time{}
			}
		default:
			// Enough dates to know whether the minimums hold; all of them
			// (up to MaxRuns) only when more are needed.
			have := Between(s, now, watermark, l.MinRuns)
			if len(have) < l.MinRuns || !satisfied(len(have), watermark) {
				have = Between(s, now, watermark, l.MaxRuns)
				count = len(have)
			} else {
				count = -1 // at least MinRuns; not counted
			}
			if len(have) > 0 {
				first = have[0]
			} else {
				last = time.Time{}
			}
		}
	}
	var p plan
	if count >= 0 && (count == 0 || !satisfied(count, last)) {
		next := func() (time.Time, bool) { return s.Next(from) }
		if it, ok := s.(iterator); ok {
			next = it.iterate(from)
		}
		for count < l.MaxRuns {
			d, ok := next()
			if !ok || d.After(horizon) {
				break
			}
			from = d.Add(time.Nanosecond)
			if first.IsZero() {
				first = d
			}
			p.dates = append(p.dates, d)
			count, last = count+1, d
			if satisfied(count, d) {
				break
			}
		}
	}
	p.checkAt = checkAt(first, last, now, minTime, count < 0 || satisfied(count, last))
	p.ahead = ahead{first: first, count: count}
	return p
}

// checkAt is when the rule can next ask for more: once the first upcoming
// date has passed (one run fewer ahead, or room under MaxRuns), or, when
// the minimums are met, once the last date is less than MinTime ahead. With
// no upcoming date at all the schedule is looked at again after MinTime (a
// sparse or ended series).
func checkAt(first, last, now time.Time, minTime time.Duration, satisfied bool) time.Time {
	if first.IsZero() {
		return now.Add(minTime)
	}
	at := first.Add(time.Nanosecond)
	if t := last.Add(-minTime); satisfied && t.Before(at) {
		at = t
	}
	return at
}
