package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopTimeout is how long a child may take to exit after SIGTERM before it
// is killed.
const stopTimeout = 10 * time.Second

// proc is one child process (a server or an agent). Its stdout and stderr
// go to a log file; stdout is also scanned for the line that says it is
// ready.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	started time.Time

	ready  chan struct{} // closed when a stdout line contains the ready text
	exited chan struct{} // closed when the process has exited
	once   sync.Once

	mu   sync.Mutex
	tail []string // the last lines of output, for error messages
}

// startProc starts bin with args and env, logging to logPath. ready is the
// text of the stdout line that means the process is up ("" for none).
func startProc(name, bin string, args, env []string, logPath, ready string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.SysProcAttr = childAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, ready: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = &tailWriter{p: p, w: logf}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.remember(line)
			fmt.Fprintln(logf, line)
			if ready != "" && strings.Contains(line, ready) {
				p.once.Do(func() { close(p.ready) })
			}
		}
		io.Copy(io.Discard, stdout) //nolint:errcheck // drain after a scanner error
		cmd.Wait()                  //nolint:errcheck // the exit is reported through exited
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// waitReady waits until the ready line was printed, failing when the
// process exits first, timeout passes or ctx ends.
func (p *proc) waitReady(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.exited:
		return fmt.Errorf("%s exited before it was ready: %s", p.name, p.lastLine())
	case <-t.C:
		return fmt.Errorf("%s was not ready after %s: %s", p.name, timeout, p.lastLine())
	}
}

// alive reports whether the process has not exited.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, then SIGKILL after stopTimeout, and waits for the
// exit. It reports whether the process had to be killed. It is idempotent.
func (p *proc) stop() (killed bool) {
	if !p.alive() {
		return false
	}
	p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // may have exited meanwhile
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-p.exited:
		return false
	case <-t.C:
		p.cmd.Process.Kill() //nolint:errcheck
		<-p.exited
		return true
	}
}

// rssMB reads the resident set size of the process from /proc.
func (p *proc) rssMB() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS of %s: %w", p.name, err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := strings.Fields(string(rest)) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return kb / 1024, nil
				}
			}
		}
	}
	return 0, errors.New("no VmRSS line in /proc/<pid>/status")
}

// exe is the base name of the binary p runs now: an `orion agent start`
// hands over to orion-agent when it is installed beside orion.
func (p *proc) exe() (string, error) {
	path, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.cmd.Process.Pid))
	if err != nil {
		return "", fmt.Errorf("read the binary of %s: %w", p.name, err)
	}
	return filepath.Base(path), nil
}

func (p *proc) remember(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tail = append(p.tail, line)
	if len(p.tail) > 20 {
		p.tail = p.tail[len(p.tail)-20:]
	}
}

// lastLine is the last non-empty line of output (or a pointer to the log).
func (p *proc) lastLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.tail) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(p.tail[i]); s != "" {
			return s
		}
	}
	return "no output (log: " + p.logPath + ")"
}

// tailWriter writes stderr to the log file and remembers its lines.
type tailWriter struct {
	p *proc
	w io.Writer
}

func (t *tailWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		t.p.remember(line)
	}
	return t.w.Write(b)
}

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTicks = 100

// cpuTime is the CPU time (user and system) p has used so far, from
// /proc/<pid>/stat, in steps of 10 ms.
func (p *proc) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read the CPU time of %s: %w", p.name, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("read the CPU time of %s: unexpected /proc/<pid>/stat", p.name)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read the CPU time of %s: unexpected /proc/<pid>/stat", p.name)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read the CPU time of %s: %w", p.name, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
