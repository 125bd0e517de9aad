package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePython is a scripted double of the Python runtime.
type fakePython struct {
	mu       sync.Mutex
	load     func(file string) (*pyLoadResult, error)
	inspect  func(path, flowName string) (*pyFlowInfo, error)
	loaded   []string
	inspects []string
}

func (p *fakePython) LoadSpecs(_ context.Context, _ string, file string) (*pyLoadResult, error) {
	p.mu.Lock()
	p.loaded = append(p.loaded, file)
	load := p.load
	p.mu.Unlock()
	if load == nil {
		return &pyLoadResult{}, nil
	}
	return load(file)
}

func (p *fakePython) InspectFlow(_ context.Context, _ string, path, flowName string) (*pyFlowInfo, error) {
	p.mu.Lock()
	p.inspects = append(p.inspects, path+"#"+flowName)
	inspect := p.inspect
	p.mu.Unlock()
	if inspect == nil {
		return &pyFlowInfo{FlowName: flowName, FlowLocation: path}, nil
	}
	return inspect(path, flowName)
}

// result is what one CLI invocation produced.
type result struct {
	stdout, stderr string
	code           int
}

// cliEnv runs CLI invocations against a server URL with test seams: UTC
// display, no reconnect delay, a fake Python runtime.
type cliEnv struct {
	t   *testing.T
	url string
	py  *fakePython
	ext Extensions
	// realPython uses package sdk/python instead of py.
	realPython bool
}

func newEnv(t *testing.T, f *fakeOrion) *cliEnv {
	t.Helper()
	url := "http://127.0.0.1:1"
	if f != nil {
		url = f.start(t)
	}
	return &cliEnv{t: t, url: url, py: &fakePython{}}
}

// run executes `orion --api-url URL args...` through Main.
func (e *cliEnv) run(args ...string) result {
	e.t.Helper()
	m := defaultMeta(e.ext)
	m.py = e.py
	if e.realPython {
		m.py = sdkRuntime{}
	}
	home := e.t.TempDir()
	m.home = func() string { return home }
	m.loc = time.UTC
	m.retryDelay = func(int) time.Duration { return 0 }
	root := newRootCommand(m)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"--api-url", e.url}, args...))
	code := Main(root)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// mustRun runs and fails the test unless the exit code is want.
func (e *cliEnv) mustRun(want int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != want {
		e.t.Fatalf("orion %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lines splits output into lines without the trailing empty one.
func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// equalLines fails the test unless got has exactly the lines want.
func equalLines(t *testing.T, got string, want ...string) {
	t.Helper()
	g := lines(got)
	if len(g) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s\nwant:\n%s", len(g), len(want), got, strings.Join(want, "\n"))
	}
	for i := range want {
		if g[i] != want[i] {
			t.Fatalf("line %d:\n got %q\nwant %q\nfull output:\n%s", i+1, g[i], want[i], got)
		}
	}
}
