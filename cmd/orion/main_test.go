package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the orion binary that orionBinary built for the
// end-to-end tests (a race-detector build of tens of MB) once they are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath)) //nolint:errcheck // best effort: a temp folder
	}
	os.Exit(code)
}
