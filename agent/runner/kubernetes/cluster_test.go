package kubernetes

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"

	"github.com/orion-run/orion/agent/runner/runnertest"
)

// jsonBody decodes a recorded request body.
func jsonBody(t *testing.T, r apiRequest) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s: body is not JSON: %v", r, err)
	}
	return m
}

// only returns the single recorded request with method and path.
func only(t *testing.T, api *apiServer, method, path string) apiRequest {
	t.Helper()
	reqs := api.requests(method, path)
	if len(reqs) != 1 {
		t.Fatalf("%s %s: %d requests %v, want 1", method, path, len(reqs), reqs)
	}
	return reqs[0]
}

// nextPod returns the next pod event of w.
func nextPod(t *testing.T, w watch.Interface) (watch.EventType, *corev1.Pod) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("the watch ended")
		}
		pod, isPod := ev.Object.(*corev1.Pod)
		if !isPod {
			t.Fatalf("watch event %s of %T, want a pod", ev.Type, ev.Object)
		}
		return ev.Type, pod
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return "", nil
}

// TestRESTCluster_Calls makes each Cluster call of the REST implementation
// against an HTTP server speaking the Kubernetes API and checks what goes
// over the wire both ways: request paths, query parameters and JSON
// bodies (apiVersion and kind included), 201 on create, Status errors
// decoded into API errors, a pod watch as a chunked stream of events, a
// follow log as a stream read before it ends.
func TestRESTCluster_Calls(t *testing.T) {
	k := newKubelet(t)
	api := newAPIServer(t, k)
	cl := api.cluster(t)
	ctx := runnertest.Ctx(t)
	const ns, name = "ns1", "orion-calls-1"
	sel := metav1.ListOptions{LabelSelector: LabelJob + "=" + name}

	info, err := cl.ServerVersion(ctx)
	if err != nil || info.GitVersion != "v1.37.2" {
		t.Fatalf("server version %+v, %v", info, err)
	}

	// Watch first: the Job's pod arrives as an event.
	w, err := cl.WatchPods(ctx, ns, sel)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if q := only(t, api, "GET", "/api/v1/namespaces/ns1/pods").Query; q != "labelSelector=io.orion%2Fjob%3Dorion-calls-1&watch=true" {
		t.Fatalf("watch query %q", q)
	}

	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string]string{"run-0": "print(1)\n"}}
	if got, err := cl.CreateConfigMap(ctx, ns, cm); err != nil || got.Data["run-0"] != "print(1)\n" {
		t.Fatalf("create ConfigMap: %+v, %v", got, err)
	}
	// The image makes the simulated kubelet leave the pod unscheduled.
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelFlowRunID: "calls"}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{LabelJob: name}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: ContainerName, Image: "orion-test/pending:1"}}}}},
	}
	created, err := cl.CreateJob(ctx, ns, job)
	if err != nil || created.Name != name || created.Labels[LabelFlowRunID] != "calls" {
		t.Fatalf("create Job: %+v, %v", created, err)
	}
	post := only(t, api, "POST", "/apis/batch/v1/namespaces/ns1/jobs")
	if b := jsonBody(t, post); post.Status != http.StatusCreated || b["apiVersion"] != "batch/v1" || b["kind"] != "Job" {
		t.Fatalf("create Job request %s", post)
	}

	typ, pod := nextPod(t, w)
	if typ != watch.Added || pod.Name != name+"-x7k2p" || pod.Labels[LabelJob] != name {
		t.Fatalf("first event %s %s %v", typ, pod.Name, pod.Labels)
	}
	// The kubelet reports the pod unschedulable: the same stream, still open.
	for len(pod.Status.Conditions) == 0 {
		typ, pod = nextPod(t, w)
	}
	if typ != watch.Modified || pod.Status.Conditions[0].Reason != "Unschedulable" {
		t.Fatalf("event %s %+v", typ, pod.Status)
	}

	_, err = cl.CreateJob(ctx, ns, job)
	if !apierrors.IsAlreadyExists(err) || apiMessage(err) != `jobs.batch "orion-calls-1" already exists` {
		t.Fatalf("second create: %v", err)
	}
	if got, err := cl.GetJob(ctx, ns, name); err != nil || got.Labels[LabelFlowRunID] != "calls" || got.Spec.Template.Spec.Containers[0].Image != "orion-test/pending:1" {
		t.Fatalf("get Job: %+v, %v", got, err)
	}
	if _, err := cl.GetJob(ctx, ns, "nope"); !apierrors.IsNotFound(err) || apiMessage(err) != `jobs.batch "nope" not found` {
		t.Fatalf("get a missing Job: %v", err)
	}

	pods, err := cl.ListPods(ctx, ns, sel)
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Name != name+"-x7k2p" {
		t.Fatalf("list pods: %+v, %v", pods, err)
	}

	cur, err := cl.GetConfigMap(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	cur.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: name, UID: created.UID}}
	if _, err := cl.UpdateConfigMap(ctx, ns, cur); err != nil {
		t.Fatal(err)
	}
	if b := jsonBody(t, only(t, api, "PUT", "/api/v1/namespaces/ns1/configmaps/"+name)); b["kind"] != "ConfigMap" || b["apiVersion"] != "v1" {
		t.Fatalf("update ConfigMap body %v", b)
	}
	if got, _ := cl.GetConfigMap(ctx, ns, name); len(got.OwnerReferences) != 1 || got.OwnerReferences[0].Kind != "Job" {
		t.Fatalf("ConfigMap owners %+v", got.OwnerReferences)
	}

	// A follow log is read as it comes: the first line before the second
	// is written.
	pr, pw := io.Pipe()
	gotOpts := make(chan *corev1.PodLogOptions, 1)
	api.setLogs(func(_ context.Context, _, _ string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
		gotOpts <- opts
		return pr, nil
	})
	since := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	rc, err := cl.PodLogs(ctx, ns, name+"-x7k2p", &corev1.PodLogOptions{Container: ContainerName, Follow: true, Timestamps: true, SinceTime: &since})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = pw.Write([]byte("2026-01-02T03:04:05.1Z one\n"))
	}()
	br := bufio.NewReader(rc)
	if line, err := br.ReadString('\n'); err != nil || line != "2026-01-02T03:04:05.1Z one\n" {
		t.Fatalf("first log line %q, %v", line, err)
	}
	go func() {
		_, _ = pw.Write([]byte("2026-01-02T03:04:06.2Z two\n"))
		_ = pw.Close()
	}()
	if rest, err := io.ReadAll(br); err != nil || string(rest) != "2026-01-02T03:04:06.2Z two\n" {
		t.Fatalf("rest of the log %q, %v", rest, err)
	}
	_ = rc.Close()
	want := &corev1.PodLogOptions{Container: ContainerName, Follow: true, Timestamps: true, SinceTime: &since}
	if got := <-gotOpts; !reflect.DeepEqual(got, want) {
		t.Fatalf("log options %+v, want %+v", got, want)
	}
	if q := only(t, api, "GET", "/api/v1/namespaces/ns1/pods/"+name+"-x7k2p/log").Query; q != "container=flow&follow=true&sinceTime=2026-01-02T03%3A04%3A05Z&timestamps=true" {
		t.Fatalf("log query %q", q)
	}
	api.setLogs(k.logs)
	if _, err := cl.PodLogs(ctx, ns, "nope", &corev1.PodLogOptions{Container: ContainerName, Timestamps: true}); !apierrors.IsNotFound(err) {
		t.Fatalf("log of a missing pod: %v", err)
	}

	grace := int64(7)
	if err := cl.DeletePods(ctx, ns, metav1.DeleteOptions{GracePeriodSeconds: &grace}, sel); err != nil {
		t.Fatal(err)
	}
	del := only(t, api, "DELETE", "/api/v1/namespaces/ns1/pods")
	if b := jsonBody(t, del); del.Query != "labelSelector=io.orion%2Fjob%3Dorion-calls-1" || b["kind"] != "DeleteOptions" || b["gracePeriodSeconds"] != 7.0 {
		t.Fatalf("delete pods request %s", del)
	}
	typ, pod = nextPod(t, w)
	for typ != watch.Deleted {
		typ, pod = nextPod(t, w)
	}
	if pod.Name != name+"-x7k2p" {
		t.Fatalf("deleted %s", pod.Name)
	}

	fg := metav1.DeletePropagationForeground
	if err := cl.DeleteJob(ctx, ns, name, metav1.DeleteOptions{GracePeriodSeconds: &grace, PropagationPolicy: &fg}); err != nil {
		t.Fatal(err)
	}
	del = only(t, api, "DELETE", "/apis/batch/v1/namespaces/ns1/jobs/"+name)
	if b := jsonBody(t, del); b["apiVersion"] != "batch/v1" || b["kind"] != "DeleteOptions" || b["propagationPolicy"] != "Foreground" || b["gracePeriodSeconds"] != 7.0 {
		t.Fatalf("delete Job request %s", del)
	}
	if d := k.deletionsOf("jobs"); len(d) != 1 || *d[0].propagation != fg || *d[0].grace != 7 {
		t.Fatalf("job deletions %+v", d)
	}
	if _, err := cl.GetJob(ctx, ns, name); !apierrors.IsNotFound(err) {
		t.Fatalf("get a deleted Job: %v", err)
	}
	if err := cl.DeleteConfigMap(ctx, ns, name); err != nil {
		t.Fatal(err)
	}
	if err := cl.DeleteConfigMap(ctx, ns, name); !apierrors.IsNotFound(err) {
		t.Fatalf("delete a deleted ConfigMap: %v", err)
	}

	w.Stop()
	for range w.ResultChan() {
	}
}

// TestConformanceREST runs the conformance suite through the REST cluster,
// over HTTP to an API server backed by the fake cluster.
func TestConformanceREST(t *testing.T) {
	k := newKubelet(t)
	runnertest.Run(t, conformanceHarness(k, newAPIServer(t, k).cluster(t)))
}

// TestRunner_AdoptsJobOverREST: a second agent process starting the same
// run and epoch gets 409 for the Job and adopts it.
func TestRunner_AdoptsJobOverREST(t *testing.T) {
	k := newKubelet(t)
	api := newAPIServer(t, k)
	c := runnertest.NewCollector()
	spec := startSpec(t, c, `echo ready; sleep 60`, nil)
	r1 := New(Config{Cluster: api.cluster(t)})
	h1, err := r1.Start(runnertest.Ctx(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	c.Await(t, "ready")
	r1.Release(h1)
	r2 := New(Config{Cluster: api.cluster(t)})
	h2, err := r2.Start(runnertest.Ctx(t), spec)
	if err != nil || h2.ID != h1.ID {
		t.Fatalf("second start: %v, %v", h2, err)
	}
	posts := api.requests("POST", "/apis/batch/v1/namespaces/default/jobs")
	if len(posts) != 2 || posts[0].Status != http.StatusCreated || posts[1].Status != http.StatusConflict {
		t.Fatalf("Job creations %v", posts)
	}
	if err := r2.Stop(runnertest.Ctx(t), h2, time.Second); err != nil {
		t.Fatal(err)
	}
	if res, err := r2.Wait(runnertest.Ctx(t), h2); err != nil || res.Success() {
		t.Fatalf("result %s, %v", res, err)
	}
}

// TestRunner_APIErrorMessage: an API error reads the same through both
// clusters (the API server's message, one line).
func TestRunner_APIErrorMessage(t *testing.T) {
	eachCluster(t, func(t *testing.T, k *kubelet, cl Cluster) {
		k.cs.PrependReactor("create", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(corev1.Resource("configmaps"), "",
				errors.New(`User "system:serviceaccount:orion:agent" cannot create resource "configmaps" in API group "" in the namespace "default"`))
		})
		r := New(Config{Cluster: cl})
		_, err := r.Start(runnertest.Ctx(t), startSpec(t, nil, "exit 0", nil))
		want := `create ConfigMap default/orion-testrunner-apierrormessage-` + strings.ToLower(filepath.Base(t.Name())) + `-2: configmaps is forbidden: User "system:serviceaccount:orion:agent" cannot create resource "configmaps" in API group "" in the namespace "default"`
		if err == nil || err.Error() != want {
			t.Fatalf("start: %v\nwant %s", err, want)
		}
	})
}

// TestRunner_AvailableFromKubeconfig: outside a cluster the kubeconfig is
// loaded and the API server's /version answers; a server that does not
// answer is named.
func TestRunner_AvailableFromKubeconfig(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // not in a pod
	k := newKubelet(t)
	api := newAPIServer(t, k)
	kubeconfig := func(server string) string {
		path := filepath.Join(t.TempDir(), "config")
		cfg := `apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "` + server + `"}}]
users: [{name: test, user: {token: secret}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
`
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := New(Config{Kubeconfig: kubeconfig(api.srv.URL)}).Available(runnertest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	if len(api.requests("GET", "/version")) != 1 {
		t.Fatalf("requests %v", api.requests("GET", "/version"))
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	err := New(Config{Kubeconfig: kubeconfig(down.URL)}).Available(runnertest.Ctx(t))
	if err == nil || !strings.HasPrefix(err.Error(), "kubernetes: the API server does not answer: ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("available: %v", err)
	}
	err = New(Config{Kubeconfig: filepath.Join(t.TempDir(), "missing")}).Available(runnertest.Ctx(t))
	if err == nil || !strings.HasPrefix(err.Error(), "kubernetes: no in-cluster configuration and no usable kubeconfig: ") {
		t.Fatalf("available without a configuration: %v", err)
	}
}

// eachCluster runs test twice, each time against a new simulated kubelet:
// through the fake clientset ("Fake") and through the REST cluster over
// HTTP to an API server backed by it ("REST").
func eachCluster(t *testing.T, test func(t *testing.T, k *kubelet, cl Cluster)) {
	t.Helper()
	for _, via := range []string{"Fake", "REST"} {
		t.Run(via, func(t *testing.T) {
			k := newKubelet(t)
			cl := k.cluster()
			if via == "REST" {
				cl = newAPIServer(t, k).cluster(t)
			}
			test(t, k, cl)
		})
	}
}
