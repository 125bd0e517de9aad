package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orion-run/orion/cmd/internal/agentcmd"
)

// e2eTimeout bounds every wait in the end-to-end tests.
const e2eTimeout = 90 * time.Second

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// orionBinary builds the orion binary once per test process, with
// orion-agent beside it as `make build` installs them: `orion agent start`
// in these tests hands over to orion-agent.
func orionBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "orion-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "orion")
		// Both main packages at once: each binary is named after its folder.
		out, err := exec.Command("go", "build", "-race", "-o", dir+string(filepath.Separator), ".", "../"+agentcmd.BinaryName).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// env is an isolated Orion environment: its own home and server port.
type env struct {
	t    *testing.T
	bin  string
	home string
	port int
	// extra is added to every process's environment (e.g. ORION_API_KEY).
	extra []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed (CI installs it)")
	}
	return &env{t: t, bin: orionBinary(t), home: t.TempDir(), port: freePort(t)}
}

func (e *env) url() string { return fmt.Sprintf("http://127.0.0.1:%d", e.port) }

func (e *env) environ() []string {
	return append(append(os.Environ(), "ORION_HOME="+e.home, "ORION_API_URL="+e.url(), raceEnv()), e.extra...)
}

// raceEnv keeps the -race binary from sleeping a second at every exit
// (GORACE's atexit_sleep_ms): the tests run hundreds of CLI commands.
func raceEnv() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

// with returns a copy of e whose processes also get the variables kv
// ("KEY=value"), e.g. another API token.
func (e *env) with(kv ...string) *env {
	c := *e
	c.extra = append(append([]string(nil), e.extra...), kv...)
	return &c
}

// createToken creates an API token with `orion token create` and returns
// its secret.
func (e *env) createToken(scope string) string {
	e.t.Helper()
	out := e.mustRun("token", "create", "--scope", scope, "--name", "e2e-"+scope).stdout
	secret := tokenSecret(out)
	if secret == "" {
		e.t.Fatalf("no secret in `orion token create` output:\n%s", out)
	}
	return secret
}

// tokenSecret is the secret line ("orion_...") of a command's output that
// prints a new token, or "".
func tokenSecret(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "orion_") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// proc is a background orion process whose stdout is watched line by line.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	lines  chan string
	exited chan struct{}
}

// start runs `orion args...` in the background and waits until a line of its
// stdout contains ready.
func (e *env) start(ready string, args ...string) *proc {
	e.t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Env = e.environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1024), exited: make(chan struct{})}
	cmd.Stderr = &lockedWriter{p: p}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.write(sc.Text() + "\n")
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		cmd.Wait() //nolint:errcheck // exit status read by stop
		close(p.exited)
	}()
	e.t.Cleanup(func() { p.stop(e.t) })
	deadline := time.After(e2eTimeout)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, ready) {
				return p
			}
		case <-p.exited:
			e.t.Fatalf("orion %s exited before %q:\n%s", strings.Join(args, " "), ready, p.output())
		case <-deadline:
			e.t.Fatalf("orion %s did not print %q in %s:\n%s", strings.Join(args, " "), ready, e2eTimeout, p.output())
		}
	}
}

// startServer starts `orion server start` on the env's port (extra flags
// appended) and returns once it listens.
func (e *env) startServer(extra ...string) *proc {
	e.t.Helper()
	return e.start("Orion server listening on", append([]string{"server", "start", "--port", strconv.Itoa(e.port)}, extra...)...)
}

// startAgent starts `orion agent start` (extra flags appended) and returns
// once it is connected.
func (e *env) startAgent(extra ...string) *proc {
	e.t.Helper()
	return e.start("Agent started!", append([]string{"agent", "start"}, extra...)...)
}

func (p *proc) write(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.WriteString(s)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// stop sends SIGTERM and waits for the process to exit (SIGKILL after the
// timeout).
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill() //nolint:errcheck
		<-p.exited
		t.Errorf("orion %v did not stop on SIGTERM:\n%s", p.cmd.Args[1:], p.output())
	}
}

type lockedWriter struct{ p *proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.write(string(b))
	return len(b), nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// result of one CLI invocation.
type result struct {
	stdout, stderr string
	code           int
}

// run runs `orion args...` to completion in dir (the repo's examples are
// addressed relative to the repository root).
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.exec(e.bin, args...)
}

// exec runs `prog args...` to completion in the repository root with the
// env's environment.
func (e *env) exec(prog string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = e.environ()
	cmd.Dir = repoRoot(e.t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		e.t.Fatalf("%s %s: %v", filepath.Base(prog), strings.Join(args, " "), err)
	}
	return res
}

// mustRun runs the command and fails the test unless it exits 0.
func (e *env) mustRun(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("orion %s exited %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd)) // cmd/orion → repo root
}

// httpGet fetches a path of the server's HTTP API.
func (e *env) httpGet(path string) (int, string) {
	e.t.Helper()
	resp, err := httpClient.Get(e.url() + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// assertInOrder checks that the needles appear in s in the given order.
func assertInOrder(t *testing.T, s string, needles ...string) {
	t.Helper()
	rest := s
	for _, n := range needles {
		i := strings.Index(rest, n)
		if i < 0 {
			t.Fatalf("expected %q (in order %q) in:\n%s", n, needles, s)
		}
		rest = rest[i+len(n):]
	}
}
