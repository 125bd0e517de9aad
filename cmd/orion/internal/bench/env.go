package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// readyTimeout bounds the wait for a child to come up.
const readyTimeout = 60 * time.Second

// env is one bench run: its temp folder and every child process it started
// that has not been stopped yet.
type env struct {
	opts Options
	dir  string
	log  hclog.Logger
	name string // the current phase, naming its folders

	mu    *sync.Mutex
	procs map[*proc]bool
}

func newEnv(opts Options) (*env, error) {
	dir, err := os.MkdirTemp("", "orion-bench-")
	if err != nil {
		return nil, err
	}
	opts.Logger.Info("bench folder created", "temp_dir", dir)
	return &env{opts: opts, dir: dir, log: opts.Logger, mu: &sync.Mutex{}, procs: map[*proc]bool{}}, nil
}

// phase returns the env as seen by one phase: its folders are under
// dir/<name>.
func (e *env) phase(name string) *env {
	c := *e
	c.name = name
	c.log = e.log.Named(name)
	return &c
}

// path returns a path under the phase's folder, creating the folder.
func (e *env) path(elem ...string) (string, error) {
	p := filepath.Join(append([]string{e.dir, e.name}, elem...)...)
	return p, os.MkdirAll(filepath.Dir(p), 0o700)
}

// mkdir creates a folder under the phase's folder and returns it.
func (e *env) mkdir(elem ...string) (string, error) {
	p := filepath.Join(append([]string{e.dir, e.name}, elem...)...)
	return p, os.MkdirAll(p, 0o700)
}

// close stops every child and removes the temp folder unless Keep is set.
func (e *env) close() {
	e.stopAll()
	if e.opts.Keep {
		e.log.Info("bench folder kept", "temp_dir", e.dir)
		return
	}
	if err := os.RemoveAll(e.dir); err != nil {
		e.log.Warn("removing the bench folder failed", "temp_dir", e.dir, "error", err)
	}
}

// start starts a child and tracks it until it is stopped.
func (e *env) start(name string, args []string, env []string, ready string) (*proc, error) {
	logPath, err := e.path(name + ".log")
	if err != nil {
		return nil, err
	}
	p, err := startProc(name, e.opts.Binary, args, env, logPath, ready)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.procs[p] = true
	e.mu.Unlock()
	e.log.Debug("child started", "name", name, "pid", p.cmd.Process.Pid)
	return p, nil
}

// stop stops one child.
func (e *env) stop(p *proc) {
	if p.stop() {
		e.log.Warn("child did not stop on SIGTERM and was killed", "name", p.name, "timeout", stopTimeout.String())
	}
	e.mu.Lock()
	delete(e.procs, p)
	e.mu.Unlock()
}

// stopAll stops every child: agents first (they finish their runs against
// a live server), then servers.
func (e *env) stopAll() {
	e.mu.Lock()
	var agents, others []*proc
	for p := range e.procs {
		if strings.HasPrefix(p.name, "agent") {
			agents = append(agents, p)
		} else {
			others = append(others, p)
		}
	}
	e.mu.Unlock()
	for _, group := range [][]*proc{agents, others} {
		var wg sync.WaitGroup
		for _, p := range group {
			wg.Add(1)
			go func() { defer wg.Done(); e.stop(p) }()
		}
		wg.Wait()
	}
}

// environ is the children's environment: the bench's own without any
// ORION_ setting but ORION_PYTHON and ORION_PPROF (to profile the server
// under load; a user's ORION_API_KEY or ORION_DB_PATH must not leak in),
// plus kv.
func environ(kv ...string) []string {
	var out []string
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "ORION_") || strings.HasPrefix(v, "ORION_PYTHON=") || strings.HasPrefix(v, "ORION_PPROF=") {
			out = append(out, v)
		}
	}
	return append(out, kv...)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts `orion server start` on home and a free port and
// waits until GET /api/health answers 200. It returns the process, the
// server's URL and the time from the process start to the first 200.
func (e *env) startServer(ctx context.Context, name, home string) (*proc, string, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", 0, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	p, err := e.start(name, []string{"server", "start", "--port", fmt.Sprint(port)}, environ("ORION_HOME="+home), "")
	if err != nil {
		return nil, "", 0, err
	}
	took, err := waitHealthy(ctx, p, url)
	if err != nil {
		e.stop(p)
		return nil, "", 0, err
	}
	return p, url, took, nil
}

// waitHealthy polls GET /api/health every millisecond (a refused
// connection fails at once) until it answers 200, and returns the time
// since p started.
func waitHealthy(ctx context.Context, p *proc, url string) (time.Duration, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(readyTimeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/health", nil)
		if err != nil {
			return 0, err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		switch {
		case ctx.Err() != nil:
			return 0, ctx.Err()
		case !p.alive():
			return 0, fmt.Errorf("%s exited before it was healthy: %s", p.name, p.lastLine())
		case time.Now().After(deadline):
			return 0, fmt.Errorf("%s was not healthy after %s: %s", p.name, readyTimeout, p.lastLine())
		}
		time.Sleep(time.Millisecond)
	}
}
