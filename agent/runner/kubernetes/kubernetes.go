// Package kubernetes is the Kubernetes runner: it runs a flow as a
// batch/v1 Job through client-go's REST client (in-cluster config, else
// kubeconfig); see Cluster for why not its typed clientset.
//
// A run gets a Job and a ConfigMap named from its run id and lease epoch
// ("orion-<run id>-<epoch>", see JobName), so a redelivery finds the Job of
// the first delivery instead of creating a second one. The ConfigMap
// carries the run's files (the pushed flow script and parameters, mounted
// into a writable emptyDir at runner.ContainerWorkDir) and Orion's Python
// runtime (at runner.ContainerRuntimeDir), so no image has to be built or
// pushed. The Job has backoffLimit 0 (Orion owns retries), restartPolicy
// Never, ttlSecondsAfterFinished, the run's labels, service account, image
// pull policy, env and resources.
//
// Start returns once the pod runs (or fails with the kubelet's reason:
// ErrImagePull, StartError, ...). The runner then streams the container's
// log (stdout and stderr merged: the pod log API has one stream) with
// timestamps, recording the position so a restarted agent resumes after
// the last recorded line, and watches the pod until its container
// terminates. The first file of Spec.Collect (the Python result file) is
// the container's termination message file, so it comes back with the
// container's terminated state (at most 4096 bytes, which the container is
// told in ORION_RESULT_MAX_BYTES); the others are not collected. Stop
// deletes the pod with the grace period and the Job with
// foreground propagation. A finished Job and its ConfigMap are deleted
// once the exit code and output are collected, unless auto_remove is false
// (then the TTL removes them).
package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/internal/outcome"
	"github.com/orion-run/orion/agent/runner/internal/stamped"
	"github.com/orion-run/orion/infra"
)

// StateDirName is the folder, in a run's working directory on the agent's
// machine, holding the runner's records (Job, output position, exit).
const StateDirName = ".orion-kubernetes"

const handleFileName = "job.json"

// Config configures a Runner.
type Config struct {
	// Cluster, when set, is used instead of loading a configuration
	// (tests).
	Cluster Cluster
	// Kubeconfig is the kubeconfig path used outside a cluster (default:
	// $KUBECONFIG, else ~/.kube/config).
	Kubeconfig string
	// Logger receives the runner's own logs (default: none).
	Logger hclog.Logger
}

// Runner runs flows as Kubernetes Jobs. It loads its cluster configuration
// on first use.
type Runner struct {
	cfg Config
	log hclog.Logger

	clOnce sync.Once
	cl     Cluster
	clErr  error

	mu   sync.Mutex
	runs map[string]*run
}

var (
	_ runner.Runner     = (*Runner)(nil)
	_ runner.Releaser   = (*Runner)(nil)
	_ runner.Reattacher = (*Runner)(nil)
	_ runner.Locator    = (*Runner)(nil)
	_ runner.Prober     = (*Runner)(nil)
)

// New returns a Kubernetes runner.
func New(cfg Config) *Runner {
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Runner{cfg: cfg, log: log.Named("kubernetes"), runs: make(map[string]*run)}
}

// cluster returns Config.Cluster, else the cluster of the in-cluster
// configuration or the kubeconfig, loaded once.
func (r *Runner) cluster() (Cluster, error) {
	r.clOnce.Do(func() {
		if r.cfg.Cluster != nil {
			r.cl = r.cfg.Cluster
			return
		}
		rc, err := loadConfig(r.cfg.Kubeconfig)
		if err != nil {
			r.clErr = err
			return
		}
		r.cl, r.clErr = newRESTCluster(rc)
	})
	return r.cl, r.clErr
}

// Available implements runner.Prober: a cluster configuration loads and
// its API server answers.
func (r *Runner) Available(ctx context.Context) error {
	cl, err := r.cluster()
	if err != nil {
		return err
	}
	if _, err := cl.ServerVersion(ctx); err != nil {
		return fmt.Errorf("kubernetes: the API server does not answer: %v", err)
	}
	return ctx.Err()
}

// handleData is the persisted part of a Handle.
type handleData struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Dir       string `json:"dir"`
	FlowRunID string `json:"flow_run_id"`
}

func (d handleData) handle() runner.Handle {
	b, _ := json.Marshal(d)
	return runner.Handle{Type: runner.TypeKubernetes, ID: d.Namespace + "/" + d.Name, Data: b}
}

// Start creates the run's ConfigMap and Job (or adopts those of an earlier
// delivery of the same run and epoch) and waits for the pod to run. When
// it cannot (image pull errors, a missing command, no pod within
// pod_start_timeout_seconds), the Job is deleted and the kubelet's reason
// and message are returned.
func (r *Runner) Start(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	if len(spec.Command) == 0 {
		return runner.Handle{}, errors.New("empty command")
	}
	if spec.Dir == "" {
		return runner.Handle{}, errors.New("a working directory is required")
	}
	if spec.Infra.Type != runner.TypeKubernetes {
		spec.Infra, _ = infra.Parse(&orionv1.Infrastructure{Type: infra.TypeKubernetes})
	}
	cfg := spec.Infra.Kubernetes
	d := handleData{Name: JobName(spec.FlowRunID, spec.Epoch), Namespace: cfg.Namespace, Dir: spec.Dir, FlowRunID: spec.FlowRunID}
	h := d.handle()
	r.mu.Lock()
	if p, ok := r.runs[h.ID]; ok {
		r.mu.Unlock()
		return p.handle, nil
	}
	r.mu.Unlock()
	cl, err := r.cluster()
	if err != nil {
		return runner.Handle{}, err
	}
	job, cm, err := Manifest(spec)
	if err != nil {
		return runner.Handle{}, err
	}
	stateDir := filepath.Join(spec.Dir, StateDirName)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return runner.Handle{}, err
	}
	if err := stamped.WriteJSONAtomic(filepath.Join(stateDir, handleFileName), d); err != nil {
		return runner.Handle{}, err
	}
	log := r.log.With("flow_run_id", spec.FlowRunID, "job", h.ID)
	p := newRun(d, cfg.AutoRemove, cl, log)

	if _, err := cl.CreateConfigMap(ctx, d.Namespace, cm); err != nil && !apierrors.IsAlreadyExists(err) {
		return runner.Handle{}, fmt.Errorf("create ConfigMap %s: %v", h.ID, apiMessage(err))
	}
	created, err := cl.CreateJob(ctx, d.Namespace, job)
	switch {
	case apierrors.IsAlreadyExists(err):
		existing, gerr := cl.GetJob(ctx, d.Namespace, d.Name)
		if gerr != nil {
			return runner.Handle{}, fmt.Errorf("get Job %s: %v", h.ID, apiMessage(gerr))
		}
		if existing.Labels[LabelFlowRunID] != labelValue(spec.FlowRunID) {
			return runner.Handle{}, fmt.Errorf("a Job named %s exists and does not belong to flow run %s: delete it", h.ID, spec.FlowRunID)
		}
		log.Info("adopting the Job of an earlier delivery of this run")
		created = existing
	case err != nil:
		_ = cl.DeleteConfigMap(context.WithoutCancel(ctx), d.Namespace, d.Name)
		return runner.Handle{}, fmt.Errorf("create Job %s: %v", h.ID, apiMessage(err))
	}
	// The ConfigMap goes with the Job when the Job is deleted (by Orion,
	// by its TTL or by hand).
	if cur, err := cl.GetConfigMap(ctx, d.Namespace, d.Name); err == nil && len(cur.OwnerReferences) == 0 {
		cur.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: created.Name, UID: created.UID}}
		if _, err := cl.UpdateConfigMap(ctx, d.Namespace, cur); err != nil {
			log.Debug("cannot make the Job own its ConfigMap", "error", apiMessage(err))
		}
	}

	timeout := time.Duration(cfg.PodStartTimeoutSeconds) * time.Second
	if err := p.awaitStart(ctx, timeout); err != nil {
		p.cleanup(true)
		return runner.Handle{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if other, ok := r.runs[h.ID]; ok { // a concurrent Start won
		p.release()
		return other.handle, nil
	}
	r.runs[h.ID] = p
	go p.supervise(stamped.NewDelivery(stateDir, spec.Output, spec.Sync))
	return h, nil
}

func (r *Runner) lookup(h runner.Handle) (*run, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.runs[h.ID]
	if !ok || h.Type != runner.TypeKubernetes {
		return nil, fmt.Errorf("%w: %s %q", runner.ErrUnknownHandle, h.Type, h.ID)
	}
	return p, nil
}

// Wait blocks until the flow's container terminated and its log was
// delivered, and returns its exit code. An OOMKilled container or a pod
// deleted before its container finished has ExitResult.Err set.
func (r *Runner) Wait(ctx context.Context, h runner.Handle) (runner.ExitResult, error) {
	p, err := r.lookup(h)
	if err != nil {
		return runner.ExitResult{}, err
	}
	return p.exit.Wait(ctx)
}

// Stop deletes the pod with grace as its termination grace period (the
// kubelet sends SIGTERM, then SIGKILL) and the Job with foreground
// propagation, then waits for the container's end to be collected.
func (r *Runner) Stop(ctx context.Context, h runner.Handle, grace time.Duration) error {
	p, err := r.lookup(h)
	if err != nil {
		return err
	}
	if p.exit.Ended() {
		return nil
	}
	if err := p.deleteAll(ctx, grace); err != nil {
		return err
	}
	_, err = p.exit.Wait(ctx)
	return err
}

// Recover finds a Job started by an earlier agent process, without its
// output; see Reattach.
func (r *Runner) Recover(ctx context.Context, h runner.Handle) error {
	return r.Reattach(ctx, h, nil, nil)
}

// Reattach finds a Job started by an earlier agent process and resumes
// delivering its log after the last recorded line. A run whose exit was
// recorded is found from its state directory. It returns
// runner.ErrNotRunning when neither the Job nor a recorded exit exists.
func (r *Runner) Reattach(ctx context.Context, h runner.Handle, out runner.Output, sync func()) error {
	if h.Type != runner.TypeKubernetes {
		return fmt.Errorf("%w: %s %q", runner.ErrUnknownHandle, h.Type, h.ID)
	}
	var d handleData
	if err := json.Unmarshal(h.Data, &d); err != nil {
		return fmt.Errorf("decode kubernetes handle %q: %w", h.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.runs[h.ID]; ok {
		return nil
	}
	stateDir := filepath.Join(d.Dir, StateDirName)
	if r.adoptRecordedExit(h.ID, d, stateDir) {
		return nil
	}
	cl, err := r.cluster()
	if err != nil {
		return err
	}
	job, err := cl.GetJob(ctx, d.Namespace, d.Name)
	if apierrors.IsNotFound(err) {
		// Gone, maybe because an earlier supervisor (an agent process
		// still finishing as this one starts) recorded its exit and
		// deleted it after the first look: then its record is the outcome.
		if r.adoptRecordedExit(h.ID, d, stateDir) {
			return nil
		}
		return runner.ErrNotRunning
	}
	if err != nil {
		return fmt.Errorf("get Job %s: %v", h.ID, apiMessage(err))
	}
	if d.FlowRunID != "" && job.Labels[LabelFlowRunID] != labelValue(d.FlowRunID) {
		return fmt.Errorf("job %s does not belong to flow run %s: %w", h.ID, d.FlowRunID, runner.ErrNotRunning)
	}
	p := newRun(d, job.Annotations[annotationAutoRemove] != "false", cl, r.log.With("flow_run_id", d.FlowRunID, "job", h.ID))
	r.runs[h.ID] = p
	go p.supervise(stamped.NewDelivery(stateDir, out, sync))
	return nil
}

// adoptRecordedExit registers a finished run under id from its recorded
// exit, if any. The caller holds r.mu.
func (r *Runner) adoptRecordedExit(id string, d handleData, stateDir string) bool {
	res, ok := stamped.ReadExit(stateDir)
	if !ok {
		return false
	}
	p := newRun(d, false, nil, r.log)
	p.exit = outcome.Recorded(res)
	r.runs[id] = p
	return true
}

// Locate returns the handle recorded in workdir's state directory, for a
// run whose handle the agent did not get to save.
func (r *Runner) Locate(workdir string) (runner.Handle, error) {
	var d handleData
	if err := stamped.ReadHandle(filepath.Join(workdir, StateDirName, handleFileName), &d); err != nil {
		return runner.Handle{}, err
	}
	d.Dir = workdir
	return d.handle(), nil
}

// Release stops following a Job and forgets the handle; the Job is left
// as it is for a later agent process to recover.
func (r *Runner) Release(h runner.Handle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.runs[h.ID]; ok && h.Type == runner.TypeKubernetes {
		p.release()
		delete(r.runs, h.ID)
	}
}

// apiMessage is the API server's message for an error.
func apiMessage(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Message != "" {
		return se.Status().Message
	}
	return err.Error()
}
