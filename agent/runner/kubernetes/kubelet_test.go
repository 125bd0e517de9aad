package kubernetes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/orion-run/orion/agent/runner"
)

// kubelet plays the Job controller and the kubelet against client-go's
// fake clientset, which stores objects but runs nothing: for every Job it
// creates a pod, writes the ConfigMap's files into a directory (as the
// volume mounts would), runs the container's command there as a local
// process with the pod's env, serves its output as the pod's log
// (timestamped, stdout and stderr merged, as the API server does), and
// moves the pod through Pending, Running and Succeeded/Failed with the
// container's exit code. Deleting a pod (or its Job with propagation)
// sends SIGTERM, then SIGKILL after the grace period, records the
// container's termination and removes the pod, as a kubelet would.
//
// Images: "missing" in the name gives ErrImagePull; "pending" leaves the
// pod unscheduled.
type kubelet struct {
	t  *testing.T
	cs *fake.Clientset

	mu        sync.Mutex
	pods      map[string]*simPod // by pod name
	deletions []deletion         // every delete the runner sent
	stopped   chan struct{}
	wg        sync.WaitGroup
}

type deletion struct {
	resource    string
	name        string
	grace       *int64
	propagation *metav1.DeletionPropagation
	collection  bool
}

type simPod struct {
	name, ns string
	cmd      *exec.Cmd
	dir      string
	log      *podLog
	exited   chan struct{}
	deleted  bool
}

// podLog is a pod's log: timestamped lines, followed until the container
// ended.
type podLog struct {
	mu    sync.Mutex
	cond  *sync.Cond
	lines [][]byte
	ended bool
}

func newPodLog() *podLog {
	l := &podLog{}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Write timestamps each line (the writers of both streams share it).
func (l *podLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if n := len(l.lines); n > 0 && !bytes.HasSuffix(l.lines[n-1], []byte("\n")) {
			l.lines[n-1] = append(l.lines[n-1], line...)
			continue
		}
		ts := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
		l.lines = append(l.lines, append([]byte(ts+" "), line...))
	}
	l.cond.Broadcast()
	return len(p), nil
}

func (l *podLog) end() {
	l.mu.Lock()
	l.ended = true
	l.cond.Broadcast()
	l.mu.Unlock()
}

// reader follows the log from since (second precision, as the API).
type logReader struct {
	l     *podLog
	next  int
	since time.Time
	buf   []byte
	ctx   context.Context
}

func (r *logReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		r.l.mu.Lock()
		for r.next >= len(r.l.lines) && !r.l.ended && r.ctx.Err() == nil {
			r.l.cond.Wait()
		}
		if r.ctx.Err() != nil {
			r.l.mu.Unlock()
			return 0, r.ctx.Err()
		}
		if r.next >= len(r.l.lines) {
			r.l.mu.Unlock()
			return 0, io.EOF
		}
		line := r.l.lines[r.next]
		// An incomplete last line is served once complete or at the end.
		if !bytes.HasSuffix(line, []byte("\n")) && !r.l.ended {
			r.l.cond.Wait()
			r.l.mu.Unlock()
			continue
		}
		r.next++
		r.l.mu.Unlock()
		ts, _, _ := bytes.Cut(line, []byte(" "))
		if t, err := time.Parse(time.RFC3339Nano, string(ts)); err == nil && t.Before(r.since) {
			continue
		}
		r.buf = append(r.buf, line...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func newKubelet(t *testing.T) *kubelet {
	k := &kubelet{t: t, cs: fake.NewClientset(), pods: map[string]*simPod{}, stopped: make(chan struct{})}
	k.cs.PrependReactor("delete", "pods", k.onDeletePod)
	k.cs.PrependReactor("delete-collection", "pods", k.onDeletePods)
	k.cs.PrependReactor("delete", "jobs", k.onDeleteJob)
	w, err := k.cs.BatchV1().Jobs("").Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		for {
			select {
			case <-k.stopped:
				w.Stop()
				return
			case ev := <-w.ResultChan():
				if job, ok := ev.Object.(*batchv1.Job); ok && ev.Type == watch.Added {
					k.startPod(job)
				}
			}
		}
	}()
	t.Cleanup(k.close)
	return k
}

func (k *kubelet) close() {
	close(k.stopped)
	k.mu.Lock()
	for _, p := range k.pods {
		if p.cmd != nil && p.cmd.Process != nil {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	k.mu.Unlock()
	k.wg.Wait()
}

// logs is the runner's LogStreamer.
func (k *kubelet) logs(ctx context.Context, ns, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	k.mu.Lock()
	p := k.pods[pod]
	k.mu.Unlock()
	if p == nil || p.log == nil {
		return nil, fmt.Errorf("pods %q not found", pod)
	}
	if opts.Container != ContainerName || !opts.Timestamps {
		return nil, fmt.Errorf("unexpected log options %+v", opts)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &logReader{l: p.log, ctx: ctx}
	if opts.SinceTime != nil {
		r.since = opts.SinceTime.Time
	}
	stop := context.AfterFunc(ctx, func() {
		p.log.mu.Lock()
		p.log.cond.Broadcast()
		p.log.mu.Unlock()
	})
	return readCloser{r, func() { stop(); cancel() }}, nil
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }

func (k *kubelet) update(pod *corev1.Pod) {
	if _, err := k.cs.CoreV1().Pods(pod.Namespace).UpdateStatus(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		k.t.Logf("kubelet: update pod %s: %v", pod.Name, err)
	}
}

func (k *kubelet) setJobCondition(ns, name string, typ batchv1.JobConditionType) {
	job, err := k.cs.BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return
	}
	job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{Type: typ, Status: corev1.ConditionTrue, Reason: string(typ)})
	_, _ = k.cs.BatchV1().Jobs(ns).UpdateStatus(context.Background(), job, metav1.UpdateOptions{})
}

// startPod is the Job controller plus the kubelet for one Job.
func (k *kubelet) startPod(job *batchv1.Job) {
	tmpl := job.Spec.Template
	c := tmpl.Spec.Containers[0]
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-x7k2p", Namespace: job.Namespace, Labels: tmpl.Labels},
		Spec:       tmpl.Spec,
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	pod, err := k.cs.CoreV1().Pods(job.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		k.t.Errorf("kubelet: create pod: %v", err)
		return
	}
	sp := &simPod{name: pod.Name, ns: pod.Namespace, exited: make(chan struct{})}
	k.mu.Lock()
	k.pods[pod.Name] = sp
	k.mu.Unlock()
	waiting := func(reason, msg string) {
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName, Image: c.Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
		k.update(pod)
	}
	switch {
	case strings.Contains(c.Image, "pending"):
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: "Unschedulable", Message: "0/3 nodes are available: 3 Insufficient cpu."}}
		k.update(pod)
		return
	case strings.Contains(c.Image, "missing"):
		waiting("ContainerCreating", "")
		waiting("ErrImagePull", fmt.Sprintf(`failed to pull and unpack image "docker.io/%s": pull access denied, repository does not exist or may require authorization`, c.Image))
		return
	}
	waiting("ContainerCreating", "")
	// The volume mounts: ConfigMap files at their subPath in the emptyDir.
	cm, err := k.cs.CoreV1().ConfigMaps(job.Namespace).Get(context.Background(), job.Name, metav1.GetOptions{})
	if err != nil {
		k.t.Errorf("kubelet: the Job's ConfigMap: %v", err)
		return
	}
	dir := k.t.TempDir()
	for _, m := range c.VolumeMounts {
		if m.Name == "files" {
			rel := strings.TrimPrefix(m.MountPath, runner.ContainerWorkDir+"/")
			data := []byte(cm.Data[m.SubPath])
			if data == nil {
				data = cm.BinaryData[m.SubPath]
			}
			_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, rel), data, 0o644); err != nil {
				k.t.Errorf("kubelet: %v", err)
			}
		}
	}
	env := make([]string, 0, len(c.Env))
	for _, e := range c.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	path, err := exec.LookPath(c.Command[0])
	if err != nil || (strings.Contains(c.Command[0], "/") && !fileExists(c.Command[0])) {
		msg := fmt.Sprintf(`failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: %q: stat %s: no such file or directory: unknown`, c.Command[0], c.Command[0])
		pod.Status.Phase = corev1.PodFailed
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: msg}}}}
		k.update(pod)
		k.setJobCondition(job.Namespace, job.Name, batchv1.JobFailed)
		return
	}
	sp.log = newPodLog()
	sp.dir = dir
	sp.cmd = &exec.Cmd{Path: path, Args: c.Command, Env: env, Dir: dir, Stdout: sp.log, Stderr: sp.log,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	if err := sp.cmd.Start(); err != nil {
		k.t.Errorf("kubelet: start: %v", err)
		return
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName, Ready: true,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}
	k.update(pod)
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		err := sp.cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ws := ee.Sys().(syscall.WaitStatus)
			code = ws.ExitStatus()
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
		sp.log.end()
		// A finished container's status, as the kubelet reports it.
		cur, err := k.cs.CoreV1().Pods(pod.Namespace).Get(context.Background(), pod.Name, metav1.GetOptions{})
		if err == nil {
			cur.Status.Phase = corev1.PodSucceeded
			reason := "Completed"
			if code != 0 {
				cur.Status.Phase, reason = corev1.PodFailed, "Error"
			}
			cur.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: int32(code), Reason: reason,
					Message: terminationMessage(c, dir)}}}}
			k.update(cur)
			cond := batchv1.JobComplete
			if code != 0 {
				cond = batchv1.JobFailed
			}
			k.setJobCondition(pod.Namespace, job.Name, cond)
		}
		close(sp.exited)
	}()
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// terminationMessage is what the kubelet reports of a terminated
// container's termination message file (policy File): at most 4096 bytes
// of it. Only paths in the working directory are simulated.
func terminationMessage(c corev1.Container, dir string) string {
	rel, ok := strings.CutPrefix(c.TerminationMessagePath, runner.ContainerWorkDir+"/")
	if !ok {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return ""
	}
	return string(b[:min(len(b), 4096)])
}

// terminate stops a pod's process as the kubelet does: SIGTERM, SIGKILL
// after grace, then removes the pod once its termination was recorded.
func (k *kubelet) terminate(ns, name string, grace int64) {
	k.mu.Lock()
	sp := k.pods[name]
	if sp == nil || sp.deleted {
		k.mu.Unlock()
		return
	}
	sp.deleted = true
	k.mu.Unlock()
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		if sp.cmd != nil && sp.cmd.Process != nil {
			_ = syscall.Kill(-sp.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-sp.exited:
			case <-time.After(time.Duration(grace) * time.Second):
				_ = syscall.Kill(-sp.cmd.Process.Pid, syscall.SIGKILL)
				<-sp.exited
			}
		}
		gvr := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
		_ = k.cs.Tracker().Delete(gvr, ns, name)
	}()
}

func (k *kubelet) record(d deletion) {
	k.mu.Lock()
	k.deletions = append(k.deletions, d)
	k.mu.Unlock()
}

func graceOf(opts metav1.DeleteOptions) int64 {
	if opts.GracePeriodSeconds != nil {
		return *opts.GracePeriodSeconds
	}
	return 30
}

func (k *kubelet) onDeletePod(a k8stesting.Action) (bool, runtime.Object, error) {
	da := a.(k8stesting.DeleteActionImpl)
	k.record(deletion{resource: "pods", name: da.Name, grace: da.DeleteOptions.GracePeriodSeconds})
	k.terminate(da.Namespace, da.Name, graceOf(da.DeleteOptions))
	return true, nil, nil
}

func (k *kubelet) onDeletePods(a k8stesting.Action) (bool, runtime.Object, error) {
	da := a.(k8stesting.DeleteCollectionActionImpl)
	k.record(deletion{resource: "pods", grace: da.DeleteOptions.GracePeriodSeconds, collection: true})
	sel, err := labels.Parse(da.ListOptions.LabelSelector)
	if err != nil {
		return true, nil, err
	}
	for _, p := range k.trackedPods(da.Namespace) {
		if sel.Matches(labels.Set(p.Labels)) {
			k.terminate(p.Namespace, p.Name, graceOf(da.DeleteOptions))
		}
	}
	return true, nil, nil
}

// trackedPods lists pods straight from the tracker: reactors run under the
// fake clientset's lock, so they must not call the clientset.
func (k *kubelet) trackedPods(ns string) []corev1.Pod {
	obj, err := k.cs.Tracker().List(schema.GroupVersionResource{Version: "v1", Resource: "pods"},
		schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, ns)
	if err != nil {
		return nil
	}
	return obj.(*corev1.PodList).Items
}

// onDeleteJob plays the garbage collector: the Job's pods are terminated
// (with the delete's grace) and, with foreground propagation, the Job goes
// once they are gone.
func (k *kubelet) onDeleteJob(a k8stesting.Action) (bool, runtime.Object, error) {
	da := a.(k8stesting.DeleteActionImpl)
	k.record(deletion{resource: "jobs", name: da.Name, grace: da.DeleteOptions.GracePeriodSeconds, propagation: da.DeleteOptions.PropagationPolicy})
	for _, p := range k.trackedPods(da.Namespace) {
		if p.Labels[LabelJob] == da.Name {
			k.terminate(p.Namespace, p.Name, graceOf(da.DeleteOptions))
		}
	}
	return false, nil, nil // the tracker deletes the Job itself
}

// deletionsOf returns the recorded deletes of a resource.
func (k *kubelet) deletionsOf(resource string) []deletion {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []deletion
	for _, d := range k.deletions {
		if d.resource == resource {
			out = append(out, d)
		}
	}
	return out
}
