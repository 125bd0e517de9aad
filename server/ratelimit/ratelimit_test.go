package ratelimit

import (
	"errors"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLimiter_AdmitsWholeRequestsWithinTheRate(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Limits{LinesPerSecond: 10, LineBurst: 20, BytesPerSecond: 1000, ByteBurst: 1000}, c.now)
	if err := l.Allow("run-a", 20, 100); err != nil {
		t.Fatalf("a full burst: %v", err)
	}
	err := l.Allow("run-a", 1, 1)
	if !errors.Is(err, ErrLimited) {
		t.Fatalf("beyond the burst: %v", err)
	}
	// The refused request took nothing: after 100 ms exactly one line fits.
	c.t = c.t.Add(100 * time.Millisecond)
	if err := l.Allow("run-a", 1, 1); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	if err := l.Allow("run-a", 1, 1); !errors.Is(err, ErrLimited) {
		t.Fatalf("the refill was one line: %v", err)
	}
	// Another key has its own buckets.
	if err := l.Allow("run-b", 20, 100); err != nil {
		t.Fatalf("another key: %v", err)
	}
}

func TestLimiter_BytesAndOversizedRequests(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Limits{LinesPerSecond: 1000, LineBurst: 1000, BytesPerSecond: 100, ByteBurst: 100}, c.now)
	if err := l.Allow("r", 1, 101); !errors.Is(err, ErrLimited) {
		t.Fatalf("a request larger than the byte burst: %v", err)
	}
	if err := l.Allow("r", 1001, 1); !errors.Is(err, ErrLimited) {
		t.Fatalf("a request larger than the line burst: %v", err)
	}
	// Neither refusal consumed tokens.
	if err := l.Allow("r", 1000, 100); err != nil {
		t.Fatalf("full buckets after refusals: %v", err)
	}
	if err := l.Allow("r", 1, 0); !errors.Is(err, ErrLimited) {
		t.Fatalf("lines exhausted: %v", err)
	}
}

func TestLimiter_IdleKeysAreDropped(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Limits{LinesPerSecond: 1, LineBurst: 1, Idle: time.Minute}, c.now)
	for _, k := range []string{"a", "b", "c"} {
		if err := l.Allow(k, 1, 0); err != nil {
			t.Fatal(err)
		}
	}
	c.t = c.t.Add(2 * time.Minute)
	if err := l.Allow("d", 1, 0); err != nil {
		t.Fatal(err)
	}
	if n := l.Len(); n != 1 {
		t.Fatalf("%d keys kept; want only the active one", n)
	}
	var nilLimiter *Limiter
	if err := nilLimiter.Allow("x", 1<<30, 1<<30); err != nil {
		t.Fatalf("a nil limiter admits everything: %v", err)
	}
}
