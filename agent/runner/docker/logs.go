package docker

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

// Files of the state directory.
const (
	handleFileName   = "container.json"
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

// logDelivery turns the engine's timestamped log entries into lines for
// runner.Output, skipping entries delivered before a restart, and records
// the position.
type logDelivery struct {
	dir  string
	out  runner.Output
	sync func()

	pos     position // recorded
	skip    position // entries to skip, from the recorded position
	last    position // delivered so far
	pending int      // entries delivered since the last record
	lastRec time.Time
	buffers map[string]*streamWriter
}

func newLogDelivery(stateDir string, out runner.Output, sync func()) *logDelivery {
	ld := &logDelivery{dir: stateDir, out: out, sync: sync, lastRec: time.Now(), buffers: map[string]*streamWriter{}}
	if err := readJSON(filepath.Join(stateDir, positionFileName), &ld.pos); err == nil {
		ld.skip, ld.last = ld.pos, ld.pos
	}
	return ld
}

// entry handles one log entry (one engine frame): it reports whether the
// entry is new, and tracks the position.
func (ld *logDelivery) entry(ts string) bool {
	if ld.skip.Since != "" {
		t, err1 := time.Parse(time.RFC3339Nano, ts)
		s, err2 := time.Parse(time.RFC3339Nano, ld.skip.Since)
		if err1 == nil && err2 == nil {
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

// record saves the position after a Sync when a batch is due (or final)
// and no stream holds an incomplete line, which must not be skipped after
// a restart.
func (ld *logDelivery) record(final bool) {
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
	_ = writeJSONAtomic(filepath.Join(ld.dir, positionFileName), ld.pos)
}

func (ld *logDelivery) emit(stream, line string) {
	if ld.out != nil {
		ld.out(stream, line)
	}
}

// streamWriter receives one stream's frames from stdcopy: each Write is
// one log entry, "<RFC 3339 timestamp> <text>".
type streamWriter struct {
	ld     *logDelivery
	stream string
	mu     *sync.Mutex
	buf    []byte
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ld.buffers[w.stream] = w
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
		if i < 0 {
			w.buf = append(w.buf, text...)
			for len(w.buf) >= maxLineBytes {
				w.ld.emit(w.stream, string(w.buf[:maxLineBytes]))
				w.buf = append(w.buf[:0], w.buf[maxLineBytes:]...)
			}
			break
		}
		w.buf = append(w.buf, text[:i]...)
		w.ld.emit(w.stream, strings.TrimSuffix(string(w.buf), "\r"))
		w.buf = w.buf[:0]
		text = text[i+1:]
	}
	w.ld.record(false)
	return n, nil
}

// flush delivers a trailing line without a newline.
func (w *streamWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.ld.emit(w.stream, string(w.buf))
		w.buf = w.buf[:0]
	}
}

// exitRecord is the content of the exit file.
type exitRecord struct {
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
}

func writeExit(runDir string, res runner.ExitResult) error {
	rec := exitRecord{ExitCode: res.ExitCode}
	if res.Err != nil {
		rec.Error = res.Err.Error()
	}
	return writeJSONAtomic(filepath.Join(runDir, StateDirName, exitFileName), rec)
}

func readExit(stateDir string) (runner.ExitResult, bool) {
	var rec exitRecord
	if err := readJSON(filepath.Join(stateDir, exitFileName), &rec); err != nil {
		return runner.ExitResult{}, false
	}
	res := runner.ExitResult{ExitCode: rec.ExitCode}
	if rec.Error != "" {
		res.Err = errors.New(rec.Error)
	}
	return res, true
}

// writeJSONAtomic writes v to path through a temp file renamed into place.
func writeJSONAtomic(path string, v any) error {
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

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
