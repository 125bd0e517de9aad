package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/internal/outcome"
)

// proc is one shim, started here (owned: reaped is set) or found again
// after an agent restart.
type proc struct {
	handle runner.Handle
	runKey string
	pid    int
	pgid   int
	ticks  uint64
	dir    string

	// reaped is closed once an owned shim was waited for; shimResult
	// then holds its own exit. Both are nil for a reattached shim, which
	// is not our child.
	reaped     <-chan struct{}
	shimResult *runner.ExitResult

	exit *outcome.Exit // ends once the flow ended and output was delivered

	quit     chan struct{} // closed by release: stop delivering output
	quitOnce sync.Once
}

func newProc(h runner.Handle, d handleData) *proc {
	return &proc{
		handle: h, pid: d.PID, pgid: d.PGID, ticks: d.StartTicks, dir: d.Dir,
		exit: outcome.New(), quit: make(chan struct{}),
	}
}

// release stops delivering output and returns once the supervisor has
// stopped (it ends p.exit last), so nothing writes into the state directory
// afterwards and the caller may remove it.
func (p *proc) release() {
	p.quitOnce.Do(func() { close(p.quit) })
	<-p.exit.Done()
}

// startedShim is a shim that reported the flow process started.
type startedShim struct {
	pid    int
	ticks  uint64
	reaped chan struct{}
	result *runner.ExitResult
}

// startShim writes the shim's spec into dir and starts the shim: this
// binary, re-executed as the leader of a new session. The shim reports on
// fd 3 whether the flow process started; startShim returns after that.
func startShim(ctx context.Context, dir string, spec shimSpec) (*startedShim, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the agent binary to run the shim: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	specPath := filepath.Join(dir, specFileName)
	if err := writeJSONAtomic(specPath, spec); err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	// "-test.run=^$" makes a test binary that forgot to call ShimMain run
	// no tests (and fail the start below) instead of running them all.
	cmd := &exec.Cmd{
		Path: self,
		Args: []string{self, "-test.run=^$"},
		Env: []string{EnvShim + "=1", EnvShimSpec + "=" + specPath,
			// A race-enabled build (tests) would otherwise linger 1 s at exit.
			"GORACE=atexit_sleep_ms=0"},
		Dir:         dir,
		ExtraFiles:  []*os.File{pw},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	_ = pw.Close()
	if err != nil {
		return nil, fmt.Errorf("start the shim: %w", err)
	}
	sh := &startedShim{pid: cmd.Process.Pid, reaped: make(chan struct{}), result: &runner.ExitResult{}}
	go func() {
		err := cmd.Wait()
		*sh.result = exitResult(cmd.ProcessState, err)
		close(sh.reaped)
	}()
	deadline := time.Now().Add(startTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = pr.SetReadDeadline(deadline)
	line, rerr := bufio.NewReader(pr).ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(line, "ok "):
	case strings.HasPrefix(line, "err "):
		<-sh.reaped
		return nil, errors.New(strings.TrimPrefix(line, "err "))
	default:
		_ = syscall.Kill(-sh.pid, syscall.SIGKILL)
		<-sh.reaped
		return nil, fmt.Errorf("the shim did not start the flow (does the binary call process.ShimMain?): %v", rerr)
	}
	if st, err := readStat(sh.pid); err == nil {
		sh.ticks = st.startTicks
	}
	return sh, nil
}

// supervise delivers the output until the flow ended, then ends p.exit
// with the result. It ends early when the handle is released.
func (p *proc) supervise(t *tailer, poll time.Duration) {
	p.exit.End(p.follow(t, poll))
}

func (p *proc) follow(t *tailer, poll time.Duration) runner.ExitResult {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		t.poll(false)
		if res, ok := p.finished(); ok {
			t.poll(true)
			return res
		}
		select {
		case <-tick.C:
		case <-p.reaped: // nil (never ready) for a reattached shim
		case <-p.quit:
			return outcome.Released
		}
	}
}

// finished reports how the flow ended, once it did: from the exit file
// when the shim wrote one, else from the shim's own end.
func (p *proc) finished() (runner.ExitResult, bool) {
	if res, ok := p.readExit(); ok {
		return res, true
	}
	if !p.exited() {
		return runner.ExitResult{}, false
	}
	// The shim writes the exit file before it exits: look once more.
	if res, ok := p.readExit(); ok {
		return res, true
	}
	if p.shimResult != nil && p.shimResult.Signal != "" {
		// Killed together with the flow (SIGKILL to the group).
		return runner.ExitResult{ExitCode: -1, Signal: p.shimResult.Signal}, true
	}
	return runner.ExitResult{ExitCode: -1, Err: errNoExitFile}, true
}

// readExit reads the exit file, if the shim wrote it.
func (p *proc) readExit() (runner.ExitResult, bool) {
	var es exitStatus
	if err := readJSON(filepath.Join(p.dir, exitFileName), &es); err != nil {
		return runner.ExitResult{}, false
	}
	res := runner.ExitResult{ExitCode: es.ExitCode, Signal: es.Signal}
	if es.Error != "" {
		res.Err = errors.New(es.Error)
	}
	return res, true
}

// exited reports whether the shim has ended.
func (p *proc) exited() bool {
	if p.reaped != nil {
		select {
		case <-p.reaped:
			return true
		default:
			return false
		}
	}
	return !alive(p.pid, p.ticks)
}

// awaitExit waits up to timeout (forever when negative) for the shim to
// exit and reports whether it did. It fails only when ctx is done.
func (p *proc) awaitExit(ctx context.Context, timeout time.Duration) (bool, error) {
	var deadline <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(tailPoll)
	defer tick.Stop()
	for {
		if p.exited() {
			return true, nil
		}
		select {
		case <-p.reaped:
		case <-tick.C:
		case <-deadline:
			return p.exited(), nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
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
