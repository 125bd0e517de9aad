// Package godeps lists the packages a binary links, for the tests that
// keep heavy dependencies out of Orion's binaries.
package godeps

import (
	"os/exec"
	"strings"
	"testing"
)

// List returns the import paths pkg depends on (itself included), as
// `go list -deps` prints them, run in the test's directory.
func List(t testing.TB, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the binary's packages: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
