package process

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/orion-run/orion/agent/runner"
)

func TestMain(m *testing.M) {
	ShimMain()
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

type line struct{ stream, text string }

// collector records output lines and signals each one on a channel.
type collector struct {
	mu    sync.Mutex
	lines []line
	ch    chan line
}

func newCollector() *collector { return &collector{ch: make(chan line, 1024)} }

func (c *collector) output(stream, text string, _ int64) {
	c.mu.Lock()
	c.lines = append(c.lines, line{stream, text})
	c.mu.Unlock()
	select {
	case c.ch <- line{stream, text}:
	default:
	}
}

func (c *collector) get(stream string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.lines {
		if l.stream == stream {
			out = append(out, l.text)
		}
	}
	return out
}

// awaitLine waits for a line with the given text.
func (c *collector) awaitLine(t *testing.T, text string) {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case l := <-c.ch:
			if l.text == text {
				return
			}
		case <-timeout:
			t.Fatalf("line %q never came", text)
		}
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func spec(t *testing.T, c *collector, script string) runner.Spec {
	return runner.Spec{
		FlowRunID: t.Name(),
		Epoch:     1,
		Command:   []string{"sh", "-c", script},
		Env:       os.Environ(),
		Dir:       t.TempDir(),
		Output:    c.output,
	}
}

func start(t *testing.T, r *Runner, s runner.Spec) runner.Handle {
	t.Helper()
	h, err := r.Start(testCtx(t), s)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		// Never leave a process (or its Wait goroutine) behind.
		_ = r.Stop(context.Background(), h, 0)
		r.Release(h)
	})
	return h
}

func wait(t *testing.T, r *Runner, h runner.Handle) runner.ExitResult {
	t.Helper()
	res, err := r.Wait(testCtx(t), h)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return res
}

func TestRunner_ExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		want   runner.ExitResult
	}{
		{"success", "exit 0", runner.ExitResult{ExitCode: 0}},
		{"failure", "exit 3", runner.ExitResult{ExitCode: 3}},
		{"killed", "kill -KILL $$", runner.ExitResult{ExitCode: -1, Signal: "SIGKILL"}},
		{"terminated", "kill -TERM $$", runner.ExitResult{ExitCode: -1, Signal: "SIGTERM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New()
			h := start(t, r, spec(t, newCollector(), tc.script))
			if got := wait(t, r, h); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if got := wait(t, r, h); got != tc.want {
				t.Fatalf("second wait: got %+v, want %+v", got, tc.want)
			}
			if err := r.Stop(testCtx(t), h, time.Second); err != nil {
				t.Fatalf("stop after exit: %v", err)
			}
		})
	}
}

func TestRunner_StopGraceEscalates(t *testing.T) {
	r := New()
	c := newCollector()
	h := start(t, r, spec(t, c, `trap "" TERM; echo ready; sleep 30`))
	c.awaitLine(t, "ready")

	begin := time.Now()
	if err := r.Stop(testCtx(t), h, 200*time.Millisecond); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if d := time.Since(begin); d < 200*time.Millisecond {
		t.Fatalf("stop returned after %v, before the grace period", d)
	}
	if got := wait(t, r, h); got.Signal != "SIGKILL" {
		t.Fatalf("got %+v, want SIGKILL", got)
	}
}

func TestRunner_StopTerminatesGroup(t *testing.T) {
	r := New()
	c := newCollector()
	// The child sleep is in the same process group and must die too.
	h := start(t, r, spec(t, c, `sleep 30 & echo child $!; wait`))
	var child int
	select {
	case l := <-c.ch:
		pid, err := strconv.Atoi(strings.TrimPrefix(l.text, "child "))
		if err != nil {
			t.Fatalf("unexpected line %q", l.text)
		}
		child = pid
	case <-time.After(testTimeout):
		t.Fatal("no child pid")
	}
	if err := r.Stop(testCtx(t), h, 5*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got := wait(t, r, h); got.Signal != "SIGTERM" {
		t.Fatalf("got %+v, want SIGTERM", got)
	}
	// SIGKILL is delivered asynchronously: give the child a bounded time.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for alive(child, 0) {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("child %d survived the stop", child)
		}
	}
}

func TestRunner_EnvAndDir(t *testing.T) {
	r := New()
	c := newCollector()
	s := spec(t, c, `echo "$ORION_TEST_VALUE"; pwd; echo "${HOME:-unset}"`)
	s.Env = []string{"PATH=" + os.Getenv("PATH"), "ORION_TEST_VALUE=hello world"}
	h := start(t, r, s)
	if res := wait(t, r, h); !res.Success() {
		t.Fatalf("exit: %v", res)
	}
	got := c.get("stdout")
	want := []string{"hello world", s.Dir, "unset"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("stdout %q, want %q", got, want)
	}
}

func TestRunner_OutputOrderAndStreams(t *testing.T) {
	r := New()
	c := newCollector()
	h := start(t, r, spec(t, c, `i=0; while [ $i -lt 500 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; printf 'no newline'`))
	if res := wait(t, r, h); !res.Success() {
		t.Fatalf("exit: %v", res)
	}
	out, errs := c.get("stdout"), c.get("stderr")
	if len(out) != 501 || len(errs) != 500 {
		t.Fatalf("got %d stdout and %d stderr lines", len(out), len(errs))
	}
	for i := 0; i < 500; i++ {
		if out[i] != "out "+strconv.Itoa(i) || errs[i] != "err "+strconv.Itoa(i) {
			t.Fatalf("line %d out of order: %q %q", i, out[i], errs[i])
		}
	}
	if out[500] != "no newline" {
		t.Fatalf("trailing line %q", out[500])
	}
}

func TestRunner_LongLinesSplit(t *testing.T) {
	r := New()
	c := newCollector()
	// 150000 'x' then a newline, then a 3-byte rune straddling the 64 KiB cut.
	h := start(t, r, spec(t, c, `head -c 150000 /dev/zero | tr '\0' x; echo; head -c 65535 /dev/zero | tr '\0' y; printf '\342\202\254z\n'`))
	if res := wait(t, r, h); !res.Success() {
		t.Fatalf("exit: %v", res)
	}
	out := c.get("stdout")
	if len(out) != 5 {
		t.Fatalf("got %d lines, want 5", len(out))
	}
	if len(out[0]) != MaxLineBytes || len(out[1]) != MaxLineBytes || len(out[2]) != 150000-2*MaxLineBytes {
		t.Fatalf("pieces of %d, %d, %d bytes", len(out[0]), len(out[1]), len(out[2]))
	}
	if strings.Join(out[:3], "") != strings.Repeat("x", 150000) {
		t.Fatal("split line lost bytes")
	}
	if out[3] != strings.Repeat("y", 65535) || out[4] != "€z" {
		t.Fatalf("rune split badly: %d bytes, then %q", len(out[3]), out[4])
	}
}

func TestRunner_MissingBinary(t *testing.T) {
	r := New()
	s := spec(t, newCollector(), "")
	s.Command = []string{"orion-no-such-binary"}
	_, err := r.Start(testCtx(t), s)
	if !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("got %v, want exec.ErrNotFound", err)
	}
	s.Command = []string{"./missing.sh"}
	if _, err := r.Start(testCtx(t), s); err == nil {
		t.Fatal("start of a missing relative path succeeded")
	}
}

func TestRunner_StartIdempotent(t *testing.T) {
	r := New()
	c := newCollector()
	s := spec(t, c, "echo once")
	h1 := start(t, r, s)
	h2, err := r.Start(testCtx(t), s)
	if err != nil || h1.ID != h2.ID {
		t.Fatalf("second start: %v %v", h2, err)
	}
	wait(t, r, h1)
	if got := c.get("stdout"); len(got) != 1 {
		t.Fatalf("ran %d times", len(got))
	}
}

func TestRunner_RecoverAndStop(t *testing.T) {
	first := New()
	c := newCollector()
	h := start(t, first, spec(t, c, `echo ready; exec sleep 30`))
	c.awaitLine(t, "ready")

	// A second runner (as after an agent restart) finds the process again.
	second := New()
	if err := second.Recover(testCtx(t), h); err != nil {
		t.Fatalf("recover: %v", err)
	}
	if err := second.Stop(testCtx(t), h, 5*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// The shim recorded the exit, so even the second runner knows it.
	res, err := second.Wait(testCtx(t), h)
	if err != nil || res.Signal != "SIGTERM" {
		t.Fatalf("wait on recovered: %+v %v", res, err)
	}
	if got := wait(t, first, h); got.Signal != "SIGTERM" {
		t.Fatalf("owner saw %+v", got)
	}
	second.Release(h)
	// Ended with a record: still recoverable, and Wait answers at once.
	if err := second.Recover(testCtx(t), h); err != nil {
		t.Fatalf("recover of an exited process with an exit file: %v", err)
	}
	if res, err := second.Wait(testCtx(t), h); err != nil || res.Signal != "SIGTERM" {
		t.Fatalf("wait after recover of an exited process: %+v %v", res, err)
	}
	second.Release(h)
}

func TestRunner_UnknownHandle(t *testing.T) {
	r := New()
	h := runner.Handle{Type: runner.TypeSubprocess, ID: "1"}
	if _, err := r.Wait(testCtx(t), h); !errors.Is(err, runner.ErrUnknownHandle) {
		t.Fatalf("wait: %v", err)
	}
	if err := r.Stop(testCtx(t), h, 0); !errors.Is(err, runner.ErrUnknownHandle) {
		t.Fatalf("stop: %v", err)
	}
}
