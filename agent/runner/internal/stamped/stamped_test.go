package stamped

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

type rec struct{ lines []string }

func (r *rec) out(stream, line string, _ int64) { r.lines = append(r.lines, stream+":"+line) }

func ts(i int) string {
	return time.Date(2026, 1, 1, 0, 0, 0, i*1000, time.UTC).Format("2006-01-02T15:04:05.000000000Z07:00")
}

// TestDelivery_ResumeAfterRestart: a second Delivery on the same state
// directory skips exactly the entries the first one recorded, also when
// several entries share a timestamp.
func TestDelivery_ResumeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	entries := []string{ts(1) + " a\n", ts(2) + " b\n", ts(2) + " c\n", ts(3) + " d\n", ts(4) + " e\n"}
	var r1 rec
	syncs := 0
	ld := NewDelivery(dir, r1.out, func() { syncs++ })
	w := ld.Writer("stdout")
	for _, e := range entries[:3] {
		_, _ = w.Write([]byte(e))
	}
	ld.Finish() // records a, b, c
	if syncs != 1 || strings.Join(r1.lines, ",") != "stdout:a,stdout:b,stdout:c" {
		t.Fatalf("first delivery %q, %d syncs", r1.lines, syncs)
	}

	var r2 rec
	ld2 := NewDelivery(dir, r2.out, nil)
	if ld2.Since() != ts(2) {
		t.Fatalf("Since = %q, want %q", ld2.Since(), ts(2))
	}
	w2 := ld2.Writer("stdout")
	// The engine returns the entries from Since on (inclusive), and an
	// entry before it if its clock is coarse.
	for _, e := range append([]string{entries[0]}, entries[1:]...) {
		_, _ = w2.Write([]byte(e))
	}
	ld2.Finish()
	if got := strings.Join(r2.lines, ","); got != "stdout:d,stdout:e" {
		t.Fatalf("resumed delivery %q, want d,e", got)
	}
}

// TestDelivery_RewindSkipsDelivered: a second read of the same log in one
// process (after a follow stream ended early) delivers only what was
// missed, and a line split over entries is joined.
func TestDelivery_RewindSkipsDelivered(t *testing.T) {
	var r rec
	ld := NewDelivery(t.TempDir(), r.out, nil)
	w, e := ld.Writer("stdout"), ld.Writer("stderr")
	_, _ = w.Write([]byte(ts(1) + " one\n"))
	_, _ = e.Write([]byte(ts(2) + " oops\n"))
	_, _ = w.Write([]byte(ts(3) + " par"))
	ld.Rewind()
	if ld.Delivered() != ts(3) {
		t.Fatalf("Delivered = %q", ld.Delivered())
	}
	for _, entry := range []struct {
		w *Writer
		s string
	}{{w, ts(3) + " par"}, {w, ts(4) + " tial\n"}, {w, ts(5) + " last"}} {
		_, _ = entry.w.Write([]byte(entry.s))
	}
	ld.Finish()
	if got := strings.Join(r.lines, ","); got != "stdout:one,stderr:oops,stdout:partial,stdout:last" {
		t.Fatalf("lines %q", got)
	}
}

func TestDelivery_LongLinesAreCut(t *testing.T) {
	var r rec
	ld := NewDelivery(t.TempDir(), r.out, nil)
	_, _ = ld.Writer("stdout").Write([]byte(ts(1) + " " + strings.Repeat("x", maxLineBytes+10) + "\n"))
	ld.Finish()
	if len(r.lines) != 2 || len(r.lines[0]) != len("stdout:")+maxLineBytes {
		t.Fatalf("got %d lines: %v", len(r.lines), fmt.Sprint(len(r.lines[0])))
	}
}
