package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// PreviewFunc returns a schedule's dates on or after start (inclusive), at
// most n and none after end (inclusive), in the schedule's time zone, with
// Prefect's get_dates defaults (n = 1 when neither n nor end is set; only
// end: every date up to it, capped at 1,000). cmd/orion wires it to the
// server's schedule math, which the CLI does not import.
type PreviewFunc func(s *orionv1.Schedule, start, end time.Time, n int) ([]time.Time, error)

// usageErr makes Main print err as one line and exit 2 (bad input).
func usageErr(err error) error { return &ExitError{Code: 2, Err: err} }

// newScheduleCommand is the `orion schedule` group.
func newScheduleCommand(m *meta) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Work with schedules without a server",
		Args:  noArgs,
		RunE:  groupRun,
	}
	cmd.AddCommand(newSchedulePreviewCommand(m))
	return cmd
}

// previewFlags are the flags of `orion schedule preview`.
type previewFlags struct {
	interval   float64
	anchorDate string
	cron       string
	dayOr      bool
	rrule      string
	timezone   string
	start, end string
	n          int
	output     string
}

// newSchedulePreviewCommand is `orion schedule preview`.
func newSchedulePreviewCommand(m *meta) *cobra.Command {
	var f previewFlags
	cmd := &cobra.Command{
		Use:   "preview (--interval SECONDS [--anchor-date RFC3339] | --cron EXPR [--day-or=true|false] | --rrule STRING) [--timezone TZ] [--start RFC3339] [--end RFC3339] [-n N] [-o json]",
		Short: "Print the dates a schedule produces",
		Long: `Print the dates of a schedule on or after --start (inclusive, default now),
at most -n and none after --end (inclusive). With neither -n nor --end one
date is printed; with only --end every date up to it, at most 1,000.
--rrule takes real newlines or the two characters \n between lines.
Bad input prints one line on stderr and exits 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if m.ext.PreviewSchedule == nil {
				return errors.New("schedule preview is not available in this build")
			}
			s, start, end, n, err := f.parse(cmd)
			if err != nil {
				return usageErr(err)
			}
			dates, err := m.ext.PreviewSchedule(s, start, end, n)
			if err != nil {
				return usageErr(err)
			}
			return writeDates(cmd.OutOrStdout(), f.output, dates)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&f.interval, "interval", 0, "interval schedule: seconds between runs")
	fl.StringVar(&f.anchorDate, "anchor-date", "", "interval schedule: a date on the grid (RFC 3339, default now)")
	fl.StringVar(&f.cron, "cron", "", "cron schedule: a 5-field expression or @hourly, @daily, ...")
	fl.BoolVar(&f.dayOr, "day-or", true, "cron schedule: day-of-month OR day-of-week (false: AND)")
	fl.StringVar(&f.rrule, "rrule", "", `rrule schedule: an RFC 5545 string (lines separated by newlines or \n)`)
	fl.StringVar(&f.timezone, "timezone", "", "IANA time zone of the schedule (default UTC)")
	fl.StringVar(&f.start, "start", "", "first instant to consider, inclusive (RFC 3339, default now)")
	fl.StringVar(&f.end, "end", "", "last instant to consider, inclusive (RFC 3339)")
	fl.IntVarP(&f.n, "n", "n", 0, "number of dates (default 1, or every date up to --end)")
	fl.StringVarP(&f.output, "output", "o", outputTable, "output format: table or json")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	return cmd
}

// parse checks the flags and builds the schedule and the window.
func (f *previewFlags) parse(cmd *cobra.Command) (s *orionv1.Schedule, start, end time.Time, n int, err error) {
	if err := checkOutput(f.output); err != nil {
		return nil, start, end, 0, err
	}
	changed := cmd.Flags().Changed
	spec := &scheduleSpec{AnchorDate: f.anchorDate, Timezone: f.timezone, Cron: f.cron,
		RRule: strings.ReplaceAll(f.rrule, `\n`, "\n")}
	if changed("interval") {
		spec.Interval = &f.interval
	}
	if changed("day-or") {
		spec.DayOr = &f.dayOr
	}
	if s, err = spec.toProto(); err != nil {
		return nil, start, end, 0, fmt.Errorf("schedule: %v (use one of --interval, --cron, --rrule)", err)
	}
	if start, err = f.instant("start", f.start); err != nil {
		return nil, start, end, 0, err
	}
	if end, err = f.instant("end", f.end); err != nil {
		return nil, start, end, 0, err
	}
	if changed("n") && f.n < 1 {
		return nil, start, end, 0, fmt.Errorf("-n must be at least 1, got %d", f.n)
	}
	if !end.IsZero() && !start.IsZero() && end.Before(start) {
		return nil, start, end, 0, fmt.Errorf("--end %s is before --start %s", f.end, f.start)
	}
	return s, start, end, f.n, nil
}

// instant parses an optional --start or --end (naive times are read in
// --timezone).
func (f *previewFlags) instant(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := parseTimestamp(v, f.timezone)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: %v", name, err)
	}
	return t, nil
}

// rfc3339Zoned formats d in RFC 3339 with its zone's offset: "Z" only in
// UTC itself, "+00:00" in a zone that happens to be at UTC (London in
// winter). Fractions of a second are kept when there are any (a 0.5 s
// interval's dates would otherwise print twice alike).
func rfc3339Zoned(d time.Time) string {
	if d.Location() == time.UTC {
		return d.Format(time.RFC3339Nano)
	}
	return d.Format("2006-01-02T15:04:05.999999999-07:00")
}

// writeDates prints dates as a table (local time with offset, and UTC) or,
// with -o json, as one JSON array of RFC 3339 strings in the schedule's
// zone and nothing else.
func writeDates(w io.Writer, output string, dates []time.Time) error {
	texts := make([]string, len(dates))
	for i, d := range dates {
		texts[i] = rfc3339Zoned(d)
	}
	if output == outputJSON {
		return writeJSON(w, texts)
	}
	if len(dates) == 0 {
		_, err := fmt.Fprintln(w, "No dates in that window.")
		return err
	}
	t := newTable(w, "#", "SCHEDULED TIME", "ZONE", "UTC")
	for i, d := range dates {
		zone, _ := d.Zone()
		t.row(fmt.Sprint(i+1), texts[i], d.Location().String()+" ("+zone+")", d.UTC().Format(time.RFC3339Nano))
	}
	return t.flush()
}
