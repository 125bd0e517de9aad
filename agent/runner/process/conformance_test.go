package process

import (
	"path/filepath"
	"testing"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/runnertest"
)

// TestConformance runs the shared runner suite against subprocesses.
func TestConformance(t *testing.T) {
	runnertest.Run(t, runnertest.Harness{
		New:               func(*testing.T) runner.Runner { return New() },
		Prepare:           func(*testing.T, *runner.Spec) {},
		BadCommandMessage: "no such file or directory",
		Leftovers: func(t *testing.T, s runner.Spec) []string {
			var sp shimPID
			if err := readJSON(filepath.Join(s.Dir, StateDirName, pidFileName), &sp); err != nil {
				return nil
			}
			var left []string
			if alive(sp.PID, sp.StartTicks) {
				left = append(left, "shim process")
			}
			if sp.ChildPID > 0 && alive(sp.ChildPID, 0) {
				left = append(left, "flow process")
			}
			return left
		},
	})
}
