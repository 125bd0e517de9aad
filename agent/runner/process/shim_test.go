package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orion-run/orion/agent/runner"
)

func handleOf(t *testing.T, h runner.Handle) handleData {
	t.Helper()
	var d handleData
	if err := json.Unmarshal(h.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestShim_ExitFileRecordsCodeAndSignal(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         exitStatus
	}{
		{"code", "exit 7", exitStatus{ExitCode: 7}},
		{"signal", "kill -TERM $$", exitStatus{ExitCode: -1, Signal: "SIGTERM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New()
			h := start(t, r, spec(t, newCollector(), tc.script))
			wait(t, r, h)
			var got exitStatus
			if err := readJSON(filepath.Join(handleOf(t, h).Dir, exitFileName), &got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("exit file %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestShim_OutputFilesAndOffsets: output goes to files; while the flow
// runs, delivered lines are synced before their offsets are saved. The
// final lines (after the exit) are delivered with their positions but not
// recorded: they go with the run's final state, and a restarted agent
// sends them again at the same positions.
func TestShim_OutputFilesAndOffsets(t *testing.T) {
	r := New()
	var mu sync.Mutex
	var order []string
	gate := filepath.Join(t.TempDir(), "gate")
	s := spec(t, nil, `echo one; echo two >&2; while [ ! -f `+gate+` ]; do sleep 0.01; done; printf three`)
	s.Output = func(stream, line string, pos int64) {
		mu.Lock()
		order = append(order, fmt.Sprintf("line %s %s@%d", stream, line, pos))
		mu.Unlock()
	}
	s.Sync = func() {
		mu.Lock()
		order = append(order, "sync")
		mu.Unlock()
	}
	h := start(t, r, s)
	dir := handleOf(t, h).Dir
	awaitOffsets(t, dir, offsets{Stdout: 4, Stderr: 4})
	mu.Lock()
	running := strings.Join(order, ",")
	mu.Unlock()
	if !strings.HasSuffix(running, "sync") || !strings.Contains(running, "line stdout one@4") || !strings.Contains(running, "line stderr two@4") {
		t.Fatalf("lines were not synced before the offsets were saved: %q", running)
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, r, h); !res.Success() {
		t.Fatalf("exit %v", res)
	}
	for file, want := range map[string]string{stdoutFileName: "one\nthree", stderrFileName: "two\n"} {
		if b, err := os.ReadFile(filepath.Join(dir, file)); err != nil || string(b) != want {
			t.Fatalf("%s = %q %v, want %q", file, b, err, want)
		}
	}
	var off offsets
	if err := readJSON(filepath.Join(dir, offsetsFileName), &off); err != nil || off != (offsets{Stdout: 4, Stderr: 4}) {
		t.Fatalf("offsets %+v %v, want the ones before the exit", off, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := order[len(order)-1]; last != "line stdout three@9" {
		t.Fatalf("last delivery %q, want the trailing line at 9 without a sync: %q", last, order)
	}
}

// TestShim_ReattachResumesOutput: the flow keeps running while no runner
// watches it; a new runner delivers exactly the lines not delivered yet.
func TestShim_ReattachResumesOutput(t *testing.T) {
	first := New()
	c1 := newCollector()
	gate := filepath.Join(t.TempDir(), "gate")
	s := spec(t, c1, `echo a; echo b; while [ ! -f `+gate+` ]; do sleep 0.01; done; echo c; echo d; exit 4`)
	h := start(t, first, s)
	c1.awaitLine(t, "b")
	// Lines count as delivered once their offsets are saved (a line given
	// to Output but not yet recorded is delivered again: at least once).
	awaitOffsets(t, handleOf(t, h).Dir, offsets{Stdout: 4})
	first.Release(h) // the agent "died"
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	second := New()
	c2 := newCollector()
	if err := second.Reattach(testCtx(t), h, c2.output, nil); err != nil {
		t.Fatalf("reattach: %v", err)
	}
	defer second.Release(h)
	res, err := second.Wait(testCtx(t), h)
	if err != nil || res.ExitCode != 4 {
		t.Fatalf("wait: %+v %v", res, err)
	}
	if got := strings.Join(c2.get("stdout"), ","); got != "c,d" {
		t.Fatalf("reattached runner delivered %q, want c,d", got)
	}
	if got := strings.Join(c1.get("stdout"), ","); got != "a,b" {
		t.Fatalf("first runner delivered %q", got)
	}
}

func TestShim_PidReuseAndVanished(t *testing.T) {
	r := New()
	c := newCollector()
	h := start(t, r, spec(t, c, `echo up; exec sleep 30`))
	c.awaitLine(t, "up")
	d := handleOf(t, h)

	// Same pid, another start time: a process that reused the pid.
	reused := d
	reused.StartTicks++
	data, _ := json.Marshal(reused)
	other := runner.Handle{Type: runner.TypeSubprocess, ID: h.ID, Data: data}
	if err := New().Reattach(testCtx(t), other, nil, nil); !errors.Is(err, runner.ErrNotRunning) {
		t.Fatalf("reattach to a reused pid: %v, want ErrNotRunning", err)
	}

	// The shim killed with its flow: no exit file, so nothing to recover.
	if err := syscall.Kill(-d.PGID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, r, h); res.Signal != "SIGKILL" {
		t.Fatalf("owner saw %+v, want SIGKILL", res)
	}
	if err := New().Reattach(testCtx(t), h, nil, nil); !errors.Is(err, runner.ErrNotRunning) {
		t.Fatalf("reattach to a vanished shim: %v, want ErrNotRunning", err)
	}
}

func TestShim_Locate(t *testing.T) {
	r := New()
	c := newCollector()
	s := spec(t, c, `echo up; exec sleep 30`)
	h := start(t, r, s)
	c.awaitLine(t, "up")
	got, err := r.Locate(s.Dir)
	if err != nil || got.ID != h.ID || handleOf(t, got) != handleOf(t, h) {
		t.Fatalf("locate: %+v %v, want %+v", got, err, h)
	}
	if _, err := r.Locate(t.TempDir()); !errors.Is(err, runner.ErrNotRunning) {
		t.Fatalf("locate in an empty dir: %v", err)
	}
	if pid, _ := strconv.Atoi(h.ID); pid <= 1 {
		t.Fatalf("handle id %q", h.ID)
	}
}

func TestShim_StopGraceThenKillAfterReattach(t *testing.T) {
	first := New()
	c := newCollector()
	h := start(t, first, spec(t, c, `trap "" TERM; echo ready; while :; do sleep 0.05; done`))
	c.awaitLine(t, "ready")
	first.Release(h)
	second := New()
	if err := second.Reattach(testCtx(t), h, nil, nil); err != nil {
		t.Fatal(err)
	}
	defer second.Release(h)
	if err := second.Stop(testCtx(t), h, 100*time.Millisecond); err != nil {
		t.Fatalf("stop: %v", err)
	}
	res, err := second.Wait(testCtx(t), h)
	if err != nil || res.Err == nil {
		t.Fatalf("a shim killed with its flow leaves no exit status: %+v %v", res, err)
	}
}

// awaitOffsets waits (bounded) until the saved offsets are want.
func awaitOffsets(t *testing.T, dir string, want offsets) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(testTimeout)
	for {
		var got offsets
		if readJSON(filepath.Join(dir, offsetsFileName), &got) == nil && got == want {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("offsets never reached %+v", want)
		}
	}
}
