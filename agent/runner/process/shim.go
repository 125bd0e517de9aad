package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
)

// Environment variables that turn the current binary into a shim. The
// runner re-executes its own binary (os.Executable) with them set, so no
// extra binary has to be installed next to the agent.
const (
	// EnvShim set to "1" makes ShimMain take over the process.
	EnvShim = "ORION_PROCESS_SHIM"
	// EnvShimSpec is the path of the shim's spec file.
	EnvShimSpec = "ORION_PROCESS_SHIM_SPEC"
)

// Names of the files a run's shim keeps in its state directory.
const (
	specFileName    = "shim.json"
	pidFileName     = "shim.pid"
	stdoutFileName  = "stdout"
	stderrFileName  = "stderr"
	exitFileName    = "exit.json"
	offsetsFileName = "offsets.json"
)

// shimSpec is what the runner tells the shim to run. It is written to the
// state directory before the shim starts.
type shimSpec struct {
	Path string   `json:"path"`
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
}

// exitStatus is the content of the exit file: how the flow process ended.
type exitStatus struct {
	ExitCode int    `json:"exit_code"`
	Signal   string `json:"signal,omitempty"`
	// Error is set when the flow process could not be started or waited.
	Error string `json:"error,omitempty"`
}

// shimPID is the content of the pid file the shim writes about itself
// before it starts the flow, so a restarted agent can find it even when
// the runner's handle was never saved.
type shimPID struct {
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	ChildPID   int    `json:"child_pid,omitempty"`
}

// ShimMain turns the process into a flow-run shim when EnvShim is "1" and
// never returns then; otherwise it returns at once. Call it first thing in
// main (and in TestMain of packages whose tests start subprocess runs).
//
// The shim is the leader of its own session and process group, so it
// outlives the agent that started it. It runs the flow process in its
// group with stdout and stderr going straight to files in its state
// directory, and when the flow process ends it writes the exit code or
// signal to the exit file atomically (a temp file renamed into place) and
// exits. SIGTERM, SIGINT and SIGHUP sent to the group reach the flow; the
// shim itself ignores them so that it can still record how the flow ended.
func ShimMain() {
	if os.Getenv(EnvShim) != "1" {
		return
	}
	os.Exit(runShim(os.Getenv(EnvShimSpec)))
}

// runShim is the shim's body; it returns the shim's exit code.
func runShim(specPath string) int {
	status := os.NewFile(3, "status")
	fail := func(err error) int {
		if status != nil {
			_, _ = fmt.Fprintf(status, "err %s\n", err)
			_ = status.Close()
		}
		return 2
	}
	b, err := os.ReadFile(specPath)
	if err != nil {
		return fail(err)
	}
	var spec shimSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fail(fmt.Errorf("decode shim spec: %w", err))
	}
	dir := filepath.Dir(specPath)
	self := shimPID{PID: os.Getpid()}
	if st, err := readStat(self.PID); err == nil {
		self.StartTicks = st.startTicks
	}
	if err := writeJSONAtomic(filepath.Join(dir, pidFileName), self); err != nil {
		return fail(err)
	}
	stdout, err := os.OpenFile(filepath.Join(dir, stdoutFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fail(err)
	}
	stderr, err := os.OpenFile(filepath.Join(dir, stderrFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fail(err)
	}
	// Caught (not ignored) signals are reset to their default in the child
	// by exec, so the flow still receives them.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
	go func() {
		for range sigs {
		}
	}()
	cmd := &exec.Cmd{Path: spec.Path, Args: spec.Args, Env: spec.Env, Dir: spec.Dir, Stdout: stdout, Stderr: stderr}
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	self.ChildPID = cmd.Process.Pid
	_ = writeJSONAtomic(filepath.Join(dir, pidFileName), self)
	if status != nil {
		_, _ = fmt.Fprintf(status, "ok %d\n", cmd.Process.Pid)
		_ = status.Close()
	}
	waitErr := cmd.Wait()
	_ = stdout.Close()
	_ = stderr.Close()
	res := exitResult(cmd.ProcessState, waitErr)
	es := exitStatus{ExitCode: res.ExitCode, Signal: res.Signal}
	if res.Err != nil {
		es.Error = res.Err.Error()
	}
	if err := writeJSONAtomic(filepath.Join(dir, exitFileName), es); err != nil {
		return 3
	}
	return 0
}

// writeJSONAtomic writes v as JSON to path through a synced temp file
// renamed into place, so readers see the whole file or none of it.
func writeJSONAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// readJSON decodes the JSON file at path into v.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// errNoExitFile means the shim ended without recording the flow's exit.
var errNoExitFile = errors.New("the flow's supervisor (shim) ended without recording an exit status")
