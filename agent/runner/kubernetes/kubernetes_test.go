package kubernetes

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/structpb"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/runnertest"
	"github.com/orion-run/orion/infra"
)

var update = flag.Bool("update", false, "rewrite the golden manifests")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func k8sInfra(t *testing.T, cfg map[string]any) infra.Config {
	t.Helper()
	s, err := structpb.NewStruct(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := infra.Parse(&orionv1.Infrastructure{Type: "kubernetes", Config: s})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// leftovers lists the run's Jobs, pods and ConfigMaps in the fake cluster.
func (k *kubelet) leftovers(ns, flowRunID string) []string {
	sel := metav1.ListOptions{LabelSelector: LabelFlowRunID + "=" + labelValue(flowRunID)}
	ctx := context.Background()
	var out []string
	if l, err := k.cs.BatchV1().Jobs(ns).List(ctx, sel); err == nil {
		for _, j := range l.Items {
			out = append(out, "job/"+j.Name)
		}
	}
	if l, err := k.cs.CoreV1().Pods(ns).List(ctx, sel); err == nil {
		for _, p := range l.Items {
			out = append(out, "pod/"+p.Name)
		}
	}
	if l, err := k.cs.CoreV1().ConfigMaps(ns).List(ctx, sel); err == nil {
		for _, c := range l.Items {
			out = append(out, "configmap/"+c.Name)
		}
	}
	return out
}

// TestConformance runs the shared runner suite against the fake cluster:
// pod phases, container states, Job conditions, watch events and deletions
// come from the simulated kubelet.
func TestConformance(t *testing.T) {
	k := newKubelet(t)
	runnertest.Run(t, conformanceHarness(k, k.cluster()))
}

// conformanceHarness is the suite's harness for runners on cl, a view of
// the fake cluster k.
func conformanceHarness(k *kubelet, cl Cluster) runnertest.Harness {
	return runnertest.Harness{
		New: func(*testing.T) runner.Runner {
			return New(Config{Cluster: cl})
		},
		Prepare: func(t *testing.T, s *runner.Spec) {
			s.Infra = k8sInfra(t, map[string]any{"image": "orion-test/busybox:1", "namespace": "orion"})
		},
		MissingImage: func(s *runner.Spec) {
			s.Infra.Kubernetes.Image = "orion-test/missing:1"
		},
		MissingImageMessage: `ErrImagePull: failed to pull and unpack image "docker.io/orion-test/missing:1"`,
		BadCommandMessage:   `StartError: failed to create containerd task`,
		MergedStreams:       true,
		Leftovers: func(_ *testing.T, s runner.Spec) []string {
			return k.leftovers("orion", s.FlowRunID)
		},
	}
}

// TestRunner_ReattachSkipsRecordedOutput: the pod-log position recorded
// before a restart (sinceTime plus the entries to skip) is where the second
// runner resumes.
func TestRunner_ReattachSkipsRecordedOutput(t *testing.T) {
	eachCluster(t, func(t *testing.T, k *kubelet, cl Cluster) {
		runnertest.ReattachSkipsRecorded(t, runnertest.Harness{
			New: func(*testing.T) runner.Runner { return New(Config{Cluster: cl}) },
			Prepare: func(t *testing.T, s *runner.Spec) {
				s.Infra = k8sInfra(t, map[string]any{"image": "orion-test/busybox:1"})
			},
		}, 512)
	})
}

func startSpec(t *testing.T, c *runnertest.Collector, script string, cfg map[string]any) runner.Spec {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".orion-parameters.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := runner.Spec{FlowRunID: strings.ToLower(strings.ReplaceAll(t.Name(), "_", "-")), Epoch: 2, Command: []string{"sh", "-c", script},
		Env: []string{"PATH=/usr/bin:/bin"}, Dir: dir, Infra: k8sInfra(t, cfg)}
	if c != nil {
		s.Output = c.Output
	}
	return s
}

// TestRunner_CancelDeletesJobWithPropagation: Stop deletes the pods with
// the grace period and the Job with foreground propagation.
func TestRunner_CancelDeletesJobWithPropagation(t *testing.T) {
	eachCluster(t, func(t *testing.T, k *kubelet, cl Cluster) {
		r := New(Config{Cluster: cl})
		c := runnertest.NewCollector()
		spec := startSpec(t, c, `trap 'echo bye; exit 0' TERM; echo ready; sleep 60 & wait`, map[string]any{"namespace": "ns1"})
		h, err := r.Start(runnertest.Ctx(t), spec)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release(h)
		c.Await(t, "ready")
		if err := r.Stop(runnertest.Ctx(t), h, 7*time.Second); err != nil {
			t.Fatal(err)
		}
		// Stop's own deletion is foreground with the grace; the clean-up
		// after the pod ended (background) may come before it when the
		// flow exits fast on SIGTERM.
		jobs := k.deletionsOf("jobs")
		stopped := false
		for _, j := range jobs {
			stopped = stopped || (j.propagation != nil && *j.propagation == metav1.DeletePropagationForeground && j.grace != nil && *j.grace == 7)
		}
		if !stopped {
			t.Fatalf("job deletions %+v, want one with foreground propagation and grace 7", jobs)
		}
		pods := k.deletionsOf("pods")
		if len(pods) == 0 || pods[0].grace == nil || *pods[0].grace != 7 {
			t.Fatalf("pod deletions %+v, want grace 7", pods)
		}
		if res, _ := r.Wait(runnertest.Ctx(t), h); res.ExitCode != 0 || c.Lines("")[1] != "bye" {
			t.Fatalf("result %s, output %q", res, c.Lines(""))
		}
	})
}

// TestRunner_UnschedulablePodTimesOut: a pod that never schedules fails
// Start after pod_start_timeout_seconds with the scheduler's reason, and
// the Job is deleted.
func TestRunner_UnschedulablePodTimesOut(t *testing.T) {
	eachCluster(t, func(t *testing.T, k *kubelet, cl Cluster) {
		r := New(Config{Cluster: cl})
		spec := startSpec(t, nil, "exit 0", map[string]any{"image": "orion-test/pending:1", "pod_start_timeout_seconds": 1})
		_, err := r.Start(runnertest.Ctx(t), spec)
		if err == nil || !strings.Contains(err.Error(), "no pod ran within 1s (Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.)") {
			t.Fatalf("start: %v", err)
		}
		if d := k.deletionsOf("jobs"); len(d) != 1 {
			t.Fatalf("job deletions %+v", d)
		}
	})
}

// TestRunner_PodDeletedExternally: a pod deleted by someone else ends the
// run with an error (CRASHED), not a success.
func TestRunner_JobVanishes(t *testing.T) {
	eachCluster(t, func(t *testing.T, k *kubelet, cl Cluster) {
		r := New(Config{Cluster: cl})
		c := runnertest.NewCollector()
		spec := startSpec(t, c, `trap '' TERM; echo ready; while :; do sleep 1; done`, nil)
		h, err := r.Start(runnertest.Ctx(t), spec)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release(h)
		c.Await(t, "ready")
		// kubectl delete pod --grace-period=0
		zero := int64(0)
		pods, _ := k.cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
		if err := k.cs.CoreV1().Pods("default").Delete(context.Background(), pods.Items[0].Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		res, err := r.Wait(runnertest.Ctx(t), h)
		if err != nil || res.Success() || res.ExitCode != 137 {
			t.Fatalf("result %s %v, want the kubelet's exit code 137", res, err)
		}
	})
}

// TestRunner_CollectsTheResultFile: the file named by Spec.Collect comes
// back as the container's termination message, and the container is told
// the bound it must write within.
func TestRunner_CollectsTheResultFile(t *testing.T) {
	eachCluster(t, func(t *testing.T, k *kubelet, cl Cluster) {
		r := New(Config{Cluster: cl})
		result := `{"state": "FAILED", "message": "ValueError: boom"}`
		spec := startSpec(t, nil, `test "$ORION_RESULT_MAX_BYTES" = 4096 || exit 9; echo '`+result+`' > .orion-result.json; exit 1`, nil)
		spec.Collect = []string{".orion-result.json"}
		h, err := r.Start(runnertest.Ctx(t), spec)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release(h)
		res, err := r.Wait(runnertest.Ctx(t), h)
		if err != nil || res.ExitCode != 1 {
			t.Fatalf("result %s %v, want exit code 1", res, err)
		}
		b, err := os.ReadFile(filepath.Join(spec.Dir, ".orion-result.json"))
		if err != nil || strings.TrimSpace(string(b)) != result {
			t.Fatalf("collected %q, %v; want %s", b, err, result)
		}
	})
}

// TestRunner_CollectsNothingUnasked: without Spec.Collect (or when the
// container wrote nothing), no file appears in the run's directory.
func TestRunner_CollectsNothingUnasked(t *testing.T) {
	r := New(Config{Cluster: newKubelet(t).cluster()})
	spec := startSpec(t, nil, `echo '{}' > .orion-result.json`, nil)
	h, err := r.Start(runnertest.Ctx(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(h)
	if res, err := r.Wait(runnertest.Ctx(t), h); err != nil || !res.Success() {
		t.Fatalf("result %s %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(spec.Dir, ".orion-result.json")); !os.IsNotExist(err) {
		t.Fatalf("a file was collected without Spec.Collect: %v", err)
	}
}

// TestManifest_Golden compares the generated Job and ConfigMap with
// testdata/*.golden.yaml (go test -run Golden -update rewrites them).
func TestManifest_Golden(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "flow.py"), []byte("from prefect import flow\n"), 0o600))
	must(os.WriteFile(filepath.Join(dir, ".orion-parameters.json"), []byte(`{"name": "Marvin"}`), 0o600))
	must(os.MkdirAll(filepath.Join(dir, StateDirName), 0o700))
	must(os.WriteFile(filepath.Join(dir, StateDirName, "job.json"), []byte(`{}`), 0o600))
	rt := t.TempDir()
	must(os.MkdirAll(filepath.Join(rt, "orion", "runtime"), 0o755))
	must(os.WriteFile(filepath.Join(rt, "orion", "__init__.py"), []byte("# orion\n"), 0o600))
	must(os.WriteFile(filepath.Join(rt, "orion", "runtime", "run.py"), []byte("# run\n"), 0o600))
	// The host's bytecode stays out of the ConfigMap (the golden file has none).
	must(os.MkdirAll(filepath.Join(rt, "orion", runner.BytecodeDirName), 0o755))
	must(os.WriteFile(filepath.Join(rt, "orion", runner.BytecodeDirName, "__init__.cpython-311.pyc"), []byte("pyc"), 0o600))
	spec := runner.Spec{
		FlowRunID: "4b6c0f0e-8d1a-4c35-9a57-1f2e3d4c5b6a", Epoch: 3, FlowRunName: "messy-petrel",
		FlowName: "hello-world", DeploymentID: "dep-1", DeploymentName: "hello-world-daily",
		Command: []string{"python3", "-u", "-m", "orion.runtime.run", "--flow-file", "/orion/run/flow.py"},
		Env:     []string{"ORION_API_URL=http://orion:4200", "PYTHONPATH=/orion/runtime"},
		Dir:     dir, RuntimeDir: rt, Collect: []string{".orion-result.json"},
		Infra: k8sInfra(t, map[string]any{
			"image": "python:3.12-slim", "namespace": "flows", "labels": map[string]any{"team": "data"},
			"image_pull_policy": "IfNotPresent", "service_account_name": "orion-flows",
			"resources":                  map[string]any{"requests": map[string]any{"cpu": "250m", "memory": "128Mi"}, "limits": map[string]any{"memory": "1Gi"}},
			"ttl_seconds_after_finished": 600,
		}),
	}
	job, cm, err := Manifest(spec)
	must(err)
	for name, obj := range map[string]any{"job.golden.yaml": job, "configmap.golden.yaml": cm} {
		got, err := yaml.Marshal(obj)
		must(err)
		path := filepath.Join("testdata", name)
		if *update {
			must(os.MkdirAll("testdata", 0o755))
			must(os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		must(err)
		if string(got) != string(want) {
			t.Errorf("%s differs from the generated manifest (run with -update to accept):\n%s", path, got)
		}
	}
	if job.Name != "orion-4b6c0f0e-8d1a-4c35-9a57-1f2e3d4c5b6a-3" || *job.Spec.BackoffLimit != 0 {
		t.Fatalf("job %s backoff %d", job.Name, *job.Spec.BackoffLimit)
	}
}

func TestJobName(t *testing.T) {
	long := strings.Repeat("A_b", 40)
	n := JobName(long, 12)
	if len(n) > 63 || strings.ToLower(n) != n || !strings.HasSuffix(n, "-12") || strings.Contains(n, "_") {
		t.Fatalf("JobName = %q", n)
	}
	if JobName("run", 1) == JobName("run", 2) {
		t.Fatal("epochs share a name")
	}
}

// collectingCluster holds a supervisor's final log read (the drain after
// the container ended) until gate closes, and reports when it deleted the
// Job.
type collectingCluster struct {
	Cluster
	draining, gate, deleted chan struct{}
	drainOnce, deleteOnce   sync.Once
}

func (c *collectingCluster) PodLogs(ctx context.Context, ns, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	if !opts.Follow {
		c.drainOnce.Do(func() { close(c.draining) })
		select {
		case <-c.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return c.Cluster.PodLogs(ctx, ns, pod, opts)
}

func (c *collectingCluster) DeleteJob(ctx context.Context, ns, name string, opts metav1.DeleteOptions) error {
	err := c.Cluster.DeleteJob(ctx, ns, name, opts)
	c.deleteOnce.Do(func() { close(c.deleted) })
	return err
}

// lateCluster makes GetJob wait for ready, after saying it was called.
type lateCluster struct {
	Cluster
	called, ready chan struct{}
	once          sync.Once
}

func (c *lateCluster) GetJob(ctx context.Context, ns, name string) (*batchv1.Job, error) {
	c.once.Do(func() { close(c.called) })
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return c.Cluster.GetJob(ctx, ns, name)
}

// TestRunner_ReattachWhileEarlierSupervisorCollects: a runner that reattaches
// while an earlier one (an agent process still finishing) records the exit
// and deletes the Job between the reattaching runner's look at the record
// and its look at the Job takes the recorded exit instead of reporting the
// run gone.
func TestRunner_ReattachWhileEarlierSupervisorCollects(t *testing.T) {
	k := newKubelet(t)
	first := &collectingCluster{Cluster: k.cluster(), draining: make(chan struct{}), gate: make(chan struct{}), deleted: make(chan struct{})}
	r1 := New(Config{Cluster: first})
	c := runnertest.NewCollector()
	spec := startSpec(t, c, `echo done; exit 6`, nil)
	h, err := r1.Start(runnertest.Ctx(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Release(h)
	ctx := runnertest.Ctx(t)
	await := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		}
	}
	await(first.draining, "the container's end") // its exit is not recorded yet

	second := &lateCluster{Cluster: k.cluster(), called: make(chan struct{}), ready: first.deleted}
	r2 := New(Config{Cluster: second})
	defer r2.Release(h)
	reattached := make(chan error, 1)
	go func() { reattached <- r2.Reattach(ctx, h, nil, nil) }()
	await(second.called, "the Job's lookup") // no record seen
	close(first.gate)
	if err := <-reattached; err != nil {
		t.Fatalf("reattach: %v", err)
	}
	for _, r := range []*Runner{r1, r2} {
		if res, err := r.Wait(runnertest.Ctx(t), h); err != nil || res.ExitCode != 6 {
			t.Fatalf("result %s, %v, want exit code 6", res, err)
		}
	}
}
