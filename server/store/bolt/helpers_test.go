package bolt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
)

// openTest opens a store at path and, at cleanup, closes it (if the test has
// not) and runs bbolt's consistency check on the file.
func openTest(tb testing.TB, path string, opts Options) *Store {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(tb)
	}
	s, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
		checkFile(tb, path)
	})
	return s
}

// testLogger writes to the test log at the level in ORION_TEST_LOG_LEVEL
// (off when unset).
func testLogger(tb testing.TB) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv("ORION_TEST_LOG_LEVEL"))
	if level == hclog.NoLevel {
		return hclog.NewNullLogger()
	}
	return hclog.New(&hclog.LoggerOptions{Name: "store", Level: level, Output: testWriter{tb}})
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// newTest opens a store on a fresh file in tb.TempDir().
func newTest(tb testing.TB) *Store {
	tb.Helper()
	return openTest(tb, filepath.Join(tb.TempDir(), "orion.db"), Options{})
}

// checkFile runs bbolt's page-level consistency check and checkIndexes on a
// closed store file.
func checkFile(tb testing.TB, path string) {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		tb.Errorf("open %s for check: %v", path, err)
		return
	}
	defer db.Close()
	err = db.View(func(btx *bolt.Tx) error {
		var errs []error
		for err := range btx.Check() {
			errs = append(errs, err)
		}
		if err := checkIndexes(btx); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		tb.Errorf("consistency check of %s: %v", path, err)
	}
}
