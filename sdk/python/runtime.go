// Package python embeds Orion's pure-Python runtime (the orion and prefect
// packages next to this file) and runs its two entry points:
//
//   - python3 -m orion.runtime.load: executes a deployment script and reports
//     its DeploymentSpecs, or inspects one flow (see LoadSpecs, InspectFlow);
//   - python3 -m orion.runtime.run: executes one flow run (see RunCommand,
//     ReadResult).
//
// The runtime is stdlib-only Python 3.9+. Install unpacks it once per content
// digest under <home>/runtime/, Precompile writes its bytecode, and Env puts
// it first on PYTHONPATH.
package python

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Explicit *.py patterns (rather than whole directories) keep __pycache__
// out and include __init__.py, which a directory pattern would skip because
// of its leading underscore. TestEmbedCoversAllSources fails when a new
// package directory is not listed here.
//
//go:embed orion/*.py orion/runtime/*.py
//go:embed prefect/*.py prefect/logging/*.py prefect/orion/*.py prefect/orion/schemas/*.py
var embedded embed.FS

// markerFile is written last into an unpacked runtime; a directory without it
// is not a complete runtime.
const markerFile = ".orion-runtime"

// Interpreter returns the Python interpreter to run: $ORION_PYTHON when set,
// else "python3" (looked up on PATH by the caller).
func Interpreter() string {
	if p := strings.TrimSpace(os.Getenv("ORION_PYTHON")); p != "" {
		return p
	}
	return "python3"
}

// Executable is the interpreter's own binary (its sys.executable), found by
// asking Interpreter() once per process and value of ORION_PYTHON. A
// wrapper on PATH, such as a pyenv shim, costs about 100 ms at every start;
// a long-lived process (the agent) pays it once and then starts flows with
// the real binary. When the interpreter cannot be asked, Interpreter() is
// returned.
func Executable() string {
	name := Interpreter()
	executables.mu.Lock()
	defer executables.mu.Unlock()
	if p, ok := executables.m[name]; ok {
		return p
	}
	p := name
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, "-c", "import sys; sys.stdout.write(sys.executable)").Output()
	if exe := strings.TrimSpace(string(out)); err == nil && filepath.IsAbs(exe) {
		if st, err := os.Stat(exe); err == nil && st.Mode().IsRegular() {
			p = exe
		}
	}
	if executables.m == nil {
		executables.m = map[string]string{}
	}
	executables.m[name] = p
	return p
}

var executables struct {
	mu sync.Mutex
	m  map[string]string
}

// Env returns base plus the variables the runtime needs:
// PYTHONPATH=<runtimeDir>[<list separator><existing PYTHONPATH>],
// PYTHONUNBUFFERED=1 and PYTHONDONTWRITEBYTECODE=1. Existing entries of those
// three names are replaced (the last existing PYTHONPATH is kept behind the
// runtime). base is not modified.
func Env(runtimeDir string, base []string) []string {
	replaced := map[string]bool{"PYTHONPATH": true, "PYTHONUNBUFFERED": true, "PYTHONDONTWRITEBYTECODE": true}
	out := make([]string, 0, len(base)+3)
	existing := ""
	for _, kv := range base {
		name, value, _ := strings.Cut(kv, "=")
		key := name
		if runtime.GOOS == "windows" {
			key = strings.ToUpper(name)
		}
		if replaced[key] {
			if key == "PYTHONPATH" {
				existing = value
			}
			continue
		}
		out = append(out, kv)
	}
	pythonPath := runtimeDir
	if existing != "" {
		pythonPath += string(os.PathListSeparator) + existing
	}
	return append(out,
		"PYTHONPATH="+pythonPath,
		"PYTHONUNBUFFERED=1",
		"PYTHONDONTWRITEBYTECODE=1",
	)
}

// Digest returns the first 12 hex digits of the SHA-256 over every embedded
// runtime file (paths and contents). It names the install directory, so a new
// binary with a changed runtime never reuses an old unpacked copy.
func Digest() string {
	d, _ := digestAndFiles()
	return d
}

// Install unpacks the runtime to <home>/runtime/python-<Digest()>/ and returns
// that directory. It is idempotent and safe when several processes race:
// each unpacks into a private temporary directory beside the target and
// renames it into place; whoever loses the rename uses the winner's copy.
// A directory is complete once it holds the marker file, which is written
// before the rename, so a visible target is always a whole runtime.
func Install(home string) (string, error) {
	if home == "" {
		return "", errors.New("python: install runtime: empty home directory")
	}
	digest, files := digestAndFiles()
	base := filepath.Join(home, "runtime")
	target := filepath.Join(base, "python-"+digest)
	if complete(target) {
		return target, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("python: install runtime: %w", err)
	}
	tmp, err := os.MkdirTemp(base, ".python-"+digest+".tmp-")
	if err != nil {
		return "", fmt.Errorf("python: install runtime: %w", err)
	}
	if err := unpack(tmp, files, digest); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("python: install runtime: %w", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		_ = os.RemoveAll(tmp)
		if complete(target) {
			return target, nil // another process won the race
		}
		// Only something outside Orion can leave an incomplete directory
		// there (installs appear atomically); never delete it while other
		// processes may be using it.
		return "", fmt.Errorf("python: install runtime: %w (remove %s if it is a damaged copy)", err, target)
	}
	return target, nil
}

// precompileTimeout bounds Precompile (about 60 ms on the reference machine).
const precompileTimeout = time.Minute

// Precompile writes the bytecode of the runtime installed in dir (its
// __pycache__ folders) with the interpreter flows run with. Flow runs
// start with PYTHONDONTWRITEBYTECODE=1, so that Python writes nothing next
// to the user's sources; without bytecode, every start compiled the whole
// runtime from source (16 of the 37 ms that importing orion.runtime.run
// took). The agent calls it once, after Install: it costs one interpreter
// start and a compile (about 150 ms with a pyenv shim), which a long-lived
// agent earns back within a few runs and a one-off command such as
// `orion deployment create` would not. The bytecode is only a cache:
// Python writes each file atomically (so concurrent readers and compiles
// are safe), skips files already compiled, and when the interpreter is
// missing or fails, or a run uses another Python version (whose cache tag
// finds no file), Python compiles from source as before; so errors are
// ignored.
func Precompile(dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), precompileTimeout)
	defer cancel()
	_ = exec.CommandContext(ctx, Executable(), "-m", "compileall", "-q", dir).Run()
}

// complete reports whether dir holds a fully unpacked runtime.
func complete(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, markerFile))
	return err == nil && fi.Mode().IsRegular()
}

// unpack writes files into dir, then the marker, and makes dir world-readable
// (MkdirTemp creates it 0700).
func unpack(dir string, files []string, digest string) error {
	for _, name := range files {
		data, err := embedded.ReadFile(name)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, markerFile), []byte(digest+"\n"), 0o644); err != nil {
		return err
	}
	return os.Chmod(dir, 0o755)
}

var digestOnce = sync.OnceValues(func() (string, []string) {
	var files []string
	err := fs.WalkDir(embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return fs.SkipDir
			}
			return nil
		}
		if isRuntimeFile(p) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		panic("python: walking the embedded runtime: " + err.Error())
	}
	sort.Strings(files)
	h := sha256.New()
	var n [8]byte
	for _, name := range files {
		data, err := embedded.ReadFile(name)
		if err != nil {
			panic("python: reading the embedded runtime: " + err.Error())
		}
		// Length-prefix both parts so no two file sets hash alike.
		binary.BigEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.Write([]byte(name))
		binary.BigEndian.PutUint64(n[:], uint64(len(data)))
		h.Write(n[:])
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], files
})

func digestAndFiles() (string, []string) { return digestOnce() }

// isRuntimeFile reports whether an embedded path belongs in the runtime:
// Python sources that are not tests.
func isRuntimeFile(p string) bool {
	base := path.Base(p)
	if !strings.HasSuffix(base, ".py") {
		return false
	}
	if strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py") || base == "conftest.py" {
		return false
	}
	return !strings.Contains(p, "__pycache__/")
}
