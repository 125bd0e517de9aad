// Package stamped delivers container output that the engine timestamps
// (Docker's log entries, Kubernetes' pod log lines) as lines, and records
// how far it got in the run's state directory so that a runner started
// after an agent restart resumes right after the last recorded entry. It
// also keeps the runners' small JSON records (handle, exit).
package stamped

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orion-run/orion/agent/runner"
)

// Files of a state directory.
const (
	positionFileName = "logs.json"
	exitFileName     = "exit.json"
)

// maxLineBytes is the longest line delivered; longer lines are cut.
const maxLineBytes = 64 << 10

// Recording the delivery position costs a Sync (the agent ships the lines
// to the server first), so it is done per batch: at most this often while
// output flows, and always when it ends.
const (
	recordEvery   = 250 * time.Millisecond
	recordEntries = 512
)

// position is how far the output was delivered: the engine timestamp of
// the last delivered log entry and how many entries carried exactly that
// timestamp. A restarted agent asks the engine for the entries since that
// timestamp and skips the ones already delivered.
type position struct {
	Since string `json:"since,omitempty"`
	Count int    `json:"count,omitempty"`
}

// Delivery turns the engine's timestamped log entries into lines for
// runner.Output, skipping entries delivered before a restart, and records
// the position.
type Delivery struct {
	dir  string
	out  runner.Output
	sync func()

	pos     position  // recorded
	skip    position  // entries to skip, from the recorded position
	skipAt  time.Time // skip.Since parsed (zero when it does not parse)
	last    position  // delivered so far
	pending int       // entries delivered since the last record
	lastRec time.Time
	buffers map[string]*Writer
	mu      sync.Mutex
}

// NewDelivery delivers to out (nil discards), calling sync before each
// record, resuming from the position recorded in stateDir.
func NewDelivery(stateDir string, out runner.Output, sync func()) *Delivery {
	ld := &Delivery{dir: stateDir, out: out, sync: sync, lastRec: time.Now(), buffers: map[string]*Writer{}}
	if err := ReadJSON(filepath.Join(stateDir, positionFileName), &ld.pos); err == nil {
		ld.skipFrom(ld.pos)
		ld.last = ld.pos
	}
	return ld
}

// skipFrom makes the entries up to p skipped.
func (ld *Delivery) skipFrom(p position) {
	ld.skip = p
	ld.skipAt, _ = time.Parse(time.RFC3339Nano, p.Since)
}

// entry handles one log entry (one engine frame): it reports whether the
// entry is new, and tracks the position.
func (ld *Delivery) entry(ts string) bool {
	if ld.skip.Since != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if s := ld.skipAt; err == nil && !s.IsZero() {
			switch {
			case t.Before(s):
				return false
			case t.Equal(s) && ld.skip.Count > 0:
				ld.skip.Count--
				return false
			}
		}
		ld.skip = position{}
	}
	if ts == ld.last.Since {
		ld.last.Count++
	} else {
		ld.last = position{Since: ts, Count: 1}
	}
	ld.pending++
	return true
}

// Record saves the position after a Sync when a batch is due (or final)
// and no stream holds an incomplete line, which must not be skipped after
// a restart.
func (ld *Delivery) Record(final bool) {
	if ld.pending == 0 {
		return
	}
	if !final && ld.pending < recordEntries && time.Since(ld.lastRec) < recordEvery {
		return
	}
	for _, w := range ld.buffers {
		if len(w.buf) > 0 && !final {
			return
		}
	}
	if ld.sync != nil {
		ld.sync()
	}
	ld.pos, ld.pending, ld.lastRec = ld.last, 0, time.Now()
	_ = WriteJSONAtomic(filepath.Join(ld.dir, positionFileName), ld.pos)
}

func (ld *Delivery) emit(stream, line string) {
	if ld.out != nil {
		ld.out(stream, line, 0)
	}
}

// Writer receives one stream's entries: each Write is one log entry,
// "<RFC 3339 timestamp> <text>" (a Docker frame, a pod log line).
type Writer struct {
	ld     *Delivery
	stream string
	mu     *sync.Mutex
	buf    []byte
}

// Writer returns the writer of one stream ("stdout", "stderr"). Writers of
// one Delivery share a lock.
func (ld *Delivery) Writer(stream string) *Writer {
	if w, ok := ld.buffers[stream]; ok {
		return w
	}
	w := &Writer{ld: ld, stream: stream, mu: &ld.mu}
	ld.buffers[stream] = w
	return w
}

// Since is the engine timestamp to ask for entries from ("" for all): the
// recorded position.
func (ld *Delivery) Since() string { return ld.pos.Since }

// Rewind prepares a second read of the same log (an engine's follow
// stream may end before its last entries): entries up to what was
// delivered so far are skipped, and Delivered says where to read from.
func (ld *Delivery) Rewind() {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.skipFrom(ld.last)
}

// Delivered is the engine timestamp of the last delivered entry.
func (ld *Delivery) Delivered() string {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	return ld.last.Since
}

func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	ts, text, ok := bytes.Cut(p, []byte(" "))
	if !ok {
		ts, text = p, nil
	}
	if !w.ld.entry(strings.TrimSpace(string(ts))) {
		return n, nil
	}
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		chunk := text
		if i >= 0 {
			chunk = text[:i]
		}
		w.buf = append(w.buf, chunk...)
		// Lines longer than maxLineBytes go out in pieces.
		for len(w.buf) > maxLineBytes || (i < 0 && len(w.buf) == maxLineBytes) {
			w.ld.emit(w.stream, string(w.buf[:maxLineBytes]))
			w.buf = append(w.buf[:0], w.buf[maxLineBytes:]...)
		}
		if i < 0 {
			break
		}
		w.ld.emit(w.stream, strings.TrimSuffix(string(w.buf), "\r"))
		w.buf = w.buf[:0]
		text = text[i+1:]
	}
	w.ld.Record(false)
	return n, nil
}

// Flush delivers a trailing line without a newline.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.ld.emit(w.stream, string(w.buf))
		w.buf = w.buf[:0]
	}
}

// Finish delivers trailing lines without a newline and records the final
// position.
func (ld *Delivery) Finish() {
	for _, w := range ld.buffers {
		w.Flush()
	}
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.Record(true)
}

// exitRecord is the content of the exit file.
type exitRecord struct {
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
}

// WriteExit records how the infrastructure ended in stateDir.
func WriteExit(stateDir string, res runner.ExitResult) error {
	rec := exitRecord{ExitCode: res.ExitCode}
	if res.Err != nil {
		rec.Error = res.Err.Error()
	}
	return WriteJSONAtomic(filepath.Join(stateDir, exitFileName), rec)
}

// ReadExit reads the exit recorded in stateDir, if any.
func ReadExit(stateDir string) (runner.ExitResult, bool) {
	var rec exitRecord
	if err := ReadJSON(filepath.Join(stateDir, exitFileName), &rec); err != nil {
		return runner.ExitResult{}, false
	}
	res := runner.ExitResult{ExitCode: rec.ExitCode}
	if rec.Error != "" {
		res.Err = errors.New(rec.Error)
	}
	return res, true
}

// WriteJSONAtomic writes v to path through a temp file renamed into place.
func WriteJSONAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// ReadJSON decodes the JSON file at path into v.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// ReadHandle decodes the handle record at path into v, for a runner's
// Locate. It returns runner.ErrNotRunning when there is no record (nothing
// was started there).
func ReadHandle(path string, v any) error {
	err := ReadJSON(path, v)
	if errors.Is(err, os.ErrNotExist) {
		return runner.ErrNotRunning
	}
	return err
}
