package kubernetes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// apiServer speaks the Kubernetes API over HTTP for the calls the runner
// makes, backed by a clientset (the fake one of the simulated kubelet) and
// a pod log source: JSON bodies with apiVersion and kind, Status objects
// for errors (with the API server's codes: 201 on create, 404, 409, ...),
// watches as a chunked stream of JSON watch events flushed one by one,
// follow logs as a chunked text stream. It decodes requests with
// encoding/json, not with the runner's codec, so the wire format is
// checked independently. Every request is recorded.
type apiServer struct {
	cs  kubernetes.Interface
	srv *httptest.Server
	// closing ends open watches and log streams before the server closes.
	closing chan struct{}

	mu   sync.Mutex
	logs logSource
	reqs []apiRequest
}

// logSource opens a pod's log.
type logSource func(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)

// apiRequest is a request the server received and the status it answered.
type apiRequest struct {
	Method, Path, Query string
	Body                []byte
	Status              int
}

func (r apiRequest) String() string {
	return fmt.Sprintf("%s %s?%s -> %d %s", r.Method, r.Path, r.Query, r.Status, r.Body)
}

func newAPIServer(t *testing.T, k *kubelet) *apiServer {
	s := &apiServer{cs: k.cs, logs: k.logs, closing: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"major": "1", "minor": "37", "gitVersion": "v1.37.2", "platform": "linux/amd64"})
	})
	const jobs, cms, pods = "/apis/batch/v1/namespaces/{ns}/jobs", "/api/v1/namespaces/{ns}/configmaps", "/api/v1/namespaces/{ns}/pods"
	mux.HandleFunc("POST "+jobs, s.createJob)
	mux.HandleFunc("GET "+jobs+"/{name}", s.getJob)
	mux.HandleFunc("DELETE "+jobs+"/{name}", s.deleteJob)
	mux.HandleFunc("POST "+cms, s.createConfigMap)
	mux.HandleFunc("GET "+cms+"/{name}", s.getConfigMap)
	mux.HandleFunc("PUT "+cms+"/{name}", s.updateConfigMap)
	mux.HandleFunc("DELETE "+cms+"/{name}", s.deleteConfigMap)
	mux.HandleFunc("GET "+pods, s.listOrWatchPods)
	mux.HandleFunc("DELETE "+pods, s.deletePods)
	mux.HandleFunc("GET "+pods+"/{name}/log", s.podLog)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apierrors.NewNotFound(corev1.Resource(""), ""))
	})
	s.srv = httptest.NewServer(s.record(mux))
	t.Cleanup(func() {
		close(s.closing)
		s.srv.Close()
	})
	return s
}

// cluster is the runner's REST cluster of this server. Client-go's
// client-side rate limit (5 requests a second after a burst of 10, as in
// production) is lifted: a conformance run makes a dozen requests per run.
func (s *apiServer) cluster(t *testing.T) Cluster {
	t.Helper()
	cl, err := newRESTCluster(&rest.Config{Host: s.srv.URL, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// setLogs replaces the pod log source (default: the kubelet's).
func (s *apiServer) setLogs(fn logSource) {
	s.mu.Lock()
	s.logs = fn
	s.mu.Unlock()
}

// requests returns the recorded requests with method and path.
func (s *apiServer) requests(method, path string) []apiRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []apiRequest
	for _, r := range s.reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

func (s *apiServer) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusWriter{ResponseWriter: w}
		// Recorded once the status is known (a watch answers 200 long
		// before it ends).
		s.mu.Lock()
		s.reqs = append(s.reqs, apiRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
		idx := len(s.reqs) - 1
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.reqs[idx].Status = sw.status
			s.mu.Unlock()
		}()
		h.ServeHTTP(sw, r)
	})
}

// ctx ends with the request or when the server closes.
func (s *apiServer) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(r.Context())
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers err as the API server does: a Status object with the
// error's code, else an internal error.
func writeError(w http.ResponseWriter, err error) {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		se = apierrors.NewInternalError(err)
	}
	st := se.Status()
	st.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
	st.Status = metav1.StatusFailure
	writeJSON(w, int(st.Code), st)
}

// decode reads a request body of the given apiVersion and kind, as the
// API server checks it.
func decode(r *http.Request, apiVersion, kind string, into any) error {
	body, _ := io.ReadAll(r.Body)
	var tm metav1.TypeMeta
	if err := json.Unmarshal(body, &tm); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if tm.APIVersion != apiVersion || tm.Kind != kind {
		return apierrors.NewBadRequest(fmt.Sprintf("body is %s %s, want %s %s", tm.APIVersion, tm.Kind, apiVersion, kind))
	}
	if err := json.Unmarshal(body, into); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	return nil
}

// deleteOptions reads a DELETE body (client-go sends DeleteOptions of the
// resource's group version).
func deleteOptions(r *http.Request, apiVersion string) (metav1.DeleteOptions, error) {
	var opts metav1.DeleteOptions
	if r.ContentLength == 0 {
		return opts, nil
	}
	err := decode(r, apiVersion, "DeleteOptions", &opts)
	return opts, err
}

var statusSuccess = metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusSuccess}

func (s *apiServer) createJob(w http.ResponseWriter, r *http.Request) {
	var job batchv1.Job
	if err := decode(r, "batch/v1", "Job", &job); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.cs.BatchV1().Jobs(r.PathValue("ns")).Create(r.Context(), &job, metav1.CreateOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	out.TypeMeta = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}
	writeJSON(w, http.StatusCreated, out)
}

func (s *apiServer) getJob(w http.ResponseWriter, r *http.Request) {
	out, err := s.cs.BatchV1().Jobs(r.PathValue("ns")).Get(r.Context(), r.PathValue("name"), metav1.GetOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	out.TypeMeta = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}
	writeJSON(w, http.StatusOK, out)
}

func (s *apiServer) deleteJob(w http.ResponseWriter, r *http.Request) {
	opts, err := deleteOptions(r, "batch/v1")
	if err == nil {
		err = s.cs.BatchV1().Jobs(r.PathValue("ns")).Delete(r.Context(), r.PathValue("name"), opts)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, statusSuccess)
}

func (s *apiServer) createConfigMap(w http.ResponseWriter, r *http.Request) {
	var cm corev1.ConfigMap
	if err := decode(r, "v1", "ConfigMap", &cm); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.cs.CoreV1().ConfigMaps(r.PathValue("ns")).Create(r.Context(), &cm, metav1.CreateOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	out.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	writeJSON(w, http.StatusCreated, out)
}

func (s *apiServer) getConfigMap(w http.ResponseWriter, r *http.Request) {
	out, err := s.cs.CoreV1().ConfigMaps(r.PathValue("ns")).Get(r.Context(), r.PathValue("name"), metav1.GetOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	out.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	writeJSON(w, http.StatusOK, out)
}

func (s *apiServer) updateConfigMap(w http.ResponseWriter, r *http.Request) {
	var cm corev1.ConfigMap
	if err := decode(r, "v1", "ConfigMap", &cm); err != nil {
		writeError(w, err)
		return
	}
	if cm.Name != r.PathValue("name") {
		writeError(w, apierrors.NewBadRequest("the name of the object does not match the name on the URL"))
		return
	}
	out, err := s.cs.CoreV1().ConfigMaps(r.PathValue("ns")).Update(r.Context(), &cm, metav1.UpdateOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	out.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	writeJSON(w, http.StatusOK, out)
}

func (s *apiServer) deleteConfigMap(w http.ResponseWriter, r *http.Request) {
	opts, err := deleteOptions(r, "v1")
	if err == nil {
		err = s.cs.CoreV1().ConfigMaps(r.PathValue("ns")).Delete(r.Context(), r.PathValue("name"), opts)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, statusSuccess)
}

func (s *apiServer) listOrWatchPods(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		writeError(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	opts := metav1.ListOptions{LabelSelector: q.Get("labelSelector"), ResourceVersion: q.Get("resourceVersion")}
	pods := s.cs.CoreV1().Pods(r.PathValue("ns"))
	if q.Get("watch") != "true" {
		out, err := pods.List(r.Context(), opts)
		if err != nil {
			writeError(w, err)
			return
		}
		out.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}
		writeJSON(w, http.StatusOK, out)
		return
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	wt, err := pods.Watch(ctx, opts)
	if err != nil {
		writeError(w, err)
		return
	}
	defer wt.Stop()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	enc := json.NewEncoder(w)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-wt.ResultChan():
			if !ok {
				return
			}
			pod, isPod := ev.Object.(*corev1.Pod)
			// The fake clientset's watch does not filter by label; the API
			// server does.
			if !isPod || !sel.Matches(labels.Set(pod.Labels)) {
				continue
			}
			pod = pod.DeepCopy()
			pod.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
			if err := enc.Encode(map[string]any{"type": ev.Type, "object": pod}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

func (s *apiServer) deletePods(w http.ResponseWriter, r *http.Request) {
	opts, err := deleteOptions(r, "v1")
	if err == nil {
		err = s.cs.CoreV1().Pods(r.PathValue("ns")).DeleteCollection(r.Context(), opts,
			metav1.ListOptions{LabelSelector: r.URL.Query().Get("labelSelector")})
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, statusSuccess)
}

func (s *apiServer) podLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := &corev1.PodLogOptions{Container: q.Get("container")}
	for name, dst := range map[string]*bool{"follow": &opts.Follow, "timestamps": &opts.Timestamps} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				writeError(w, apierrors.NewBadRequest(err.Error()))
				return
			}
			*dst = b
		}
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, apierrors.NewBadRequest(err.Error()))
			return
		}
		mt := metav1.NewTime(t)
		opts.SinceTime = &mt
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	s.mu.Lock()
	logs := s.logs
	s.mu.Unlock()
	rc, err := logs(ctx, r.PathValue("ns"), r.PathValue("name"), opts)
	if err != nil {
		writeError(w, apierrors.NewNotFound(corev1.Resource("pods"), r.PathValue("name")))
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
		if err != nil {
			return
		}
	}
}
