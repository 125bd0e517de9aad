// Package process is the subprocess runner: it runs a flow as a local
// process in its own process group, delivers its stdout and stderr line by
// line, and stops it with SIGTERM to the whole group, then SIGKILL after a
// grace period. It is Linux only (it reads /proc to recognise a process
// again after an agent restart).
package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/orion-run/orion/agent/runner"
)

// DefaultWaitDelay bounds how long output is still read after the flow
// process exited, when something it started keeps the pipes open.
const DefaultWaitDelay = 5 * time.Second

// recoveredPoll is how often the liveness of a recovered process (which is
// not our child, so cannot be waited for) is checked.
const recoveredPoll = 50 * time.Millisecond

// errExitUnknown is the ExitResult.Err of a recovered process: it was
// reparented when the previous agent process died, so its exit status is
// lost.
var errExitUnknown = errors.New("exit status unknown: the process was started by an earlier agent process")

// Runner runs flows as subprocesses. The zero value is not usable; call New.
type Runner struct {
	waitDelay time.Duration

	mu    sync.Mutex
	procs map[string]*proc // by Handle.ID
	byRun map[string]string
}

var (
	_ runner.Runner   = (*Runner)(nil)
	_ runner.Releaser = (*Runner)(nil)
)

// New returns a subprocess runner.
func New() *Runner {
	return &Runner{
		waitDelay: DefaultWaitDelay,
		procs:     make(map[string]*proc),
		byRun:     make(map[string]string),
	}
}

// handleData is the persisted part of a Handle.
type handleData struct {
	PID        int    `json:"pid"`
	PGID       int    `json:"pgid"`
	StartTicks uint64 `json:"start_ticks"`
}

// proc is one process, started here (owned) or found again (recovered).
type proc struct {
	handle runner.Handle
	runKey string
	pid    int
	pgid   int
	ticks  uint64
	owned  bool

	done   chan struct{} // closed once an owned process was reaped
	result runner.ExitResult
}

func runKey(spec runner.Spec) string {
	return spec.FlowRunID + "/" + strconv.FormatInt(spec.Epoch, 10)
}

// Start runs spec.Command in spec.Dir with exactly spec.Env (nil means an
// empty environment). Starting the same run and epoch twice returns the
// first handle. A missing or non-executable binary is an error and nothing
// runs.
func (r *Runner) Start(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	if len(spec.Command) == 0 {
		return runner.Handle{}, errors.New("empty command")
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
	env := spec.Env
	if env == nil {
		env = []string{}
	}
	mux := &outputMux{fn: spec.Output}
	stdout, stderr := newLineWriter(mux, "stdout"), newLineWriter(mux, "stderr")
	cmd := &exec.Cmd{
		Path:        path,
		Args:        spec.Command,
		Env:         env,
		Dir:         spec.Dir,
		Stdout:      stdout,
		Stderr:      stderr,
		WaitDelay:   r.waitDelay,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		return runner.Handle{}, err
	}
	pid := cmd.Process.Pid
	p := &proc{pid: pid, pgid: pid, owned: true, runKey: key, done: make(chan struct{})}
	if st, err := readStat(pid); err == nil {
		p.ticks = st.startTicks
	}
	data, _ := json.Marshal(handleData{PID: pid, PGID: pid, StartTicks: p.ticks})
	p.handle = runner.Handle{Type: runner.TypeSubprocess, ID: strconv.Itoa(pid), Data: data}
	r.procs[p.handle.ID] = p
	r.byRun[key] = p.handle.ID

	go func() {
		err := cmd.Wait()
		// Copying has ended: only a trailing partial line may be left.
		stdout.flush()
		stderr.flush()
		p.result = exitResult(cmd.ProcessState, err)
		close(p.done)
	}()
	return p.handle, nil
}

// exitResult turns a wait outcome into an ExitResult.
func exitResult(ps *os.ProcessState, err error) runner.ExitResult {
	if ps == nil {
		return runner.ExitResult{ExitCode: -1, Err: err}
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return runner.ExitResult{ExitCode: -1, Err: fmt.Errorf("unexpected wait status %T", ps.Sys())}
	}
	if ws.Signaled() {
		return runner.ExitResult{ExitCode: -1, Signal: signalName(ws.Signal())}
	}
	return runner.ExitResult{ExitCode: ws.ExitStatus()}
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

// Wait blocks until the process exits and returns its exit code or the
// signal that killed it. All its output has been delivered by then. For a
// recovered process the exit code is unknown (ExitResult.Err is set).
func (r *Runner) Wait(ctx context.Context, h runner.Handle) (runner.ExitResult, error) {
	p, err := r.lookup(h)
	if err != nil {
		return runner.ExitResult{}, err
	}
	if p.owned {
		select {
		case <-p.done:
			return p.result, nil
		case <-ctx.Done():
			return runner.ExitResult{}, ctx.Err()
		}
	}
	if _, err := p.awaitExit(ctx, -1); err != nil {
		return runner.ExitResult{}, err
	}
	return runner.ExitResult{ExitCode: -1, Err: errExitUnknown}, nil
}

// Stop sends SIGTERM to the process group, waits up to grace for the
// process to exit, then sends SIGKILL to the group. Once the process has
// exited, SIGKILL also goes to whatever it left behind in its group. A
// process that already exited is left alone.
func (r *Runner) Stop(ctx context.Context, h runner.Handle, grace time.Duration) error {
	p, err := r.lookup(h)
	if err != nil {
		return err
	}
	if p.exited() {
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

// Recover finds a process started by an earlier agent process from its
// handle. It returns runner.ErrNotRunning when the process is gone or its
// pid now belongs to another process.
func (r *Runner) Recover(_ context.Context, h runner.Handle) error {
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
	// Without its start time a pid cannot be told apart from a later
	// process that reused it: never signal on a guess.
	if d.PID <= 1 || d.StartTicks == 0 || !alive(d.PID, d.StartTicks) {
		return runner.ErrNotRunning
	}
	if d.PGID <= 1 {
		d.PGID = d.PID
	}
	r.procs[h.ID] = &proc{handle: h, pid: d.PID, pgid: d.PGID, ticks: d.StartTicks}
	return nil
}

// Release forgets a handle once the agent is done with it.
func (r *Runner) Release(h runner.Handle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.procs[h.ID]; ok && p.handle.Type == h.Type {
		delete(r.procs, h.ID)
		if p.runKey != "" {
			delete(r.byRun, p.runKey)
		}
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	if p.owned {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
	return !alive(p.pid, p.ticks)
}

// awaitExit waits up to timeout (forever when negative) for the process to
// exit and reports whether it did. It fails only when ctx is done.
func (p *proc) awaitExit(ctx context.Context, timeout time.Duration) (bool, error) {
	var deadline <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	if p.owned {
		select {
		case <-p.done:
			return true, nil
		case <-deadline:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	tick := time.NewTicker(recoveredPoll)
	defer tick.Stop()
	for {
		if p.exited() {
			return true, nil
		}
		select {
		case <-tick.C:
		case <-deadline:
			return p.exited(), nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}
