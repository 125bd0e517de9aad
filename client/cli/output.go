package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// Output formats selected with -o.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// addOutputFlag adds -o/--output to a read command.
func addOutputFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "output", "o", outputTable, "output format: table or json")
}

// checkOutput validates the -o value.
func checkOutput(format string) error {
	switch format {
	case outputTable, outputJSON:
		return nil
	}
	return fmt.Errorf("invalid output format '%s': expected 'table' or 'json'", format)
}

// protoJSON renders m as compact JSON with proto field names. With all set,
// fields at their zero value are included too (the -o json contract).
func protoJSON(m proto.Message, all bool) (json.RawMessage, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: all}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s as JSON: %w", m.ProtoReflect().Descriptor().Name(), err)
	}
	return json.RawMessage(b), nil
}

// protoList renders each message with protoJSON; the result is never nil so
// that an empty list prints as [].
func protoList[T proto.Message](items []T, all bool) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		b, err := protoJSON(it, all)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// writeJSON prints v as one indented JSON document. v may hold
// json.RawMessage values (protojson output); re-indenting them here also
// makes the output stable, which protojson's own formatting is not.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// writeProto prints one message as an indented JSON document.
func writeProto(w io.Writer, m proto.Message, all bool) error {
	b, err := protoJSON(m, all)
	if err != nil {
		return err
	}
	return writeJSON(w, b)
}

// writeProtoList prints messages as one indented JSON array.
func writeProtoList[T proto.Message](w io.Writer, items []T) error {
	list, err := protoList(items, true)
	if err != nil {
		return err
	}
	return writeJSON(w, list)
}

// table writes aligned columns. Cells are cleaned of tabs and newlines, and
// empty cells print as "-".
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = cell(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// cell makes s safe for one table cell.
func cell(s string) string {
	s = strings.TrimSpace(strings.NewReplacer("\t", " ", "\r", " ", "\n", " ").Replace(s))
	if s == "" {
		return "-"
	}
	return s
}

// Time layouts used in human output.
const (
	layoutDateTime = "2006-01-02 15:04:05"
	layoutLog      = "2006-01-02 15:04:05.000"
	layoutClock    = "15:04:05"
)

// fmtTime formats ts in loc with layout, or "-" when unset.
func fmtTime(ts *timestamppb.Timestamp, loc *time.Location, layout string) string {
	if ts == nil || (ts.Seconds == 0 && ts.Nanos == 0) {
		return "-"
	}
	return ts.AsTime().In(loc).Format(layout)
}

// typeTitle is a state type as a display name: STATE_TYPE_CANCELLING →
// "Cancelling".
func typeTitle(t orionv1.StateType) string {
	s := typeShort(t)
	if s == "UNSPECIFIED" {
		return "Unknown"
	}
	return s[:1] + strings.ToLower(s[1:])
}

// typeShort is a state type without its enum prefix: "COMPLETED".
func typeShort(t orionv1.StateType) string {
	return strings.TrimPrefix(t.String(), "STATE_TYPE_")
}

// stateName is the state's display name ("Late"), falling back to its type.
func stateName(s *orionv1.State) string {
	if s == nil {
		return "-"
	}
	if s.GetName() != "" {
		return s.GetName()
	}
	return typeTitle(s.GetType())
}

// isTerminal reports whether a run in state s will not change any more.
func isTerminal(s *orionv1.State) bool {
	switch s.GetType() {
	case orionv1.StateType_STATE_TYPE_COMPLETED, orionv1.StateType_STATE_TYPE_FAILED,
		orionv1.StateType_STATE_TYPE_CANCELLED, orionv1.StateType_STATE_TYPE_CRASHED:
		return true
	}
	return false
}

// stateLine is one line of a watched run's history: "18:01:03 Running",
// with " - <message>" when the state has one.
func stateLine(s *orionv1.State, loc *time.Location) string {
	line := fmtTime(s.GetTimestamp(), loc, layoutClock) + " " + stateName(s)
	if msg := oneLine(s.GetMessage()); msg != "" {
		line += " - " + msg
	}
	return line
}

// finishedError describes a run that ended in a state other than COMPLETED.
func finishedError(run *orionv1.FlowRun) error {
	msg := fmt.Sprintf("Flow run '%s' finished in state %s", run.GetName(), stateName(run.GetState()))
	if m := oneLine(run.GetState().GetMessage()); m != "" {
		msg += ": " + m
	}
	return exitCode1(fmt.Errorf("%s", msg))
}

// levelName is Python's name for a numeric log level.
func levelName(level int32) string {
	switch level {
	case 10:
		return "DEBUG"
	case 20:
		return "INFO"
	case 30:
		return "WARNING"
	case 40:
		return "ERROR"
	case 50:
		return "CRITICAL"
	case 0:
		return "NOTSET"
	}
	return fmt.Sprintf("Level %d", level)
}

// logLine formats a log entry as
// "2024-05-01 18:01:02.345 | INFO    | stdout - hello".
func logLine(l *orionv1.Log, loc *time.Location) string {
	return fmt.Sprintf("%s | %-7s | %s - %s",
		fmtTime(l.GetTimestamp(), loc, layoutLog), levelName(l.GetLevel()), l.GetName(), l.GetMessage())
}

// fmtDuration prints d compactly: "1d", "1h30m", "45s", "1.5s".
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	units := []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}}
	for _, u := range units {
		if d >= u.unit {
			fmt.Fprintf(&b, "%d%s", d/u.unit, u.name)
			d %= u.unit
		}
	}
	if d > 0 {
		if d%time.Second == 0 {
			fmt.Fprintf(&b, "%ds", d/time.Second)
		} else {
			fmt.Fprintf(&b, "%ss", strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", d.Seconds()), "0"), "."))
		}
	}
	return b.String()
}

// fmtProtoDuration is fmtDuration for an optional proto duration.
func fmtProtoDuration(d *durationpb.Duration) string {
	if d == nil {
		return "-"
	}
	return fmtDuration(d.AsDuration())
}

// scheduleText summarises a schedule in one short cell.
func scheduleText(s *orionv1.Schedule, active bool) string {
	var text string
	var tz string
	switch k := s.GetKind().(type) {
	case *orionv1.Schedule_Interval:
		text = "every " + fmtProtoDuration(k.Interval.GetInterval())
		tz = k.Interval.GetTimezone()
	case *orionv1.Schedule_Cron:
		text = "cron " + k.Cron.GetCron()
		tz = k.Cron.GetTimezone()
	case *orionv1.Schedule_Rrule:
		text = "rrule " + oneLine(k.Rrule.GetRrule())
		if len(text) > 48 {
			text = text[:45] + "..."
		}
		tz = k.Rrule.GetTimezone()
	default:
		return "-"
	}
	if tz != "" {
		text += " (" + tz + ")"
	}
	if !active {
		text += " [paused]"
	}
	return text
}
