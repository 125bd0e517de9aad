package process

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/orion-run/orion/agent/runner"
)

// tailChunk is how much of an output file is read at once; it must exceed
// MaxLineBytes so that a full line always fits.
const tailChunk = 4 * MaxLineBytes

// offsets are how far each output file has been delivered, in bytes. They
// are saved in the state directory after every delivery, so a runner that
// reattaches after an agent restart resumes exactly where the previous one
// stopped: no line is delivered twice or skipped.
type offsets struct {
	Stdout int64 `json:"stdout"`
	Stderr int64 `json:"stderr"`
}

// tailer delivers a shim's output files line by line, from saved offsets.
// It is used by one goroutine at a time.
type tailer struct {
	dir  string
	mux  *outputMux
	sync func()
	off  offsets
	buf  []byte
}

func newTailer(dir string, out runner.Output, sync func()) *tailer {
	t := &tailer{dir: dir, mux: &outputMux{fn: out}, sync: sync}
	if err := readJSON(filepath.Join(dir, offsetsFileName), &t.off); err != nil {
		t.off = offsets{}
	}
	return t
}

// poll delivers every complete line written since the last poll (with
// final, also a trailing line without a newline) and saves the new
// offsets. It reports whether anything was delivered.
//
// The final poll (the flow exited) neither syncs nor saves offsets: its
// lines go to the server with the run's final state, and an agent that
// dies before that reattaches, finds the exit and delivers them again
// from the saved offsets, at the same positions, which the server stores
// once.
func (t *tailer) poll(final bool) bool {
	a := t.stream("stdout", stdoutFileName, &t.off.Stdout, final)
	b := t.stream("stderr", stderrFileName, &t.off.Stderr, final)
	if !a && !b {
		return false
	}
	if final {
		return true
	}
	if t.sync != nil {
		// The consumer makes delivered lines durable before the offsets
		// move past them.
		t.sync()
	}
	_ = writeJSONAtomic(filepath.Join(t.dir, offsetsFileName), t.off)
	return true
}

// stream delivers new lines of one file and advances *off.
func (t *tailer) stream(name, file string, off *int64, final bool) bool {
	f, err := os.Open(filepath.Join(t.dir, file))
	if err != nil {
		return false
	}
	defer f.Close()
	if t.buf == nil {
		t.buf = make([]byte, tailChunk)
	}
	delivered := false
	for {
		n, err := f.ReadAt(t.buf, *off)
		if n == 0 {
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, fs.ErrClosed) {
				return delivered
			}
			return delivered
		}
		data := t.buf[:n]
		base := *off
		used := cutLines(data, func(line []byte, end int) { t.mux.emit(name, string(line), base+int64(end)) })
		if final && used < len(data) && n < len(t.buf) {
			t.mux.emit(name, string(data[used:]), base+int64(len(data)))
			used = len(data)
		}
		if used == 0 {
			return delivered
		}
		*off += int64(used)
		delivered = true
		if n < len(t.buf) && used == len(data) {
			return delivered
		}
	}
}

// cutLines hands every complete line of data to emit (without "\n" or a
// trailing "\r") with the offset in data just past it, cutting lines
// longer than MaxLineBytes into pieces at rune boundaries, and returns how
// many bytes it consumed. A trailing incomplete line shorter than
// MaxLineBytes is left.
func cutLines(data []byte, emit func(line []byte, end int)) int {
	used := 0
	for used < len(data) {
		rest := data[used:]
		i := bytes.IndexByte(rest, '\n')
		switch {
		case i >= 0 && i <= MaxLineBytes:
			used += i + 1
			emit([]byte(strings.TrimSuffix(string(rest[:i]), "\r")), used)
		case len(rest) > MaxLineBytes:
			cut := runeSafeCut(rest[:MaxLineBytes])
			used += cut
			emit(rest[:cut], used)
		default:
			return used
		}
	}
	return used
}
