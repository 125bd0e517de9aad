// Package process is the subprocess runner: it runs a flow as a local
// process under a small supervisor, the shim, so the flow survives a crash
// or restart of the agent that started it and a restarted agent can
// reattach to it.
//
// The shim is this same binary re-executed with EnvShim set (see ShimMain).
// It leads its own session and process group, sends the flow's stdout and
// stderr to files in the run's state directory (<Spec.Dir>/.orion-process)
// and writes the flow's exit code or signal to an exit file when it ends.
// The runner tails the output files from saved offsets and delivers them
// line by line, so a reattached runner neither loses nor repeats output.
// Stop sends SIGTERM to the whole group, then SIGKILL after a grace period.
// It is Linux only (it reads /proc to tell a live shim from a reused pid).
package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/orion-run/orion/agent/runner"
)

// StateDirName is the folder, inside a run's working directory, that holds
// its shim's files: spec, pid, output, offsets and exit status.
const StateDirName = ".orion-process"

// Polling intervals. Output files and a reattached shim (not our child, so
// it cannot be waited for) give no event to wait on.
const (
	tailPoll     = 50 * time.Millisecond
	startTimeout = 30 * time.Second
)

// Runner runs flows as shim-supervised subprocesses. The zero value is not
// usable; call New.
type Runner struct {
	poll time.Duration

	mu    sync.Mutex
	procs map[string]*proc // by Handle.ID
	byRun map[string]string
}

var (
	_ runner.Runner     = (*Runner)(nil)
	_ runner.Releaser   = (*Runner)(nil)
	_ runner.Reattacher = (*Runner)(nil)
	_ runner.Locator    = (*Runner)(nil)
)

// New returns a subprocess runner.
func New() *Runner {
	return &Runner{
		poll:  tailPoll,
		procs: make(map[string]*proc),
		byRun: make(map[string]string),
	}
}

// handleData is the persisted part of a Handle: enough to find the shim
// again and to tell it apart from a later process that reused its pid.
type handleData struct {
	PID        int    `json:"pid"`
	PGID       int    `json:"pgid"`
	StartTicks uint64 `json:"start_ticks"`
	// Dir is the shim's state directory (output, offsets and exit files).
	Dir string `json:"dir"`
}

func runKey(spec runner.Spec) string {
	return spec.FlowRunID + "/" + strconv.FormatInt(spec.Epoch, 10)
}

// Start runs spec.Command in spec.Dir with exactly spec.Env (nil means an
// empty environment) under a new shim. Starting the same run and epoch
// twice returns the first handle. A missing or non-executable binary is an
// error and nothing runs. spec.Dir is required: the shim keeps its files
// there.
func (r *Runner) Start(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	if len(spec.Command) == 0 {
		return runner.Handle{}, errors.New("empty command")
	}
	if spec.Dir == "" {
		return runner.Handle{}, errors.New("a working directory is required")
	}
	if err := ctx.Err(); err != nil {
		return runner.Handle{}, err
	}
	key := runKey(spec)
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.byRun[key]; ok {
		return r.procs[id].handle, nil
	}
	path, err := lookPath(spec.Command[0], spec.Env, spec.Dir)
	if err != nil {
		return runner.Handle{}, err
	}
	dir := filepath.Join(spec.Dir, StateDirName)
	sh, err := startShim(ctx, dir, shimSpec{Path: path, Args: spec.Command, Env: spec.Env, Dir: spec.Dir})
	if err != nil {
		return runner.Handle{}, err
	}
	d := handleData{PID: sh.pid, PGID: sh.pid, StartTicks: sh.ticks, Dir: dir}
	data, _ := json.Marshal(d)
	p := newProc(runner.Handle{Type: runner.TypeSubprocess, ID: strconv.Itoa(sh.pid), Data: data}, d)
	p.runKey = key
	p.reaped = sh.reaped
	p.shimResult = sh.result
	r.procs[p.handle.ID] = p
	r.byRun[key] = p.handle.ID
	go p.supervise(newTailer(dir, spec.Output, spec.Sync), r.poll)
	return p.handle, nil
}

func (r *Runner) lookup(h runner.Handle) (*proc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.procs[h.ID]
	if !ok || h.Type != runner.TypeSubprocess {
		return nil, fmt.Errorf("%w: %s %q", runner.ErrUnknownHandle, h.Type, h.ID)
	}
	return p, nil
}

// Wait blocks until the flow process exits and all its output has been
// delivered, and returns its exit code or the signal that killed it (also
// for a reattached process: the shim recorded it). When the shim vanished
// without recording anything (it was killed), ExitResult.Err is set.
func (r *Runner) Wait(ctx context.Context, h runner.Handle) (runner.ExitResult, error) {
	p, err := r.lookup(h)
	if err != nil {
		return runner.ExitResult{}, err
	}
	return p.exit.Wait(ctx)
}

// Stop sends SIGTERM to the process group (shim, flow and whatever the flow
// started), waits up to grace for the shim to exit, then sends SIGKILL to
// the group. Once the shim has exited, SIGKILL still goes to whatever the
// flow left behind in the group. A flow that already exited (its exit is
// recorded) is left alone.
func (r *Runner) Stop(ctx context.Context, h runner.Handle, grace time.Duration) error {
	p, err := r.lookup(h)
	if err != nil {
		return err
	}
	if _, ended := p.readExit(); ended || p.exited() {
		return nil
	}
	if err := signalGroup(p.pgid, syscall.SIGTERM); err != nil {
		return err
	}
	exited, err := p.awaitExit(ctx, grace)
	if err != nil {
		return err
	}
	if err := signalGroup(p.pgid, syscall.SIGKILL); err != nil {
		return err
	}
	if exited {
		return nil
	}
	_, err = p.awaitExit(ctx, -1)
	return err
}

// Recover finds a run started by an earlier agent process, discarding its
// output from here on; see Reattach.
func (r *Runner) Recover(ctx context.Context, h runner.Handle) error {
	return r.Reattach(ctx, h, nil, nil)
}

// Reattach finds a run started by an earlier agent process and resumes
// delivering its output to out from where that process stopped. It
// succeeds when the shim still runs or when it already recorded the flow's
// exit (Wait then returns that exit once the rest of the output is
// delivered). It returns runner.ErrNotRunning when the shim is gone without
// a record, or its pid now belongs to another process.
func (r *Runner) Reattach(_ context.Context, h runner.Handle, out runner.Output, sync func()) error {
	if h.Type != runner.TypeSubprocess {
		return fmt.Errorf("%w: %s %q", runner.ErrUnknownHandle, h.Type, h.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.procs[h.ID]; ok {
		return nil
	}
	var d handleData
	if err := json.Unmarshal(h.Data, &d); err != nil {
		return fmt.Errorf("decode subprocess handle %q: %w", h.ID, err)
	}
	if d.Dir == "" {
		return fmt.Errorf("subprocess handle %q has no state directory: %w", h.ID, runner.ErrNotRunning)
	}
	if d.PGID <= 1 {
		d.PGID = d.PID
	}
	// Without its start time a pid cannot be told apart from a later
	// process that reused it: never signal on a guess.
	live := d.PID > 1 && d.StartTicks != 0 && alive(d.PID, d.StartTicks)
	if !live && !fileExists(filepath.Join(d.Dir, exitFileName)) {
		return runner.ErrNotRunning
	}
	p := newProc(h, d)
	r.procs[h.ID] = p
	go p.supervise(newTailer(d.Dir, out, sync), r.poll)
	return nil
}

// Locate returns the handle of the shim whose state directory lies in
// workdir, from the pid file the shim writes before it starts the flow. It
// finds a run whose handle the agent did not get to save; it returns
// runner.ErrNotRunning when no shim ever started there.
func (r *Runner) Locate(workdir string) (runner.Handle, error) {
	dir := filepath.Join(workdir, StateDirName)
	var sp shimPID
	if err := readJSON(filepath.Join(dir, pidFileName), &sp); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return runner.Handle{}, runner.ErrNotRunning
		}
		return runner.Handle{}, err
	}
	data, _ := json.Marshal(handleData{PID: sp.PID, PGID: sp.PID, StartTicks: sp.StartTicks, Dir: dir})
	return runner.Handle{Type: runner.TypeSubprocess, ID: strconv.Itoa(sp.PID), Data: data}, nil
}

// Release forgets a handle once the agent is done with it, stops
// delivering its output and returns once nothing writes into the run's
// state directory any more.
func (r *Runner) Release(h runner.Handle) {
	r.mu.Lock()
	p, ok := r.procs[h.ID]
	ok = ok && p.handle.Type == h.Type
	if ok {
		delete(r.procs, h.ID)
		if p.runKey != "" {
			delete(r.byRun, p.runKey)
		}
	}
	r.mu.Unlock()
	if ok {
		// Outside the lock: the supervisor may be delivering a line.
		p.release()
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
