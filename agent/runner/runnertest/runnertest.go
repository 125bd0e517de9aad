// Package runnertest is the conformance suite every runner passes: exit
// codes, environment and parameters, output in order per stream, graceful
// and forced stops within the grace period, start failures with the
// engine's message, idempotent Start/Wait/Stop, Recover after an agent
// restart, and no leftovers after completion.
//
// A runner's test adapts the suite with a Harness and calls Run:
//
//	runnertest.Run(t, runnertest.Harness{New: ..., Prepare: ..., Leftovers: ...})
//
// Scripts are POSIX sh (busybox is enough) and use only their working
// directory, so the same scenarios run as subprocesses, in containers and
// in Kubernetes pods.
package runnertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orion-run/orion/agent/runner"
)

// Timeout bounds every wait in the suite.
const Timeout = 60 * time.Second

// ParametersFile is the file the suite writes into a run's directory, as
// the agent does.
const ParametersFile = ".orion-parameters.json"

// Harness adapts the suite to one runner.
type Harness struct {
	// New returns a runner, as a fresh agent process would make it. The
	// restart scenarios call it twice.
	New func(t *testing.T) runner.Runner
	// Prepare completes a spec the suite built: Command is ["sh", "-c",
	// script], Env a minimal environment, Dir a fresh directory holding
	// the run's files, FlowRunID unique per test. Prepare adds what the
	// runner needs (an image, for instance).
	Prepare func(t *testing.T, s *runner.Spec)
	// MissingImage, when set, makes a prepared spec name an image that does
	// not exist (without pulling); Start must then fail with an error
	// containing MissingImageMessage.
	MissingImage        func(s *runner.Spec)
	MissingImageMessage string
	// BadCommandMessage is part of the error Start returns for a command
	// that does not exist.
	BadCommandMessage string
	// Leftovers lists what is left of a run's infrastructure (containers,
	// Jobs, pods, processes); after completion it must be empty.
	Leftovers func(t *testing.T, s runner.Spec) []string
	// MergedStreams is set for runners whose engine delivers stdout and
	// stderr as one stream (Kubernetes pod logs): the suite then checks the
	// order of each stream's lines within the merged output.
	MergedStreams bool
	// StopSlack is how much longer than the grace a forced stop may take
	// (default 15 s).
	StopSlack time.Duration
}

// Line is one output line.
type Line struct{ Stream, Text string }

// Collector records output lines; Output is its runner.Output.
type Collector struct {
	mu    sync.Mutex
	lines []Line
	pos   []int64 // each line's position (0: none)
	syncs int
	ch    chan Line
}

// NewCollector returns an empty collector.
func NewCollector() *Collector { return &Collector{ch: make(chan Line, 4096)} }

// Output records a line and its position.
func (c *Collector) Output(stream, text string, pos int64) {
	c.mu.Lock()
	c.lines = append(c.lines, Line{stream, text})
	c.pos = append(c.pos, pos)
	c.mu.Unlock()
	select {
	case c.ch <- Line{stream, text}:
	default:
	}
}

// Sync counts calls (a runner.Spec.Sync).
func (c *Collector) Sync() {
	c.mu.Lock()
	c.syncs++
	c.mu.Unlock()
}

// checkPositions fails the test unless the positions of each stream are
// all 0 (the runner gives none) or all > 0 and increasing.
func (c *Collector) checkPositions(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	last := map[string]int64{}
	given := map[string]bool{}
	for i, l := range c.lines {
		p := c.pos[i]
		if seen, ok := given[l.Stream]; ok && seen != (p > 0) {
			t.Fatalf("%s line %d (%q): position %d, but other lines of the stream have %s", l.Stream, i, l.Text, p, map[bool]string{true: "one", false: "none"}[seen])
		}
		given[l.Stream] = p > 0
		if p > 0 && p <= last[l.Stream] {
			t.Fatalf("%s line %d (%q): position %d after %d; positions must increase", l.Stream, i, l.Text, p, last[l.Stream])
		}
		last[l.Stream] = p
	}
}

// position returns the position given with the first line of stream
// with text (-1 when there is none).
func (c *Collector) position(stream, text string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, l := range c.lines {
		if l.Stream == stream && l.Text == text {
			return c.pos[i]
		}
	}
	return -1
}

// Lines returns the texts of one stream ("" for both), in order.
func (c *Collector) Lines(stream string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.lines {
		if stream == "" || l.Stream == stream {
			out = append(out, l.Text)
		}
	}
	return out
}

// Await waits for a line with the given text.
func (c *Collector) Await(t *testing.T, text string) {
	t.Helper()
	timeout := time.NewTimer(Timeout)
	defer timeout.Stop()
	for {
		select {
		case l := <-c.ch:
			if l.Text == text {
				return
			}
		case <-timeout.C:
			t.Fatalf("line %q never came; got %q", text, c.Lines(""))
		}
	}
}

// Ctx is a context bounded by Timeout.
func Ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// suite carries the harness through the subtests.
type suite struct {
	h Harness
}

// Run runs every scenario against the harness's runner.
func Run(t *testing.T, h Harness) {
	if h.StopSlack == 0 {
		h.StopSlack = 15 * time.Second
	}
	s := &suite{h: h}
	t.Run("ExitCodes", s.exitCodes)
	t.Run("EnvAndParameters", s.envAndParameters)
	t.Run("OutputInOrder", s.outputInOrder)
	t.Run("StopGraceful", s.stopGraceful)
	t.Run("StopForcedAfterGrace", s.stopForced)
	t.Run("Idempotent", s.idempotent)
	t.Run("BadCommand", s.badCommand)
	if h.MissingImage != nil {
		t.Run("MissingImage", s.missingImage)
	}
	t.Run("RecoverAfterRestart", s.recoverAfterRestart)
	t.Run("RecoverFinished", s.recoverFinished)
}

// spec builds a prepared spec for script.
func (s *suite) spec(t *testing.T, c *Collector, script string) runner.Spec {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ParametersFile), []byte(`{"name": "Marvin"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	id := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(id) > 40 {
		id = id[len(id)-40:]
	}
	id = strings.Trim(id, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%1e6)
	sp := runner.Spec{
		FlowRunID:   id,
		FlowRunName: "conformance-run",
		Epoch:       1,
		Command:     []string{"sh", "-c", script},
		Env:         []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Dir:         dir,
	}
	if c != nil {
		sp.Output, sp.Sync = c.Output, c.Sync
	}
	s.h.Prepare(t, &sp)
	return sp
}

// start starts sp on r, stopping and releasing it at cleanup.
func (s *suite) start(t *testing.T, r runner.Runner, sp runner.Spec) runner.Handle {
	t.Helper()
	h, err := r.Start(Ctx(t), sp)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		_ = r.Stop(ctx, h, 0)
		runner.Release(r, h)
	})
	return h
}

func wait(t *testing.T, r runner.Runner, h runner.Handle) runner.ExitResult {
	t.Helper()
	res, err := r.Wait(Ctx(t), h)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return res
}

func (s *suite) noLeftovers(t *testing.T, sp runner.Spec) {
	t.Helper()
	if s.h.Leftovers == nil {
		return
	}
	// Clean-up may trail Wait by a moment (a supervisor exiting, an
	// engine removing a container): poll, within a bound.
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		left := s.h.Leftovers(t, sp)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leftovers after the run ended: %v", left)
		}
		<-tick.C
	}
}

func (s *suite) exitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		check  func(runner.ExitResult) bool
		want   string
	}{
		{"success", "echo ok; exit 0", func(r runner.ExitResult) bool { return r.Success() }, "success"},
		{"failure", "exit 3", func(r runner.ExitResult) bool { return r.ExitCode == 3 && r.Signal == "" && r.Err == nil }, "exit code 3"},
		// The killed process is a child, so that a container's init
		// (which ignores signals sent to it from inside) is not the target.
		{"killed", `sh -c 'kill -KILL $$'; exit $?`, func(r runner.ExitResult) bool {
			return !r.Success() && (r.ExitCode == 137 || r.Signal == "SIGKILL")
		}, "exit code 137"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.h.New(t)
			sp := s.spec(t, NewCollector(), tc.script)
			h := s.start(t, r, sp)
			got := wait(t, r, h)
			if !tc.check(got) {
				t.Fatalf("got %s (%+v), want %s", got, got, tc.want)
			}
			if again := wait(t, r, h); again != got {
				t.Fatalf("second wait: %+v, first %+v", again, got)
			}
			s.noLeftovers(t, sp)
		})
	}
}

func (s *suite) envAndParameters(t *testing.T) {
	r := s.h.New(t)
	c := NewCollector()
	sp := s.spec(t, c, `echo "value=$ORION_TEST_VALUE"; echo "params=$(cat `+ParametersFile+`)"`)
	sp.Env = append(sp.Env, "ORION_TEST_VALUE=hello world")
	h := s.start(t, r, sp)
	if res := wait(t, r, h); !res.Success() {
		t.Fatalf("run failed: %s; output %q", res, c.Lines(""))
	}
	got := c.Lines("stdout")
	want := []string{"value=hello world", `params={"name": "Marvin"}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stdout = %q, want %q", got, want)
	}
}

func (s *suite) outputInOrder(t *testing.T) {
	r := s.h.New(t)
	c := NewCollector()
	sp := s.spec(t, c, `i=1; while [ $i -le 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; printf 'last line without newline'`)
	h := s.start(t, r, sp)
	if res := wait(t, r, h); !res.Success() {
		t.Fatalf("run failed: %s", res)
	}
	// Wait returns after all output was delivered.
	out, errs := c.Lines("stdout"), c.Lines("stderr")
	if s.h.MergedStreams {
		out, errs = nil, nil
		for _, l := range c.Lines("") {
			if strings.HasPrefix(l, "err ") {
				errs = append(errs, l)
			} else {
				out = append(out, l)
			}
		}
	}
	if len(out) != 201 || len(errs) != 200 {
		t.Fatalf("got %d stdout and %d stderr lines, want 201 and 200", len(out), len(errs))
	}
	c.checkPositions(t)
	for i := 0; i < 200; i++ {
		if out[i] != fmt.Sprintf("out %d", i+1) || errs[i] != fmt.Sprintf("err %d", i+1) {
			t.Fatalf("line %d out of order: %q / %q", i, out[i], errs[i])
		}
	}
	if out[200] != "last line without newline" {
		t.Fatalf("last stdout line = %q", out[200])
	}
	s.noLeftovers(t, sp)
}

func (s *suite) stopGraceful(t *testing.T) {
	r := s.h.New(t)
	c := NewCollector()
	sp := s.spec(t, c, `trap 'echo got-term; exit 7' TERM; echo ready; sleep 60 & wait`)
	h := s.start(t, r, sp)
	c.Await(t, "ready")
	const grace = 30 * time.Second
	begin := time.Now()
	if err := r.Stop(Ctx(t), h, grace); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if d := time.Since(begin); d >= grace {
		t.Fatalf("a flow that exits on SIGTERM took %v to stop", d)
	}
	res := wait(t, r, h)
	if res.ExitCode != 7 {
		t.Fatalf("got %s, want exit code 7 from the TERM trap", res)
	}
	if got := c.Lines("stdout"); len(got) != 2 || got[1] != "got-term" {
		t.Fatalf("output %q, want ready, got-term", got)
	}
	if err := r.Stop(Ctx(t), h, grace); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	s.noLeftovers(t, sp)
}

func (s *suite) stopForced(t *testing.T) {
	r := s.h.New(t)
	c := NewCollector()
	sp := s.spec(t, c, `trap '' TERM; echo ready; while :; do sleep 1; done`)
	h := s.start(t, r, sp)
	c.Await(t, "ready")
	const grace = time.Second
	begin := time.Now()
	if err := r.Stop(Ctx(t), h, grace); err != nil {
		t.Fatalf("stop: %v", err)
	}
	d := time.Since(begin)
	if d < grace || d > grace+s.h.StopSlack {
		t.Fatalf("stop took %v, want the %v grace then a kill", d, grace)
	}
	if res := wait(t, r, h); res.Success() {
		t.Fatalf("a killed flow reported %s", res)
	}
	s.noLeftovers(t, sp)
}

func (s *suite) idempotent(t *testing.T) {
	r := s.h.New(t)
	c := NewCollector()
	sp := s.spec(t, c, `echo started; exit 5`)
	h1 := s.start(t, r, sp)
	h2, err := r.Start(Ctx(t), sp)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if h1.ID != h2.ID || h1.Type != h2.Type {
		t.Fatalf("second start of the same run and epoch returned %+v, first %+v", h2, h1)
	}
	if res := wait(t, r, h1); res.ExitCode != 5 {
		t.Fatalf("got %s", res)
	}
	if got := c.Lines("stdout"); len(got) != 1 {
		t.Fatalf("the run started %d times (output %q)", len(got), got)
	}
	if err := r.Stop(Ctx(t), h1, time.Second); err != nil {
		t.Fatalf("stop after exit: %v", err)
	}
}

func (s *suite) badCommand(t *testing.T) {
	r := s.h.New(t)
	sp := s.spec(t, NewCollector(), "")
	sp.Command = []string{"/orion-no-such-command", "x"}
	h, err := r.Start(Ctx(t), sp)
	if err == nil {
		runner.Release(r, h)
		t.Fatalf("start of a missing command succeeded: %+v", h)
	}
	if !strings.Contains(err.Error(), s.h.BadCommandMessage) {
		t.Fatalf("start error %q does not contain %q", err, s.h.BadCommandMessage)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("start error is not one line: %q", err)
	}
	s.noLeftovers(t, sp)
}

func (s *suite) missingImage(t *testing.T) {
	r := s.h.New(t)
	sp := s.spec(t, NewCollector(), "exit 0")
	s.h.MissingImage(&sp)
	h, err := r.Start(Ctx(t), sp)
	if err == nil {
		runner.Release(r, h)
		t.Fatalf("start with a missing image succeeded: %+v", h)
	}
	if !strings.Contains(err.Error(), s.h.MissingImageMessage) {
		t.Fatalf("start error %q does not contain %q", err, s.h.MissingImageMessage)
	}
	s.noLeftovers(t, sp)
}

// roundTrip passes a handle through JSON, as the agent's state file does.
func roundTrip(t *testing.T, h runner.Handle) runner.Handle {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var out runner.Handle
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// recoverAfterRestart: the first runner (agent process) goes away while
// the flow runs; a second one recovers the handle, gets the rest of the
// output (when it can reattach) and the exit code, and can stop it.
func (s *suite) recoverAfterRestart(t *testing.T) {
	first := s.h.New(t)
	c1 := NewCollector()
	sp := s.spec(t, c1, `echo before; sleep 2; echo after; exit 4`)
	h, err := first.Start(Ctx(t), sp)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	c1.Await(t, "before")
	runner.Release(first, h) // the agent process "died"

	second := s.h.New(t)
	c2 := NewCollector()
	h2 := roundTrip(t, h)
	ra, reattach := second.(runner.Reattacher)
	if reattach {
		err = ra.Reattach(Ctx(t), h2, c2.Output, c2.Sync)
	} else {
		err = second.Recover(Ctx(t), h2)
	}
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	defer runner.Release(second, h2)
	res := wait(t, second, h2)
	if res.ExitCode != 4 {
		t.Fatalf("recovered run: got %s, want exit code 4", res)
	}
	if reattach {
		got := c2.Lines("stdout")
		// Lines delivered but not yet recorded before the restart may come
		// again (at least once); lines after it must all come, once.
		if len(got) == 0 || got[len(got)-1] != "after" || len(got) > 2 || (len(got) == 2 && got[0] != "before") {
			t.Fatalf("reattached output %q, want [before] after", got)
		}
		// A repeated line comes with its first position, so the server
		// stores it once.
		if len(got) == 2 {
			if p1, p2 := c1.position("stdout", "before"), c2.position("stdout", "before"); p1 != p2 {
				t.Fatalf("\"before\" delivered again at position %d, first at %d", p2, p1)
			}
		}
		c2.checkPositions(t)
	}
	s.noLeftovers(t, sp)

	// A third runner finds nothing to recover once the run was collected,
	// or finds the recorded exit.
	third := s.h.New(t)
	if err := third.Recover(Ctx(t), roundTrip(t, h)); err == nil {
		if res, err := third.Wait(Ctx(t), h); err != nil || res.ExitCode != 4 {
			t.Fatalf("third runner: %s %v", res, err)
		}
		runner.Release(third, h)
	} else if !errors.Is(err, runner.ErrNotRunning) {
		t.Fatalf("third runner: recover = %v, want nil or ErrNotRunning", err)
	}
}

// recoverFinished: the flow ends while no agent watches it; a restarted
// agent still learns its exit code, and a recovered run can be stopped.
func (s *suite) recoverFinished(t *testing.T) {
	first := s.h.New(t)
	c1 := NewCollector()
	sp := s.spec(t, c1, `echo done; exit 6`)
	h, err := first.Start(Ctx(t), sp)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	c1.Await(t, "done")
	runner.Release(first, h)

	second := s.h.New(t)
	if err := second.Recover(Ctx(t), roundTrip(t, h)); err != nil {
		t.Fatalf("recover a finished run: %v", err)
	}
	res := wait(t, second, h)
	if res.ExitCode != 6 {
		t.Fatalf("got %s, want exit code 6", res)
	}
	if err := second.Stop(Ctx(t), h, time.Second); err != nil {
		t.Fatalf("stop a finished recovered run: %v", err)
	}
	runner.Release(second, h)
	s.noLeftovers(t, sp)

	// A long-running recovered flow can be stopped by the new runner.
	r1 := s.h.New(t)
	c := NewCollector()
	sp2 := s.spec(t, c, `echo ready; while :; do sleep 1; done`)
	h2, err := r1.Start(Ctx(t), sp2)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	c.Await(t, "ready")
	runner.Release(r1, h2)
	r2 := s.h.New(t)
	if err := r2.Recover(Ctx(t), roundTrip(t, h2)); err != nil {
		t.Fatalf("recover: %v", err)
	}
	defer runner.Release(r2, h2)
	if err := r2.Stop(Ctx(t), h2, time.Second); err != nil {
		t.Fatalf("stop after recover: %v", err)
	}
	if res := wait(t, r2, h2); res.Success() {
		t.Fatalf("stopped recovered run reported %s", res)
	}
	s.noLeftovers(t, sp2)
}

// ReattachSkipsRecorded checks, for a runner whose output delivery is
// recorded in batches, that a runner started after a restart does not
// deliver again the lines recorded before it: the flow writes 600 lines,
// the first runner goes away once it has delivered them all, and the
// second must not repeat any of the first recordedAtLeast (the runner's
// batch size), then deliver the rest of the output once.
func ReattachSkipsRecorded(t *testing.T, h Harness, recordedAtLeast int) {
	s := &suite{h: h}
	first := h.New(t)
	c1 := NewCollector()
	sp := s.spec(t, c1, `i=1; while [ $i -le 600 ]; do echo "line $i"; i=$((i+1)); done; sleep 2; echo after`)
	hd, err := first.Start(Ctx(t), sp)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	c1.Await(t, "line 600")
	runner.Release(first, hd)

	second := h.New(t)
	ra, ok := second.(runner.Reattacher)
	if !ok {
		t.Fatalf("%T is not a Reattacher", second)
	}
	c2 := NewCollector()
	if err := ra.Reattach(Ctx(t), roundTrip(t, hd), c2.Output, c2.Sync); err != nil {
		t.Fatalf("reattach: %v", err)
	}
	defer runner.Release(second, hd)
	if res := wait(t, second, hd); !res.Success() {
		t.Fatalf("reattached run: %s", res)
	}
	got := c2.Lines("")
	if len(got) == 0 || got[len(got)-1] != "after" {
		t.Fatalf("reattached output ends with %q, want after", got)
	}
	seen := map[string]bool{}
	for _, l := range got {
		if seen[l] {
			t.Fatalf("line %q delivered twice after the restart", l)
		}
		seen[l] = true
	}
	for i := 1; i <= recordedAtLeast; i++ {
		if seen[fmt.Sprintf("line %d", i)] {
			t.Fatalf("line %d was recorded before the restart and delivered again (%d lines redelivered)", i, len(got)-1)
		}
	}
	s.noLeftovers(t, sp)
}
