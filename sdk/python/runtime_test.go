package python

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

func TestInterpreter(t *testing.T) {
	t.Setenv("ORION_PYTHON", "")
	if got := Interpreter(); got != "python3" {
		t.Fatalf("Interpreter() = %q, want python3", got)
	}
	t.Setenv("ORION_PYTHON", "/opt/py/bin/python3.12")
	if got := Interpreter(); got != "/opt/py/bin/python3.12" {
		t.Fatalf("Interpreter() = %q", got)
	}
}

func TestLookInterpreter_Missing(t *testing.T) {
	t.Setenv("ORION_PYTHON", "python3-orion-test-missing")
	_, err := LookInterpreter()
	if !errors.Is(err, ErrPythonNotFound) {
		t.Fatalf("err = %v, want ErrPythonNotFound", err)
	}
	want := "python3-orion-test-missing not found: install Python 3.9+ or set ORION_PYTHON"
	if err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

func TestEnv(t *testing.T) {
	sep := string(os.PathListSeparator)
	base := []string{
		"HOME=/root",
		"PYTHONPATH=/old/a" + sep + "/old/b",
		"PYTHONUNBUFFERED=0",
		"PATH=/bin",
		"PYTHONDONTWRITEBYTECODE=",
	}
	orig := append([]string(nil), base...)
	got := Env("/rt", base)
	want := []string{
		"HOME=/root",
		"PATH=/bin",
		"PYTHONPATH=/rt" + sep + "/old/a" + sep + "/old/b",
		"PYTHONUNBUFFERED=1",
		"PYTHONDONTWRITEBYTECODE=1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Env = %q\nwant %q", got, want)
	}
	if !reflect.DeepEqual(base, orig) {
		t.Fatalf("Env modified base: %q", base)
	}

	got = Env("/rt", []string{"A=1", "PYTHONPATH="})
	want = []string{"A=1", "PYTHONPATH=/rt", "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Env with empty PYTHONPATH = %q", got)
	}
}

func TestDigest(t *testing.T) {
	d := Digest()
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(d) {
		t.Fatalf("Digest() = %q, want 12 hex digits", d)
	}
	if Digest() != d {
		t.Fatal("Digest() not stable")
	}
}

// TestEmbedCoversAllSources fails when a Python file of the runtime is not
// matched by the //go:embed patterns (a new package directory needs a new
// pattern), and when something that is not a runtime file gets embedded.
func TestEmbedCoversAllSources(t *testing.T) {
	var onDisk []string
	for _, root := range []string{"orion", "prefect"} {
		err := filepath.WalkDir(filepath.Join(pkgDir, root), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "__pycache__" {
				return fs.SkipDir
			}
			rel, err := filepath.Rel(pkgDir, p)
			if err != nil {
				return err
			}
			if !d.IsDir() && isRuntimeFile(filepath.ToSlash(rel)) {
				onDisk = append(onDisk, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(onDisk)
	_, files := digestAndFiles()
	if !reflect.DeepEqual(files, onDisk) {
		t.Fatalf("embedded files differ from sources on disk\nembedded: %q\non disk:  %q", files, onDisk)
	}
	embeddedSet := map[string]bool{}
	for _, f := range files {
		embeddedSet[f] = true
	}
	for _, required := range []string{
		"orion/__init__.py", "orion/runtime/__init__.py", "orion/runtime/load.py", "orion/runtime/run.py",
		"prefect/__init__.py", "prefect/deployments.py", "prefect/flow_runners.py",
		"prefect/orion/schemas/schedules.py",
	} {
		if !embeddedSet[required] {
			t.Errorf("%s is not embedded", required)
		}
	}
}

func TestIsRuntimeFile(t *testing.T) {
	for p, want := range map[string]bool{
		"orion/flows.py":                     true,
		"orion/__init__.py":                  true,
		"orion/test_flows.py":                false,
		"orion/flows_test.py":                false,
		"orion/conftest.py":                  false,
		"orion/__pycache__/flows.cpython.py": false,
		"orion/flows.pyc":                    false,
	} {
		if got := isRuntimeFile(p); got != want {
			t.Errorf("isRuntimeFile(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestInstall_Idempotent(t *testing.T) {
	home := t.TempDir()
	dir, err := Install(home)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "runtime", "python-"+Digest()); dir != want {
		t.Fatalf("Install = %q, want %q", dir, want)
	}
	_, files := digestAndFiles()
	for _, name := range files {
		want, _ := embedded.ReadFile(name)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: unpacked copy differs (err %v)", name, err)
		}
	}
	marker := filepath.Join(dir, markerFile)
	before, err := os.Stat(marker)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("runtime dir mode = %v (err %v), want 0755", fi.Mode().Perm(), err)
	}

	again, err := Install(home)
	if err != nil || again != dir {
		t.Fatalf("second Install = %q, %v", again, err)
	}
	after, _ := os.Stat(marker)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("second Install rewrote the runtime")
	}
	assertOnlyRuntime(t, home)
}

// TestPrecompile: a flow run (which runs with PYTHONDONTWRITEBYTECODE=1)
// loads the runtime from the bytecode Precompile wrote, instead of
// compiling every module from source at each start. `python -v` names the
// file each module's code object came from.
func TestPrecompile(t *testing.T) {
	requirePython(t)
	dir, err := Install(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	Precompile(dir)
	cmd := exec.Command(Executable(), "-v", "-c", "import orion.runtime.run, prefect")
	cmd.Env = append(Env(dir, os.Environ()), "ORION_TRACKING=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var fromPyc, fromSource []string
	for _, line := range strings.Split(string(out), "\n") {
		from, ok := strings.CutPrefix(line, "# code object from ")
		if !ok || !strings.Contains(from, dir) {
			continue
		}
		if strings.Contains(from, "__pycache__") {
			fromPyc = append(fromPyc, from)
		} else {
			fromSource = append(fromSource, from)
		}
	}
	if len(fromSource) > 0 || len(fromPyc) < 10 {
		t.Fatalf("runtime modules compiled from source: %q; loaded from bytecode: %d", fromSource, len(fromPyc))
	}
}

func TestInstall_Concurrent(t *testing.T) {
	home := t.TempDir()
	const n = 16
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dirs[i], errs[i] = Install(home)
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Install #%d: %v", i, errs[i])
		}
		if dirs[i] != dirs[0] {
			t.Fatalf("Install #%d = %q, want %q", i, dirs[i], dirs[0])
		}
	}
	if !complete(dirs[0]) {
		t.Fatal("runtime incomplete after concurrent installs")
	}
	assertOnlyRuntime(t, home)
}

// TestInstall_ConcurrentProcesses races real processes (this test binary in
// child mode, see TestMain) on one home.
func TestInstall_ConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	home := t.TempDir()
	const n = 6
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range n {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
		cmds[i].Env = append(os.Environ(), "ORION_TEST_INSTALL_HOME="+home)
		outs[i] = new(bytes.Buffer)
		cmds[i].Stdout = outs[i]
		cmds[i].Stderr = outs[i]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(home, "runtime", "python-"+Digest())
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("child %d: %v: %s", i, err, outs[i])
		}
		if got := strings.TrimSpace(outs[i].String()); got != want {
			t.Fatalf("child %d installed to %q, want %q", i, got, want)
		}
	}
	assertOnlyRuntime(t, home)
}

func TestInstall_Errors(t *testing.T) {
	if _, err := Install(""); err == nil {
		t.Fatal("Install(\"\") succeeded")
	}
	// home is a file: nothing can be created below it.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(f); err == nil {
		t.Fatal("Install under a regular file succeeded")
	}
}

// assertOnlyRuntime checks that <home>/runtime holds exactly the installed
// runtime: no temporary directories were left behind.
func assertOnlyRuntime(t *testing.T, home string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(home, "runtime"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"python-" + Digest()}; !reflect.DeepEqual(names, want) {
		t.Fatalf("runtime dir holds %q, want %q", names, want)
	}
}

func TestRunCommand(t *testing.T) {
	t.Setenv("ORION_PYTHON", "")
	got := RunCommand("/f/flow.py", "hello", "/tmp/p.json", "/tmp/r.json")
	want := []string{
		Executable(), "-u", "-m", "orion.runtime.run",
		"--flow-file", "/f/flow.py",
		"--flow-name", "hello",
		"--parameters-file", "/tmp/p.json",
		"--result-file", "/tmp/r.json",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RunCommand = %q", got)
	}
	t.Setenv("ORION_PYTHON", "/usr/bin/python3")
	got = RunCommand("/f/flow.py", "", "", "")
	want = []string{Executable(), "-u", "-m", "orion.runtime.run", "--flow-file", "/f/flow.py"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RunCommand without optional flags = %q", got)
	}
}

// TestExecutable: the interpreter's own binary, asked once; a name that is
// not an interpreter is kept as it is.
func TestExecutable(t *testing.T) {
	requirePython(t)
	t.Setenv("ORION_PYTHON", "")
	exe := Executable()
	if !filepath.IsAbs(exe) {
		t.Fatalf("Executable() = %q, want the absolute path of the interpreter", exe)
	}
	out, err := exec.Command(exe, "-c", "import sys; print(sys.version_info >= (3, 9))").Output()
	if err != nil || strings.TrimSpace(string(out)) != "True" {
		t.Fatalf("%s: %v %s", exe, err, out)
	}
	t.Setenv("ORION_PYTHON", "/nonexistent/python")
	if got := Executable(); got != "/nonexistent/python" {
		t.Fatalf("Executable() of a missing interpreter = %q, want it unchanged", got)
	}
}

func TestReadResult(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadResult(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want os.ErrNotExist", err)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadResult(bad); err == nil || errors.Is(err, os.ErrNotExist) {
		t.Fatalf("bad file: err = %v", err)
	}

	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadResult(empty); err == nil {
		t.Fatal("result without state accepted")
	}

	ok := filepath.Join(dir, "ok.json")
	if err := os.WriteFile(ok, []byte(`{"state":"COMPLETED","message":"Flow run completed.","result":"42"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ReadResult(ok)
	if err != nil {
		t.Fatal(err)
	}
	if *res != (RunResult{State: StateCompleted, Message: "Flow run completed.", Result: "42"}) {
		t.Fatalf("ReadResult = %+v", res)
	}
}
