package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Cluster is the part of the Kubernetes API the runner uses: batch/v1 Jobs,
// and core/v1 ConfigMaps and pods in a namespace, plus the API server's
// version as a health check. Errors from the API server are
// *apierrors.StatusError, so apierrors.IsNotFound and IsAlreadyExists
// apply to them.
//
// The runner's own implementation talks to the API server through
// client-go's REST client with a codec for those two API groups only; it
// does not link client-go's typed clientset (k8s.io/client-go/kubernetes),
// whose every API group and scheme would cost each orion process, server
// and CLI included, some 20 MB of memory. Tests implement it over the fake
// clientset.
type Cluster interface {
	// CreateJob creates job in namespace and returns the stored Job.
	CreateJob(ctx context.Context, namespace string, job *batchv1.Job) (*batchv1.Job, error)
	// GetJob returns a Job.
	GetJob(ctx context.Context, namespace, name string) (*batchv1.Job, error)
	// DeleteJob deletes a Job; opts carry the grace period and the
	// propagation policy.
	DeleteJob(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) error

	// CreateConfigMap creates cm in namespace.
	CreateConfigMap(ctx context.Context, namespace string, cm *corev1.ConfigMap) (*corev1.ConfigMap, error)
	// GetConfigMap returns a ConfigMap.
	GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	// UpdateConfigMap replaces a ConfigMap (cm.ResourceVersion guards it).
	UpdateConfigMap(ctx context.Context, namespace string, cm *corev1.ConfigMap) (*corev1.ConfigMap, error)
	// DeleteConfigMap deletes a ConfigMap.
	DeleteConfigMap(ctx context.Context, namespace, name string) error

	// ListPods lists the pods matching opts (label selector).
	ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error)
	// WatchPods watches the pods matching opts (label selector, resource
	// version); the events' objects are *corev1.Pod (or *metav1.Status
	// for an error event).
	WatchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
	// DeletePods deletes the pods matching listOpts with opts (grace).
	DeletePods(ctx context.Context, namespace string, opts metav1.DeleteOptions, listOpts metav1.ListOptions) error
	// PodLogs opens a container's log; the caller closes it. opts.Follow
	// keeps it open until the container ends.
	PodLogs(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)

	// ServerVersion returns the API server's version.
	ServerVersion(ctx context.Context) (*version.Info, error)
}

// loadConfig returns the in-cluster configuration, else the kubeconfig's
// (kubeconfig, else $KUBECONFIG, else ~/.kube/config).
func loadConfig(kubeconfig string) (*rest.Config, error) {
	rc, err := rest.InClusterConfig()
	if err != nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if kubeconfig != "" {
			rules.ExplicitPath = kubeconfig
		}
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes: no in-cluster configuration and no usable kubeconfig: %v", err)
	}
	return rc, nil
}

// codec serializes the two API groups the runner uses (and metav1's
// options, Status and watch events).
type codec struct {
	serializer runtime.NegotiatedSerializer
	parameters runtime.ParameterCodec // options as query parameters
}

// newCodec builds the codec on first use, so that processes that never
// reach a cluster do not pay for it.
var newCodec = sync.OnceValue(func() codec {
	s := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(s))
	utilruntime.Must(batchv1.AddToScheme(s))
	// Status and the other unversioned types, as client-go's scheme has
	// them.
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return codec{
		serializer: rest.CodecFactoryForGeneratedClient(s, serializer.NewCodecFactory(s)).WithoutConversion(),
		parameters: runtime.NewParameterCodec(s),
	}
})

// restCluster is the Cluster of an API server, through client-go's REST
// client: one client per API group, sharing one HTTP client (and so its
// connections), as client-go's typed clientset does.
type restCluster struct {
	core   rest.Interface // core/v1, at /api
	batch  rest.Interface // batch/v1, at /apis
	params runtime.ParameterCodec
}

var _ Cluster = (*restCluster)(nil)

// newRESTCluster returns the Cluster that rc points to.
func newRESTCluster(rc *rest.Config) (*restCluster, error) {
	cfg := rest.CopyConfig(rc)
	if cfg.UserAgent == "" {
		cfg.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	cd := newCodec()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %v", err)
	}
	core, err := groupClient(cfg, hc, cd.serializer, "/api", corev1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	batch, err := groupClient(cfg, hc, cd.serializer, "/apis", batchv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	return &restCluster{core: core, batch: batch, params: cd.parameters}, nil
}

func groupClient(cfg *rest.Config, hc *http.Client, ns runtime.NegotiatedSerializer, apiPath string, gv schema.GroupVersion) (*rest.RESTClient, error) {
	c := *cfg
	c.APIPath = apiPath
	c.GroupVersion = &gv
	c.NegotiatedSerializer = ns
	rc, err := rest.RESTClientForConfigAndClient(&c, hc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %v", err)
	}
	return rc, nil
}

func (c *restCluster) CreateJob(ctx context.Context, namespace string, job *batchv1.Job) (*batchv1.Job, error) {
	out := &batchv1.Job{}
	err := c.batch.Post().Namespace(namespace).Resource("jobs").Body(job).Do(ctx).Into(out)
	return out, err
}

func (c *restCluster) GetJob(ctx context.Context, namespace, name string) (*batchv1.Job, error) {
	out := &batchv1.Job{}
	err := c.batch.Get().Namespace(namespace).Resource("jobs").Name(name).Do(ctx).Into(out)
	return out, err
}

func (c *restCluster) DeleteJob(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) error {
	return c.batch.Delete().Namespace(namespace).Resource("jobs").Name(name).Body(&opts).Do(ctx).Error()
}

func (c *restCluster) CreateConfigMap(ctx context.Context, namespace string, cm *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := c.core.Post().Namespace(namespace).Resource("configmaps").Body(cm).Do(ctx).Into(out)
	return out, err
}

func (c *restCluster) GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := c.core.Get().Namespace(namespace).Resource("configmaps").Name(name).Do(ctx).Into(out)
	return out, err
}

func (c *restCluster) UpdateConfigMap(ctx context.Context, namespace string, cm *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := c.core.Put().Namespace(namespace).Resource("configmaps").Name(cm.Name).Body(cm).Do(ctx).Into(out)
	return out, err
}

func (c *restCluster) DeleteConfigMap(ctx context.Context, namespace, name string) error {
	return c.core.Delete().Namespace(namespace).Resource("configmaps").Name(name).Body(&metav1.DeleteOptions{}).Do(ctx).Error()
}

func (c *restCluster) ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	out := &corev1.PodList{}
	err := c.core.Get().Namespace(namespace).Resource("pods").VersionedParams(&opts, c.params).Do(ctx).Into(out)
	return out, err
}

func (c *restCluster) WatchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.core.Get().Namespace(namespace).Resource("pods").VersionedParams(&opts, c.params).Watch(ctx)
}

func (c *restCluster) DeletePods(ctx context.Context, namespace string, opts metav1.DeleteOptions, listOpts metav1.ListOptions) error {
	return c.core.Delete().Namespace(namespace).Resource("pods").VersionedParams(&listOpts, c.params).Body(&opts).Do(ctx).Error()
}

func (c *restCluster) PodLogs(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	return c.core.Get().Namespace(namespace).Resource("pods").Name(pod).SubResource("log").VersionedParams(opts, c.params).Stream(ctx)
}

func (c *restCluster) ServerVersion(ctx context.Context) (*version.Info, error) {
	body, err := c.core.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("decode the server version: %v", err)
	}
	return &info, nil
}
