package kubernetes

import (
	"context"
	"io"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// clientsetCluster is the Cluster of a client-go clientset (in these tests
// the fake one). Pod logs come from logs when set: the fake clientset
// serves a fixed text.
type clientsetCluster struct {
	cs   kubernetes.Interface
	logs func(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)
}

var _ Cluster = clientsetCluster{}

func (c clientsetCluster) CreateJob(ctx context.Context, namespace string, job *batchv1.Job) (*batchv1.Job, error) {
	return c.cs.BatchV1().Jobs(namespace).Create(ctx, job, metav1.CreateOptions{})
}

func (c clientsetCluster) GetJob(ctx context.Context, namespace, name string) (*batchv1.Job, error) {
	return c.cs.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (c clientsetCluster) DeleteJob(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) error {
	return c.cs.BatchV1().Jobs(namespace).Delete(ctx, name, opts)
}

func (c clientsetCluster) CreateConfigMap(ctx context.Context, namespace string, cm *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	return c.cs.CoreV1().ConfigMaps(namespace).Create(ctx, cm, metav1.CreateOptions{})
}

func (c clientsetCluster) GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	return c.cs.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (c clientsetCluster) UpdateConfigMap(ctx context.Context, namespace string, cm *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	return c.cs.CoreV1().ConfigMaps(namespace).Update(ctx, cm, metav1.UpdateOptions{})
}

func (c clientsetCluster) DeleteConfigMap(ctx context.Context, namespace, name string) error {
	return c.cs.CoreV1().ConfigMaps(namespace).Delete(ctx, name, metav1.DeleteOptions{})
}

func (c clientsetCluster) ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	return c.cs.CoreV1().Pods(namespace).List(ctx, opts)
}

func (c clientsetCluster) WatchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	return c.cs.CoreV1().Pods(namespace).Watch(ctx, opts)
}

func (c clientsetCluster) DeletePods(ctx context.Context, namespace string, opts metav1.DeleteOptions, listOpts metav1.ListOptions) error {
	return c.cs.CoreV1().Pods(namespace).DeleteCollection(ctx, opts, listOpts)
}

func (c clientsetCluster) PodLogs(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	if c.logs != nil {
		return c.logs(ctx, namespace, pod, opts)
	}
	return c.cs.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
}

func (c clientsetCluster) ServerVersion(context.Context) (*version.Info, error) {
	return c.cs.Discovery().ServerVersion()
}

// cluster is the fake cluster as the runner sees it.
func (k *kubelet) cluster() Cluster { return clientsetCluster{cs: k.cs, logs: k.logs} }
