package agentcmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// BinaryName is the agent's own binary, installed beside orion.
const BinaryName = "orion-agent"

// EnvInProcess set to a true value ("1", "true") makes `orion agent start`
// run the agent inside orion even when orion-agent is installed beside it.
const EnvInProcess = "ORION_AGENT_IN_PROCESS"

// envParentVersion carries orion's version to the orion-agent it hands
// over to, which refuses to run as another version.
const envParentVersion = "ORION_AGENT_PARENT_VERSION"

// Delegate replaces this process with the orion-agent found beside the
// running binary, started with args, when there is one and EnvInProcess is
// not set; the process keeps its pid, so a supervisor (systemd, a test, a
// `kill`) sees no difference. It returns nil when there is nothing to hand
// over to (the agent then runs here), and an error only when the hand-over
// failed. On success it does not return.
//
// Why: an agent's memory is mostly the pages of the binary it runs, and
// the all-in-one binary carries the server, the dashboard and the CLI.
// orion-agent is the same agent without them (docs/performance.md), and the
// supervisor of every subprocess flow run is the agent's own binary, so each
// running flow pays less too.
func Delegate(version string, args []string) error {
	if inProcess, _ := strconv.ParseBool(os.Getenv(EnvInProcess)); inProcess {
		return nil
	}
	self, err := os.Executable()
	if err != nil || filepath.Base(self) == BinaryName {
		return nil
	}
	path := filepath.Join(filepath.Dir(self), BinaryName)
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return nil
	}
	env := append(os.Environ(), envParentVersion+"="+version)
	err = syscall.Exec(path, append([]string{path}, args...), env)
	return fmt.Errorf("start %s: %v (set %s=1 to run the agent inside orion)", path, err, EnvInProcess)
}
