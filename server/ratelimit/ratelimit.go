// Package ratelimit bounds how fast one key (a flow run) may write, with a
// token bucket per key for lines and one for bytes. A request is admitted
// whole or refused whole, so every line the server accepted is stored and a
// refused request can be retried as it is: nothing is lost or doubled.
package ratelimit

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrLimited is returned (wrapped, with the key and a retry delay) when a
// key writes faster than its limit. gRPC maps it to ResourceExhausted and
// HTTP to 429.
var ErrLimited = errors.New("rate limited")

// Limits configure a Limiter. Zero rates mean no limit.
type Limits struct {
	// LinesPerSecond and LineBurst bound lines per key.
	LinesPerSecond float64
	LineBurst      int
	// BytesPerSecond and ByteBurst bound bytes per key.
	BytesPerSecond float64
	ByteBurst      int
	// Idle is how long a key's buckets are kept after its last request
	// (default 2 minutes); a returning key starts with full buckets.
	Idle time.Duration
}

type bucket struct {
	lines, bytes *rate.Limiter
	last         time.Time
}

// Limiter holds the buckets of every active key. It is safe for concurrent
// use.
type Limiter struct {
	limits Limits
	now    func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

// New returns a limiter; now is the clock (time.Now when nil).
func New(l Limits, now func() time.Time) *Limiter {
	if l.Idle <= 0 {
		l.Idle = 2 * time.Minute
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{limits: l, now: now, buckets: map[string]*bucket{}}
}

// Allow admits a request of lines lines and size bytes for key, or returns
// an error wrapping ErrLimited that says when to retry.
func (l *Limiter) Allow(key string, lines, size int) error {
	if l == nil {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lines: newLimiter(l.limits.LinesPerSecond, l.limits.LineBurst), bytes: newLimiter(l.limits.BytesPerSecond, l.limits.ByteBurst)}
		l.buckets[key] = b
	}
	b.last = now
	rl := b.lines.ReserveN(now, lines)
	if !rl.OK() {
		return fmt.Errorf("%w: %s: %d lines in one request exceed the burst of %d; send smaller batches", ErrLimited, key, lines, l.limits.LineBurst)
	}
	rb := b.bytes.ReserveN(now, size)
	if !rb.OK() {
		rl.CancelAt(now)
		return fmt.Errorf("%w: %s: %d bytes in one request exceed the burst of %d; send smaller batches", ErrLimited, key, size, l.limits.ByteBurst)
	}
	if wait := max(rl.DelayFrom(now), rb.DelayFrom(now)); wait > 0 {
		rl.CancelAt(now)
		rb.CancelAt(now)
		return fmt.Errorf("%w: %s writes logs faster than %.0f lines/s or %.0f bytes/s; retry in %s", ErrLimited, key, l.limits.LinesPerSecond, l.limits.BytesPerSecond, wait.Round(time.Millisecond))
	}
	return nil
}

// Len is the number of keys with live buckets.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// sweep drops idle keys, at most once per Idle period.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.limits.Idle {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.limits.Idle {
			delete(l.buckets, k)
		}
	}
}

func newLimiter(perSecond float64, burst int) *rate.Limiter {
	if perSecond <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(perSecond), burst)
}
