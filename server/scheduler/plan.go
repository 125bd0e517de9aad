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
	// Spread batches and staggers top-ups. Each deployment has a slot
	// every Spread, at a phase fixed by its id (Lead); it is given the runs
	// it needs until its next slot plus MinTime, so it is written about
	// once per Spread (at its slot) rather than at each of its dates, and
	// deployments on the same cron ("* * * * *") are written in different
	// passes. Zero: Prefect's rule exactly (topped up to the minimums).
	Spread time.Duration
}

// Lead is deployment id's phase in Spread: a fixed amount in [0, Spread);
// its slots are the instants Lead past a multiple of Spread.
func (l Limits) Lead(id string) time.Duration {
	if l.Spread <= 0 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(id)) //nolint:errcheck // hash writes never fail
	return time.Duration(uint64(h.Sum32())%uint64(l.Spread/time.Millisecond)) * time.Millisecond
}

// nextSlot is the first slot after now of a deployment of phase lead (now
// itself without Spread).
func (l Limits) nextSlot(now time.Time, lead time.Duration) time.Time {
	if l.Spread <= 0 {
		return now
	}
	return now.Add(l.Spread - l.sinceSlot(now, lead))
}

// slotAtOrBefore is the latest slot at or before t of a deployment of
// phase lead (t itself without Spread).
func (l Limits) slotAtOrBefore(t time.Time, lead time.Duration) time.Time {
	if l.Spread <= 0 {
		return t
	}
	return t.Add(-l.sinceSlot(t, lead))
}

// sinceSlot is how long t is past the latest slot at or before it, in
// [0, Spread) (Spread > 0).
func (l Limits) sinceSlot(t time.Time, lead time.Duration) time.Duration {
	into := (t.UnixNano() - int64(lead)) % int64(l.Spread)
	if into < 0 {
		into += int64(l.Spread)
	}
	return time.Duration(into)
}

// DefaultLimits are Prefect's: at least 3 runs and 1 hour, at most 100 runs
// and 100 days.
var DefaultLimits = Limits{MinRuns: 3, MinTime: time.Hour, MaxRuns: 100, MaxTime: 100 * 24 * time.Hour, Spread: 5 * time.Minute}

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

// planDates applies Prefect's rule to the dates on or after now, with the
// deployment's next slot (see Spread; lead is its Lead) in place of now
// for the time minimum: unless there are MinRuns of them and the last is
// MinTime past the next slot, take more in order, stopping as soon as that
// holds, and never going past MaxRuns dates or now+MaxTime. Without Spread
// that is Prefect's rule. Dates up to the watermark already have runs, so
// only the ones after it are returned; the dates before it are only
// counted. The watermark is zero when no run exists yet.
//
// prev is the previous plan's ahead for the same watermark (unknownAhead
// if none): the dates it counted that have passed since are dropped one by
// one instead of counting everything again, which keeps a steady-state
// evaluation at a few Next calls however many runs a schedule keeps ahead.
func (l Limits) planDates(s Schedule, watermark, now time.Time, prev ahead, lead time.Duration) plan {
	horizon := now.Add(l.MaxTime)
	slot := l.nextSlot(now, lead)
	until := slot.Add(l.MinTime)
	satisfied := func(count int, last time.Time) bool {
		return count >= l.MinRuns && !last.Before(until)
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
	p.checkAt = checkAt(first, last, now, l.MinTime, count < 0 || satisfied(count, last), func(t time.Time) time.Time { return l.slotAtOrBefore(t, lead) })
	p.ahead = ahead{first: first, count: count}
	return p
}

// checkAt is when the rule can next ask for more: once the first upcoming
// date has passed (one run fewer ahead, or room under MaxRuns), or, when
// the minimums are met, at the slot from which the next slot is less than
// MinTime before the last date (slotBefore gives the latest slot at or
// before an instant; without Spread, the instant itself: once the last
// date is less than MinTime ahead). With no upcoming date at all the
// schedule is looked at again after MinTime (a sparse or ended series).
func checkAt(first, last, now time.Time, minTime time.Duration, satisfied bool, slotBefore func(time.Time) time.Time) time.Time {
	if first.IsZero() {
		return now.Add(minTime)
	}
	at := first.Add(time.Nanosecond)
	if t := slotBefore(last.Add(-minTime)); satisfied && t.Before(at) {
		at = t
	}
	return at
}
