package process

import (
	"bytes"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/orion-run/orion/agent/runner"
)

// MaxLineBytes is the longest line delivered to runner.Output. Longer lines
// are split into pieces of at most this size (at a UTF-8 rune boundary), so
// nothing is lost and no single log entry grows without bound.
const MaxLineBytes = 64 << 10

// outputMux serializes the two streams' lines into one runner.Output.
type outputMux struct {
	mu sync.Mutex
	fn runner.Output
}

func (m *outputMux) emit(stream, line string) {
	if m.fn == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fn(stream, line)
}

// lineWriter is an io.Writer that cuts what is written into lines and hands
// each to the mux. os/exec copies a pipe into it from one goroutine, so it
// needs no lock of its own; flush must be called after that copying ended.
type lineWriter struct {
	mux    *outputMux
	stream string
	buf    []byte
}

func newLineWriter(mux *outputMux, stream string) *lineWriter {
	return &lineWriter{mux: mux, stream: stream}
}

// Write splits p into lines. It never fails: output must not block or kill
// the flow process.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		room := MaxLineBytes - len(w.buf)
		if len(chunk) > room {
			// The line is too long: deliver a full piece and carry an
			// incomplete trailing rune over to the next piece.
			w.buf = append(w.buf, chunk[:room]...)
			cut := runeSafeCut(w.buf)
			w.mux.emit(w.stream, string(w.buf[:cut]))
			rest := copy(w.buf, w.buf[cut:])
			w.buf = w.buf[:rest]
			p = p[room:]
			continue
		}
		w.buf = append(w.buf, chunk...)
		if i < 0 {
			break
		}
		w.mux.emit(w.stream, strings.TrimSuffix(string(w.buf), "\r"))
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// flush delivers a trailing line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.mux.emit(w.stream, string(w.buf))
		w.buf = w.buf[:0]
	}
}

// runeSafeCut returns how many bytes of b can be delivered without cutting
// a UTF-8 sequence in two: len(b), or the start of an incomplete rune at
// its end.
func runeSafeCut(b []byte) int {
	for j := 1; j <= utf8.UTFMax && j <= len(b); j++ {
		start := len(b) - j
		if !utf8.RuneStart(b[start]) {
			continue
		}
		if !utf8.FullRune(b[start:]) && start > 0 {
			return start
		}
		break
	}
	return len(b)
}
