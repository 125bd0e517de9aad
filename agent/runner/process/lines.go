package process

import (
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

func (m *outputMux) emit(stream, line string, pos int64) {
	if m.fn == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fn(stream, line, pos)
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
