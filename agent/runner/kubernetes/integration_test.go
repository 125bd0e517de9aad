//go:build kubernetes_integration

package kubernetes

import (
	"context"
	"os"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/agent/runner/runnertest"
)

// TestIntegration_Conformance runs the conformance suite against the real
// cluster of $KUBECONFIG (no cluster can run in CI, hence the build tag):
//
//	KUBECONFIG=~/.kube/config go test -tags kubernetes_integration -run Integration ./agent/runner/kubernetes
//
// ORION_TEST_K8S_NAMESPACE (default "default") and ORION_TEST_K8S_IMAGE
// (default busybox:1.36, pulled by the cluster) choose where and what.
func TestIntegration_Conformance(t *testing.T) {
	if os.Getenv("KUBECONFIG") == "" {
		t.Fatal("KUBECONFIG must name the test cluster's kubeconfig")
	}
	ns := os.Getenv("ORION_TEST_K8S_NAMESPACE")
	if ns == "" {
		ns = "default"
	}
	img := os.Getenv("ORION_TEST_K8S_IMAGE")
	if img == "" {
		img = "busybox:1.36"
	}
	// The runners under test use the production REST cluster; the test
	// checks and lists with client-go's typed clientset of the same
	// configuration.
	rc, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := New(Config{}).Available(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err != nil {
		t.Fatalf("namespace %s: %v", ns, err)
	}
	runnertest.Run(t, runnertest.Harness{
		New: func(*testing.T) runner.Runner { return New(Config{}) },
		Prepare: func(t *testing.T, s *runner.Spec) {
			s.Infra = k8sInfra(t, map[string]any{"image": img, "namespace": ns, "pod_start_timeout_seconds": 120})
		},
		MissingImage: func(s *runner.Spec) {
			s.Infra.Kubernetes.Image = "orion-test/no-such-image:1"
			s.Infra.Kubernetes.ImagePullPolicy = "Never"
		},
		MissingImageMessage: "ErrImageNeverPull",
		BadCommandMessage:   "/orion-no-such-command",
		MergedStreams:       true,
		Leftovers: func(t *testing.T, s runner.Spec) []string {
			sel := metav1.ListOptions{LabelSelector: LabelFlowRunID + "=" + labelValue(s.FlowRunID)}
			var out []string
			jobs, _ := cs.BatchV1().Jobs(ns).List(context.Background(), sel)
			for _, j := range jobs.Items {
				out = append(out, "job/"+j.Name)
			}
			pods, _ := cs.CoreV1().Pods(ns).List(context.Background(), sel)
			for _, p := range pods.Items {
				out = append(out, "pod/"+p.Name)
			}
			return out
		},
	})
}
