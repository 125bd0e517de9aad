package kubernetes

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/internal/outcome"
	"github.com/orion-run/orion/agent/runner/internal/stamped"
)

// rewatchDelay spaces re-established watches (the API server ends them
// now and then; a broken connection ends them at once).
const rewatchDelay = time.Second

// Waiting reasons that mean the container will not start by itself.
var fatalWaiting = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}

// Terminated reasons that mean the container never ran its command.
var startFailures = map[string]bool{"StartError": true, "ContainerCannotRun": true}

// run is one Job being supervised.
type run struct {
	handle     runner.Handle
	data       handleData
	autoRemove bool
	cl         Cluster // nil for a run whose exit was recorded
	log        hclog.Logger

	exit *outcome.Exit

	ctx    context.Context
	cancel context.CancelFunc
}

func newRun(d handleData, autoRemove bool, cl Cluster, log hclog.Logger) *run {
	ctx, cancel := context.WithCancel(context.Background())
	return &run{handle: d.handle(), data: d, autoRemove: autoRemove, cl: cl, log: log,
		exit: outcome.New(), ctx: ctx, cancel: cancel}
}

func (p *run) release() { p.cancel() }

func (p *run) selector() string { return LabelJob + "=" + p.data.Name }

// flowStatus is the flow container's status in pod (nil if none yet).
func flowStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == ContainerName {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// watchPods calls fn with the run's pods: first the current ones, then on
// every change, until fn returns true, ctx ends (its error) or the Job is
// found finished without any pod left (onGone decides the outcome). A
// broken watch is re-established.
func (p *run) watchPods(ctx context.Context, fn func(pod *corev1.Pod, deleted bool) bool, onGone func(job *batchv1.Job) bool) error {
	for {
		// Watch first, then list: nothing that happens in between is
		// missed.
		w, err := p.cl.WatchPods(ctx, p.data.Namespace, metav1.ListOptions{LabelSelector: p.selector()})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Debug("cannot watch pods; retrying", "error", apiMessage(err))
		} else {
			done, err := p.consume(ctx, w, fn, onGone)
			w.Stop()
			if done || err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rewatchDelay):
		}
	}
}

func (p *run) consume(ctx context.Context, w watch.Interface, fn func(*corev1.Pod, bool) bool, onGone func(*batchv1.Job) bool) (bool, error) {
	list, err := p.cl.ListPods(ctx, p.data.Namespace, metav1.ListOptions{LabelSelector: p.selector()})
	if err != nil {
		return false, nil
	}
	for i := range list.Items {
		if fn(&list.Items[i], false) {
			return true, nil
		}
	}
	if len(list.Items) == 0 && onGone != nil {
		job, err := p.cl.GetJob(ctx, p.data.Namespace, p.data.Name)
		if apierrors.IsNotFound(err) {
			if onGone(nil) {
				return true, nil
			}
		} else if err == nil && onGone(job) {
			return true, nil
		}
	}
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil
			}
			pod, isPod := ev.Object.(*corev1.Pod)
			// Watches of some API servers (and client-go's fake) do not
			// filter by label: check it here.
			if !isPod || pod.Labels[LabelJob] != p.data.Name {
				continue
			}
			if fn(pod, ev.Type == watch.Deleted) {
				return true, nil
			}
		}
	}
}

// awaitStart waits until the pod runs, or reports why it cannot.
func (p *run) awaitStart(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var failure error
	var lastPending string
	err := p.watchPods(ctx, func(pod *corev1.Pod, deleted bool) bool {
		if deleted {
			failure = fmt.Errorf("the pod %s was deleted before it ran", pod.Name)
			return true
		}
		st := flowStatus(pod)
		if st != nil {
			if w := st.State.Waiting; w != nil && fatalWaiting[w.Reason] {
				failure = fmt.Errorf("%s: %s", w.Reason, oneLine(w.Message))
				return true
			}
			if t := st.State.Terminated; t != nil && startFailures[t.Reason] {
				failure = fmt.Errorf("%s: %s", t.Reason, oneLine(t.Message))
				return true
			}
		}
		switch pod.Status.Phase {
		case corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed:
			return true
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				lastPending = fmt.Sprintf("%s: %s", c.Reason, oneLine(c.Message))
			}
		}
		return false
	}, func(job *batchv1.Job) bool {
		if job == nil {
			failure = errors.New("the Job was deleted before its pod ran")
			return true
		}
		for _, c := range job.Status.Conditions {
			if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
				failure = fmt.Errorf("the Job failed before its pod ran: %s: %s", c.Reason, oneLine(c.Message))
				return true
			}
		}
		return false
	})
	switch {
	case failure != nil:
		return fmt.Errorf("job %s: %w", p.handle.ID, failure)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		msg := fmt.Sprintf("job %s: no pod ran within %s", p.handle.ID, timeout)
		if lastPending != "" {
			msg += " (" + lastPending + ")"
		}
		return errors.New(msg + "; see kubectl describe job " + p.data.Name + " -n " + p.data.Namespace)
	}
	return err
}

// supervise streams the log and watches the pod until the container
// terminated, then records the exit, deletes the Job (when asked) and
// ends p.exit.
func (p *run) supervise(ld *stamped.Delivery) {
	p.exit.End(p.collectExit(ld))
}

// collect writes the termination message of a pod's flow container into
// the run's directory, as the file the Job's container spec says it is
// (collectedFrom). A container that wrote none leaves no file.
func (p *run) collect(pod *corev1.Pod, t *corev1.ContainerStateTerminated) {
	name, ok := collectedFrom(pod)
	if !ok || t.Message == "" || startFailures[t.Reason] {
		return
	}
	if err := os.WriteFile(filepath.Join(p.data.Dir, name), []byte(t.Message), 0o600); err != nil {
		p.log.Warn("cannot write the collected file", "file", name, "error", err)
	}
}

func (p *run) collectExit(ld *stamped.Delivery) runner.ExitResult {
	logsDone := make(chan struct{})
	podName := make(chan string, 1)
	go func() {
		defer close(logsDone)
		select {
		case name := <-podName:
			p.follow(name, ld)
		case <-p.ctx.Done():
		}
	}()
	var res *runner.ExitResult
	sent, followed := false, ""
	err := p.watchPods(p.ctx, func(pod *corev1.Pod, deleted bool) bool {
		st := flowStatus(pod)
		if !sent && (st != nil && (st.State.Running != nil || st.State.Terminated != nil)) {
			podName <- pod.Name
			sent, followed = true, pod.Name
		}
		if st != nil && st.State.Terminated != nil {
			t := st.State.Terminated
			p.collect(pod, t)
			r := runner.ExitResult{ExitCode: int(t.ExitCode)}
			switch {
			case t.Reason == "OOMKilled":
				r.Err = fmt.Errorf("the container was killed for exceeding its memory limit (OOMKilled, exit code %d)", t.ExitCode)
			case startFailures[t.Reason]:
				r.Err = fmt.Errorf("%s: %s", t.Reason, oneLine(t.Message))
			}
			res = &r
			return true
		}
		if deleted {
			res = &runner.ExitResult{ExitCode: -1, Err: fmt.Errorf("the pod %s was deleted before its container finished", pod.Name)}
			return true
		}
		return false
	}, func(job *batchv1.Job) bool {
		if job == nil {
			res = &runner.ExitResult{ExitCode: -1, Err: fmt.Errorf("the Job %s was deleted before its container finished", p.handle.ID)}
			return true
		}
		for _, c := range job.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				continue
			}
			// The pod is gone (TTL, eviction): the Job's condition is all
			// that is left.
			switch c.Type {
			case batchv1.JobComplete:
				res = &runner.ExitResult{ExitCode: 0}
				return true
			case batchv1.JobFailed:
				res = &runner.ExitResult{ExitCode: -1, Err: fmt.Errorf("the Job failed and its pod is gone: %s: %s", c.Reason, oneLine(c.Message))}
				return true
			}
		}
		return false
	})
	if err != nil || res == nil || p.ctx.Err() != nil { // released
		p.cancel()
		<-logsDone
		return outcome.Released
	}
	if !sent {
		close(podName) // nothing to follow
	}
	if res.Err != nil {
		// Gone, maybe because an earlier agent process collected it in the
		// meantime: then its record is the outcome.
		if rec, ok := stamped.ReadExit(filepath.Join(p.data.Dir, StateDirName)); ok {
			<-logsDone
			return rec
		}
	}
	// The log stream ends when the container terminated; bound the wait in
	// case the API server keeps it open.
	select {
	case <-logsDone:
	case <-time.After(30 * time.Second):
		p.log.Warn("the container's log did not end after it terminated")
	case <-p.ctx.Done():
	}
	if followed != "" && p.ctx.Err() == nil {
		p.drain(followed, ld)
	}
	ld.Finish()
	if err := stamped.WriteExit(filepath.Join(p.data.Dir, StateDirName), *res); err != nil {
		p.log.Warn("cannot record the Job's exit", "error", err)
	}
	if p.autoRemove {
		p.cleanup(false)
	}
	return *res
}

// follow delivers the flow container's log from the recorded position.
func (p *run) follow(pod string, ld *stamped.Delivery) {
	opts := &corev1.PodLogOptions{Container: ContainerName, Follow: true, Timestamps: true, SinceTime: sinceTime(ld.Since())}
	rc, err := p.cl.PodLogs(p.ctx, p.data.Namespace, pod, opts)
	if err != nil {
		if p.ctx.Err() == nil {
			p.log.Warn("cannot follow the pod's log", "error", apiMessage(err))
		}
		return
	}
	defer rc.Close()
	stop := context.AfterFunc(p.ctx, func() { _ = rc.Close() })
	defer stop()
	copyLines(rc, ld.Writer("stdout"))
}

// drain reads the terminated container's log once more from the last
// delivered entry, in case the follow stream ended before its end; entries
// already delivered are skipped.
func (p *run) drain(pod string, ld *stamped.Delivery) {
	ld.Rewind()
	opts := &corev1.PodLogOptions{Container: ContainerName, Timestamps: true, SinceTime: sinceTime(ld.Delivered())}
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	rc, err := p.cl.PodLogs(ctx, p.data.Namespace, pod, opts)
	if err != nil {
		return // the pod may be gone already: what was followed stands
	}
	defer rc.Close()
	copyLines(rc, ld.Writer("stdout"))
}

// sinceTime is the pod-log sinceTime for an engine timestamp: its whole
// second, which the API takes (nil for "" or an unparsable one).
func sinceTime(ts string) *metav1.Time {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil
	}
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

// copyLines writes each line of r to w (one Write a log entry) until r ends.
func copyLines(r io.Reader, w io.Writer) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			_, _ = w.Write(line)
		}
		if err != nil {
			return
		}
	}
}

// deleteAll deletes the pods with grace and the Job with foreground
// propagation (its pods first, then the Job).
func (p *run) deleteAll(ctx context.Context, grace time.Duration) error {
	secs := int64((grace + time.Second - 1) / time.Second)
	err := p.cl.DeletePods(ctx, p.data.Namespace,
		metav1.DeleteOptions{GracePeriodSeconds: &secs}, metav1.ListOptions{LabelSelector: p.selector()})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete the pods of Job %s: %v", p.handle.ID, apiMessage(err))
	}
	fg := metav1.DeletePropagationForeground
	err = p.cl.DeleteJob(ctx, p.data.Namespace, p.data.Name, metav1.DeleteOptions{GracePeriodSeconds: &secs, PropagationPolicy: &fg})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Job %s: %v", p.handle.ID, apiMessage(err))
	}
	return nil
}

// cleanup deletes the Job (its pods with it) and the ConfigMap, logging
// failures. force deletes pods at once.
func (p *run) cleanup(force bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	if force {
		zero := int64(0)
		opts.GracePeriodSeconds = &zero
	}
	if err := p.cl.DeleteJob(ctx, p.data.Namespace, p.data.Name, opts); err != nil && !apierrors.IsNotFound(err) {
		p.log.Warn("cannot delete the Job", "error", apiMessage(err))
	}
	if err := p.cl.DeleteConfigMap(ctx, p.data.Namespace, p.data.Name); err != nil && !apierrors.IsNotFound(err) {
		p.log.Warn("cannot delete the ConfigMap", "error", apiMessage(err))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
