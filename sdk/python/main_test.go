package python

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// testHome is an Orion home shared by the tests that only need an installed
// runtime; tests of Install itself use their own t.TempDir().
var testHome string

// pkgDir is this package's source directory. Tests run from an empty
// working directory instead: `python -m` puts the working directory first on
// sys.path, and the package directory's orion/ would shadow the unpacked
// runtime the tests are meant to exercise.
var pkgDir string

func TestMain(m *testing.M) {
	// Child mode for TestInstall_ConcurrentProcesses.
	if home := os.Getenv("ORION_TEST_INSTALL_HOME"); home != "" {
		dir, err := Install(home)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Print(dir)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "orion-python-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testHome = filepath.Join(dir, "home")
	work := filepath.Join(dir, "cwd")
	if pkgDir, err = os.Getwd(); err == nil {
		err = os.Mkdir(work, 0o755)
	}
	if err == nil {
		err = os.Chdir(work)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.Chdir(pkgDir)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// requirePython skips the test when no interpreter is available (CI has one).
func requirePython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(Interpreter()); err != nil {
		t.Skipf("%s not available: %v", Interpreter(), err)
	}
}

// testdata returns the absolute path of a file under testdata/.
func testdata(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(pkgDir, "testdata", filepath.FromSlash(name))
}

// runtimeDir installs the runtime into the shared home.
func runtimeDir(t *testing.T) string {
	t.Helper()
	dir, err := Install(testHome)
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	return dir
}
