// Package docker is the Docker runner: it runs a flow in a container
// through the Docker Engine API (the official Go client, negotiating the
// API version, so Debian's engine speaking API 1.41 works).
//
// The flow reaches the container without a registry: the run's working
// directory (the pushed script, the parameters file) and Orion's Python
// runtime are copied into the created container before it starts, at
// runner.ContainerWorkDir and runner.ContainerRuntimeDir, and the files in
// Spec.Collect (the Python result file) are copied back after it exits.
// Copying rather than bind-mounting works with a remote engine too.
//
// The container is named from the run id and lease epoch
// ("orion-<run id>-<epoch>"), so a redelivered run finds the container
// of its first delivery instead of starting a second one, and labelled with
// the run id. Output is followed live (with engine timestamps, which are
// recorded as the delivery position so a restarted agent resumes exactly
// after the last recorded line). Stop is the engine's stop: SIGTERM to the
// container's init (docker-init, which forwards it to the flow), SIGKILL
// after the grace period. Once the exit code and all output are collected,
// the exit is written to the run's state directory and the container is
// removed, unless auto_remove is false.
package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hashicorp/go-hclog"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/internal/outcome"
	"github.com/orion-run/orion/agent/runner/internal/stamped"
	"github.com/orion-run/orion/infra"
)

// Labels set on every container.
const (
	LabelFlowRunID      = "io.orion.flow-run-id"
	LabelFlowRunName    = "io.orion.flow-run-name"
	LabelLeaseEpoch     = "io.orion.lease-epoch"
	LabelFlowName       = "io.orion.flow-name"
	LabelDeploymentID   = "io.orion.deployment-id"
	LabelDeploymentName = "io.orion.deployment-name"
)

// StateDirName is the folder, inside a run's working directory on the
// agent's machine, that holds the runner's records: the container's name,
// the output delivery position and the recorded exit. It is not copied
// into the container.
const StateDirName = ".orion-docker"

// handleFileName, in the state directory, records the container's name
// and id.
const handleFileName = "container.json"

// Config configures a Runner.
type Config struct {
	// Host is the engine's address (e.g. unix:///var/run/docker.sock);
	// empty means the environment (DOCKER_HOST, DOCKER_API_VERSION,
	// DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) or the default socket.
	Host string
	// Logger receives the runner's own logs (default: none).
	Logger hclog.Logger
}

// Runner runs flows in Docker containers. Create it with New; it connects
// to the engine on first use, so an agent without Docker starts fine and
// only docker runs fail.
type Runner struct {
	cfg Config
	log hclog.Logger

	cliOnce sync.Once
	cli     *client.Client
	cliErr  error

	mu       sync.Mutex
	runs     map[string]*run           // by container name (Handle.ID)
	starting map[string]*containerLock // serializes Start and Reattach of one container
}

var (
	_ runner.Runner     = (*Runner)(nil)
	_ runner.Releaser   = (*Runner)(nil)
	_ runner.Reattacher = (*Runner)(nil)
	_ runner.Locator    = (*Runner)(nil)
	_ runner.Prober     = (*Runner)(nil)
)

// New returns a Docker runner.
func New(cfg Config) *Runner {
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Runner{cfg: cfg, log: log.Named("docker"), runs: make(map[string]*run), starting: make(map[string]*containerLock)}
}

// client returns the engine client, dialing it once.
func (r *Runner) client() (*client.Client, error) {
	r.cliOnce.Do(func() {
		opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
		if r.cfg.Host != "" {
			opts = append(opts, client.WithHost(r.cfg.Host))
		}
		r.cli, r.cliErr = client.NewClientWithOpts(opts...)
		if r.cliErr != nil {
			r.cliErr = fmt.Errorf("docker: %w", r.cliErr)
		}
	})
	return r.cli, r.cliErr
}

// Available implements runner.Prober: the engine answers a ping.
func (r *Runner) Available(ctx context.Context) error {
	cli, err := r.client()
	if err != nil {
		return err
	}
	if _, err := cli.Ping(ctx); err != nil {
		return fmt.Errorf("docker: the engine does not answer: %v", err)
	}
	return nil
}

// Close closes the engine connection.
func (r *Runner) Close() error {
	if r.cli != nil {
		return r.cli.Close()
	}
	return nil
}

// ContainerName is the deterministic name of a run's container.
func ContainerName(flowRunID string, epoch int64) string {
	return "orion-" + flowRunID + "-" + strconv.FormatInt(epoch, 10)
}

// handleData is the persisted part of a Handle.
type handleData struct {
	ContainerID string `json:"container_id"`
	Name        string `json:"name"`
	// Dir is the run's working directory on the agent's machine (the
	// state directory lives inside it).
	Dir string `json:"dir"`
	// FlowRunID guards against adopting someone else's container.
	FlowRunID string `json:"flow_run_id"`
}

func (d handleData) handle() runner.Handle {
	b, _ := json.Marshal(d)
	return runner.Handle{Type: runner.TypeDocker, ID: d.Name, Data: b}
}

func decodeHandle(h runner.Handle) (handleData, error) {
	if h.Type != runner.TypeDocker {
		return handleData{}, fmt.Errorf("%w: %s %q", runner.ErrUnknownHandle, h.Type, h.ID)
	}
	var d handleData
	if err := json.Unmarshal(h.Data, &d); err != nil {
		return handleData{}, fmt.Errorf("decode docker handle %q: %w", h.ID, err)
	}
	if d.Name == "" {
		d.Name = h.ID
	}
	return d, nil
}

// Start creates the run's container (or finds the one a previous delivery
// of the same run and epoch created), copies the run's files in, starts it
// and begins following its output. A start failure (missing image, bad
// command) removes the container and returns the engine's message.
func (r *Runner) Start(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	if len(spec.Command) == 0 {
		return runner.Handle{}, errors.New("empty command")
	}
	if spec.Dir == "" {
		return runner.Handle{}, errors.New("a working directory is required")
	}
	if spec.Infra.Type != runner.TypeDocker {
		// The zero Config: Docker's defaults.
		spec.Infra, _ = infra.Parse(&orionv1.Infrastructure{Type: infra.TypeDocker})
	}
	name := ContainerName(spec.FlowRunID, spec.Epoch)
	defer r.exclusive(name)()
	r.mu.Lock()
	p, ok := r.runs[name]
	r.mu.Unlock()
	if ok {
		return p.handle, nil
	}
	cli, err := r.client()
	if err != nil {
		return runner.Handle{}, err
	}
	stateDir := filepath.Join(spec.Dir, StateDirName)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return runner.Handle{}, err
	}
	d := handleData{Name: name, Dir: spec.Dir, FlowRunID: spec.FlowRunID}
	// Written before the container exists, so that an agent dying right
	// after creating it can still find it (Locate).
	if err := stamped.WriteJSONAtomic(filepath.Join(stateDir, handleFileName), d); err != nil {
		return runner.Handle{}, err
	}
	log := r.log.With("flow_run_id", spec.FlowRunID, "container", name)

	id, started, err := r.create(ctx, cli, spec, name, log)
	if err != nil {
		return runner.Handle{}, err
	}
	d.ContainerID = id
	if err := stamped.WriteJSONAtomic(filepath.Join(stateDir, handleFileName), d); err != nil {
		r.remove(cli, id, log)
		return runner.Handle{}, err
	}
	if !started {
		if err := cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
			r.remove(cli, id, log)
			return runner.Handle{}, fmt.Errorf("start container %s: %s", name, engineMessage(err))
		}
	}
	p = newRun(d, spec.Infra.Docker.AutoRemove, spec.Collect)
	r.add(name, p)
	go p.supervise(cli, stamped.NewDelivery(stateDir, spec.Output, spec.Sync), log)
	log.Debug("container started", "container_id", id)
	return p.handle, nil
}

// containerLock is held by the one Start or Reattach of a container in
// progress (a one-slot semaphore); users counts those holding or waiting
// for it.
type containerLock struct {
	held  chan struct{}
	users int
}

// exclusive lets one Start or Reattach of the named container run at a
// time, without holding r.mu through calls to the engine (an image pull,
// an inspect): Wait, Stop and the other containers' Start and Reattach do
// not wait for them. It returns the unlock. The lock stays in r.starting
// while anyone waits for it, so a newcomer always queues behind the same
// one.
func (r *Runner) exclusive(name string) func() {
	r.mu.Lock()
	l, ok := r.starting[name]
	if !ok {
		l = &containerLock{held: make(chan struct{}, 1)}
		r.starting[name] = l
	}
	l.users++
	r.mu.Unlock()
	l.held <- struct{}{}
	return func() {
		<-l.held
		r.mu.Lock()
		if l.users--; l.users == 0 {
			delete(r.starting, name)
		}
		r.mu.Unlock()
	}
}

func (r *Runner) lookup(h runner.Handle) (*run, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.runs[h.ID]
	if !ok || h.Type != runner.TypeDocker {
		return nil, fmt.Errorf("%w: %s %q", runner.ErrUnknownHandle, h.Type, h.ID)
	}
	return p, nil
}

// Wait blocks until the container exited and its output and collected
// files were delivered, and returns its exit code. A container killed for
// lack of memory has ExitResult.Err set ("out of memory").
func (r *Runner) Wait(ctx context.Context, h runner.Handle) (runner.ExitResult, error) {
	p, err := r.lookup(h)
	if err != nil {
		return runner.ExitResult{}, err
	}
	return p.exit.Wait(ctx)
}

// Stop stops the container the engine's way: SIGTERM, then SIGKILL after
// grace (rounded up to whole seconds, the engine's unit). It returns once
// the exit was collected. A container that already ended is left alone.
func (r *Runner) Stop(ctx context.Context, h runner.Handle, grace time.Duration) error {
	p, err := r.lookup(h)
	if err != nil {
		return err
	}
	if p.exit.Ended() {
		return nil
	}
	cli, err := r.client()
	if err != nil {
		return err
	}
	secs := int((grace + time.Second - 1) / time.Second)
	if err := cli.ContainerStop(ctx, p.data.ContainerID, container.StopOptions{Signal: "SIGTERM", Timeout: &secs}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("stop container %s: %s", p.data.Name, engineMessage(err))
	}
	_, err = p.exit.Wait(ctx)
	return err
}

// Recover finds a container started by an earlier agent process, without
// its output; see Reattach.
func (r *Runner) Recover(ctx context.Context, h runner.Handle) error {
	return r.Reattach(ctx, h, nil, nil)
}

// Reattach finds a container started by an earlier agent process and
// resumes delivering its output after the last recorded line. A container
// that already exited is collected at once; a run whose exit was recorded
// (and container removed) is found from its state directory. It returns
// runner.ErrNotRunning when neither the container nor a recorded exit
// exists.
func (r *Runner) Reattach(ctx context.Context, h runner.Handle, out runner.Output, sync func()) error {
	d, err := decodeHandle(h)
	if err != nil {
		return err
	}
	defer r.exclusive(h.ID)()
	r.mu.Lock()
	_, ok := r.runs[h.ID]
	r.mu.Unlock()
	if ok {
		return nil
	}
	stateDir := filepath.Join(d.Dir, StateDirName)
	if res, ok := stamped.ReadExit(stateDir); ok {
		p := newRun(d, false, nil)
		p.exit = outcome.Recorded(res)
		r.add(h.ID, p)
		return nil
	}
	cli, err := r.client()
	if err != nil {
		return err
	}
	ref := d.ContainerID
	if ref == "" {
		ref = d.Name
	}
	info, err := cli.ContainerInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return runner.ErrNotRunning
	}
	if err != nil {
		return fmt.Errorf("inspect container %s: %s", d.Name, engineMessage(err))
	}
	if d.FlowRunID != "" && info.Config != nil && info.Config.Labels[LabelFlowRunID] != d.FlowRunID {
		return fmt.Errorf("container %s does not belong to flow run %s: %w", d.Name, d.FlowRunID, runner.ErrNotRunning)
	}
	d.ContainerID = info.ID
	autoRemove := info.Config != nil && info.Config.Labels[labelAutoRemove] != "false"
	var collect []string
	if info.Config != nil && info.Config.Labels[labelCollect] != "" {
		_ = json.Unmarshal([]byte(info.Config.Labels[labelCollect]), &collect)
	}
	p := newRun(d, autoRemove, collect)
	r.add(h.ID, p)
	go p.supervise(cli, stamped.NewDelivery(stateDir, out, sync), r.log.With("flow_run_id", d.FlowRunID, "container", d.Name))
	return nil
}

// add records a started or reattached run.
func (r *Runner) add(name string, p *run) {
	r.mu.Lock()
	r.runs[name] = p
	r.mu.Unlock()
}

// Locate returns the handle recorded in workdir's state directory, for a
// run whose handle the agent did not get to save. It returns
// runner.ErrNotRunning when nothing was started there.
func (r *Runner) Locate(workdir string) (runner.Handle, error) {
	var d handleData
	if err := stamped.ReadHandle(filepath.Join(workdir, StateDirName, handleFileName), &d); err != nil {
		return runner.Handle{}, err
	}
	d.Dir = workdir
	return d.handle(), nil
}

// Release stops following a container's output and forgets the handle.
// The container is left as it is: a released run may be recovered by a
// later agent process.
func (r *Runner) Release(h runner.Handle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.runs[h.ID]; ok && h.Type == runner.TypeDocker {
		p.release()
		delete(r.runs, h.ID)
	}
}

// remove force-removes a container, logging a failure.
func (r *Runner) remove(cli *client.Client, id string, log hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		log.Warn("cannot remove the container", "error", engineMessage(err))
	}
}
