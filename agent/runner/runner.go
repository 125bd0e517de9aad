// Package runner defines how the agent starts, watches and stops the
// infrastructure that executes a flow run (a subprocess, a container, a
// Job), independently of any particular kind of infrastructure.
//
// A Runner is driven by the agent through four methods that must each be
// idempotent (calling them twice has the effect of calling them once), as
// Flyte's plugin contract and Nomad's driver interface require:
//
//	h, err := r.Start(ctx, spec)  // create the infrastructure
//	res, err := r.Wait(ctx, h)    // block until it exits
//	err = r.Stop(ctx, h, grace)   // stop it: graceful, then forced
//	err = r.Recover(ctx, h)       // find it again after an agent restart
//
// A Handle is plain data so the agent can persist it in its local state
// file and hand it back to Recover after a restart. Runners never import the
// agent or the client: everything they need is in the Spec.
package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orion-run/orion/infra"
)

// Well-known infrastructure types.
const (
	// TypeSubprocess runs the flow as a local process (the default).
	TypeSubprocess = "subprocess"
	// TypeNoop completes at once without running anything; it exists to
	// measure the control plane alone.
	TypeNoop = "noop"
	// TypeDocker runs the flow in a Docker container.
	TypeDocker = "docker"
	// TypeKubernetes runs the flow as a Kubernetes Job.
	TypeKubernetes = "kubernetes"
)

// Paths inside a container (docker, kubernetes) where container runners
// put the run's files. The agent builds Spec.Command and Spec.Env with
// these paths for container runners.
const (
	// ContainerWorkDir holds the contents of Spec.Dir (the flow script, the
	// parameters file) and is the flow's working directory; it is writable.
	ContainerWorkDir = "/orion/run"
	// ContainerRuntimeDir holds the contents of Spec.RuntimeDir (Orion's
	// Python runtime), read-only.
	ContainerRuntimeDir = "/orion/runtime"
	// BytecodeDirName is Python's bytecode cache folder. Container runners
	// do not copy it in: it holds the host Python's bytecode (the agent
	// precompiles the runtime), which the image's Python does not use.
	BytecodeDirName = "__pycache__"
)

// IsContainer reports whether runners of type typ run the flow in a
// container image, away from the agent's filesystem.
func IsContainer(typ string) bool { return typ == TypeDocker || typ == TypeKubernetes }

// Sentinel errors shared by all runners.
var (
	// ErrUnknownHandle means the runner has no record of the handle: it was
	// not started by this runner (and not recovered), or it was released.
	ErrUnknownHandle = errors.New("unknown infrastructure handle")
	// ErrNotRunning is returned by Recover when the infrastructure behind a
	// handle no longer exists.
	ErrNotRunning = errors.New("infrastructure is not running")
	// ErrNoRunner means no runner is registered for an infrastructure type.
	ErrNoRunner = errors.New("no runner for infrastructure type")
)

// Output receives the flow's output one line at a time, without the line
// terminator. stream is "stdout" or "stderr". A runner calls it from one
// goroutine at a time, in the order the lines were read from each stream,
// and never after Wait has returned.
//
// pos, when > 0, is the line's position in its stream (the subprocess
// runner: the byte offset just past it in the output file), increasing
// per stream and the same when a line is delivered again. A runner that
// resumes after an agent restart may repeat lines delivered just before
// it; the agent sends positions so the server stores each line once. 0
// means the runner gives no position.
type Output func(stream, line string, pos int64)

// Spec describes what to run for one flow run.
type Spec struct {
	// FlowRunID and Epoch identify the run and its lease; runners use them
	// for naming (container names, labels) and logging.
	FlowRunID string
	Epoch     int64
	// Command is the argv to execute. Command[0] is looked up in the PATH
	// given by Env when it contains no slash.
	Command []string
	// Env is the complete environment of the flow ("KEY=value"); runners do
	// not add the agent's own environment.
	Env []string
	// Dir is the working directory; it must exist.
	Dir string
	// Output receives output lines; nil discards them.
	Output Output
	// Sync, when set, is called after a batch of lines was given to Output
	// and before the runner records them as delivered (runners whose
	// infrastructure outlives the agent resume output from that record
	// after a restart). It returns once the lines are durable, for example
	// shipped to the server, which keeps a restart from losing them.
	Sync func()

	// FlowRunName, FlowName, DeploymentID and DeploymentName describe the
	// run for labels and names of its infrastructure (may be empty).
	FlowRunName    string
	FlowName       string
	DeploymentID   string
	DeploymentName string
	// APIURL is the server URL the flow reaches (also in Env as
	// ORION_API_URL); container runners may rewrite it so that it is
	// reachable from inside the container.
	APIURL string
	// Infra is the run's validated infrastructure; each runner reads the
	// section of its own type. The zero value means that type's defaults.
	Infra infra.Config
	// RuntimeDir is the host directory of Orion's unpacked Python runtime,
	// set for Python flows. Subprocesses find it through PYTHONPATH in Env;
	// container runners copy it to ContainerRuntimeDir.
	RuntimeDir string
	// Collect names files, relative to the working directory, that container
	// runners copy back from ContainerWorkDir into Dir after the flow ended
	// and before Wait returns (the Python result file). Runners that cannot
	// say so in their docs; a missing file is not an error.
	Collect []string
}

// Handle identifies started infrastructure. It is serializable: the agent
// stores it and passes it back to Recover after a restart.
type Handle struct {
	// Type is the infrastructure type of the runner that made the handle.
	Type string `json:"type"`
	// ID is a human-readable identifier (a pid, a container id, a Job
	// name); the agent reports it as the run's infrastructure_pid.
	ID string `json:"id"`
	// Data is runner-private state needed by Recover.
	Data []byte `json:"data,omitempty"`
}

// ExitResult is how infrastructure ended.
type ExitResult struct {
	// ExitCode is the process's exit code, or -1 when it was killed by a
	// signal or the code is unknown.
	ExitCode int
	// Signal names the signal that killed it ("SIGKILL"), if any.
	Signal string
	// Err is set when the outcome could not be observed (for example the
	// infrastructure was found again after a restart and its exit code is
	// lost).
	Err error
}

// Success reports whether the infrastructure exited normally with code 0.
func (r ExitResult) Success() bool { return r.Err == nil && r.Signal == "" && r.ExitCode == 0 }

// String describes the result for humans, e.g. "exit code 1".
func (r ExitResult) String() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.Signal != "":
		return "killed by signal " + r.Signal
	default:
		return fmt.Sprintf("exit code %d", r.ExitCode)
	}
}

// Runner starts and supervises flow-run infrastructure of one type. All
// methods are safe for concurrent use and idempotent.
type Runner interface {
	// Start creates the infrastructure and returns once it is running. The
	// ctx bounds the start only, never the lifetime of what was started. An
	// error means nothing is left running.
	Start(ctx context.Context, spec Spec) (Handle, error)
	// Wait blocks until the infrastructure exits (or ctx is done, returning
	// ctx.Err()) and returns how it ended. All output has been delivered
	// when Wait returns. Calling it again returns the same result.
	Wait(ctx context.Context, h Handle) (ExitResult, error)
	// Stop asks the infrastructure to stop, waits up to grace, then forces
	// it. It returns once it has ended (or ctx is done). Stopping
	// infrastructure that already ended is a no-op.
	Stop(ctx context.Context, h Handle, grace time.Duration) error
	// Recover finds infrastructure started by an earlier agent process so it
	// can be waited on or stopped. Infrastructure that already ended but
	// recorded how is found too (Wait returns that at once). It returns
	// ErrNotRunning when the infrastructure no longer exists and its outcome
	// is unknown.
	Recover(ctx context.Context, h Handle) error
}

// Reattacher is implemented by runners whose infrastructure survives the
// agent process and keeps its output, so a restarted agent can resume
// supervising a run instead of stopping it. Reattach is Recover plus the
// output: lines not yet delivered by the earlier agent process go to out
// (and sync, as Spec.Sync), none twice.
type Reattacher interface {
	Reattach(ctx context.Context, h Handle, out Output, sync func()) error
}

// Locator is implemented by runners that can find infrastructure from the
// run's working directory alone, for a run whose handle the agent did not
// get to save before it died. It returns ErrNotRunning when nothing was
// started there.
type Locator interface {
	Locate(workdir string) (Handle, error)
}

// Prober is implemented by runners that depend on something outside the
// agent (a container engine, a cluster). Available reports whether it can
// be reached now; the agent offers to run only the types whose runner is
// available, so their runs go to agents that can run them.
type Prober interface {
	Available(ctx context.Context) error
}

// Releaser is implemented by runners that keep bookkeeping per handle. The
// agent calls Release once it is done with a handle; Wait and Stop on a
// released handle return ErrUnknownHandle.
type Releaser interface {
	Release(h Handle)
}

// Release calls r.Release(h) when r implements Releaser.
func Release(r Runner, h Handle) {
	if rel, ok := r.(Releaser); ok {
		rel.Release(h)
	}
}
