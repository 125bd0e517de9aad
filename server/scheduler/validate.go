// Package scheduler turns deployment schedules into runs. This file holds the
// validation applied when a deployment is stored; generating runs is built on
// the same parsed forms.
package scheduler

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// MaxRRuleLength bounds the size of an RRule string.
const MaxRRuleLength = 6500

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Validate checks a schedule and returns an error naming the field and the
// problem. A nil schedule is valid (no schedule).
func Validate(s *orionv1.Schedule) error {
	if s == nil || s.GetKind() == nil {
		return nil
	}
	switch k := s.GetKind().(type) {
	case *orionv1.Schedule_Interval:
		iv := k.Interval
		if iv.GetInterval() == nil || iv.GetInterval().AsDuration() <= 0 {
			return store.Invalidf("schedule.interval must be greater than 0 seconds")
		}
		return validateTimezone(iv.GetTimezone())
	case *orionv1.Schedule_Cron:
		expr := strings.TrimSpace(k.Cron.GetCron())
		if expr == "" {
			return store.Invalidf("schedule.cron is empty: use a 5-field expression such as '0 9 * * *'")
		}
		if hasRandomField(expr) {
			return store.Invalidf("schedule.cron %q: random and hashed (R/H) expressions are not supported", expr)
		}
		if _, err := parseCron(expr); err != nil {
			return err
		}
		return validateTimezone(k.Cron.GetTimezone())
	case *orionv1.Schedule_Rrule:
		r := k.Rrule.GetRrule()
		if strings.TrimSpace(r) == "" {
			return store.Invalidf("schedule.rrule is empty: use an RFC 5545 string such as 'FREQ=DAILY'")
		}
		if len(r) > MaxRRuleLength {
			return store.Invalidf("schedule.rrule is longer than %d characters", MaxRRuleLength)
		}
		if err := validateTimezone(k.Rrule.GetTimezone()); err != nil {
			return err
		}
		_, err := newRRule(k.Rrule)
		return err
	}
	return store.Invalidf("schedule: unknown schedule kind")
}

// hasRandomField reports a field of the random/hashed cron dialects ("R",
// "H", "H/5", "H(0-29)"), which Orion rejects as Prefect does.
func hasRandomField(expr string) bool {
	for _, f := range strings.Fields(expr) {
		f = strings.ToUpper(f)
		if f == "R" || f == "H" || strings.HasPrefix(f, "H/") || strings.HasPrefix(f, "H(") {
			return true
		}
	}
	return false
}

func validateTimezone(tz string) error {
	if tz == "" {
		return nil
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return store.Invalidf("schedule.timezone %q is not a known IANA time zone (e.g. 'America/New_York')", tz)
	}
	return nil
}
