// Package infra is the schema of a deployment's infrastructure: which
// fields each infrastructure type accepts in orion.v1.Infrastructure.config,
// their defaults, their validation (one-line errors that name the field and
// the fix), deep merging of per-run overrides, and the "key=value" syntax of
// `orion deployment run --infra-override`.
//
// It is pure (no I/O) and imports only the generated protos, so the CLI (at
// deployment creation and for overrides), the server (on every create, for
// API callers) and the agent (which hands the parsed Config to its runners)
// apply exactly the same rules.
//
// Field names follow Prefect 2.0b1's flow runners (SubprocessFlowRunner,
// DockerFlowRunner, KubernetesFlowRunner); Orion adds resources and a few
// settings Prefect lacked. Unknown fields are errors, as in Prefect
// (extra = "forbid").
package infra

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// Infrastructure types.
const (
	TypeSubprocess = "subprocess"
	TypeDocker     = "docker"
	TypeKubernetes = "kubernetes"
	TypeNoop       = "noop"
)

// Default images: Orion publishes no image of its own; its Python runtime
// needs only a Python 3.9+ interpreter in the image, which the official
// Python image has.
const (
	DefaultDockerImage     = "python:3.11-slim"
	DefaultKubernetesImage = "python:3.11-slim"
	DefaultNamespace       = "default"
	// DefaultJobTTL is how long a finished Job (and its pod) is kept for
	// inspection before Kubernetes deletes it.
	DefaultJobTTL = 3600
	// DefaultPodStartTimeout bounds the time from creating a Job to its
	// pod running (image pull, scheduling).
	DefaultPodStartTimeout = 300
)

// Config is a validated infrastructure: the type, the flow's extra
// environment and the settings of that type. Only the section of Type is
// meaningful.
type Config struct {
	Type string
	// Env is extra environment for the flow (Infrastructure.env).
	Env map[string]string
	// StreamOutput ships the flow's stdout and stderr as the run's logs
	// (default true). False drops them; the agent's own messages are kept.
	StreamOutput bool

	Subprocess Subprocess
	Docker     Docker
	Kubernetes Kubernetes
}

// Subprocess is SubprocessFlowRunner's section.
type Subprocess struct {
	// Virtualenv is the path of a virtualenv whose bin/ comes first on PATH
	// (and whose python runs a Python flow).
	Virtualenv string
	// Condaenv is a conda environment: a name, or a prefix when it starts
	// with "/" or "~". The flow runs under `conda run`.
	Condaenv string
}

// Docker is DockerFlowRunner's section.
type Docker struct {
	Image string
	// ImagePullPolicy is IF_NOT_PRESENT, ALWAYS or NEVER; see PullPolicy.
	ImagePullPolicy string
	// Networks are attached to the container: the first at creation, the
	// rest right after.
	Networks []string
	// NetworkMode is the engine's network mode ("host", "bridge", "none",
	// "container:<id>"). Empty: "host" when the API URL is a loopback
	// address (the only way a container reaches it), else the engine's
	// default, or the first of Networks.
	NetworkMode string
	Labels      map[string]string
	// Volumes are bind mounts "host_path:container_path[:ro|rw]".
	Volumes []string
	// AutoRemove removes the container once its exit code and output are
	// collected (default true; false keeps it for inspection).
	AutoRemove bool
	// User runs the container's process as this user ("uid[:gid]").
	User      string
	Resources Resources
}

// Kubernetes is KubernetesFlowRunner's section.
type Kubernetes struct {
	Image     string
	Namespace string
	Labels    map[string]string
	// ImagePullPolicy is IfNotPresent, Always or Never ("" leaves it to
	// Kubernetes).
	ImagePullPolicy    string
	ServiceAccountName string
	Resources          Resources
	// TTLSecondsAfterFinished is the Job's ttlSecondsAfterFinished.
	TTLSecondsAfterFinished int32
	// PodStartTimeoutSeconds bounds the wait for the pod to run.
	PodStartTimeoutSeconds int32
	// APIURL is the server URL the pod uses, when it differs from the
	// agent's (e.g. a cluster Service name).
	APIURL string
	// AutoRemove deletes the finished Job, its pod and ConfigMap once the
	// exit code and output are collected (default true; false keeps them
	// until TTLSecondsAfterFinished).
	AutoRemove bool
}

// Resources are CPU and memory requests and limits, in Kubernetes quantity
// syntax ("500m", "2", "256Mi", "1G").
type Resources struct {
	Requests ResourceList
	Limits   ResourceList
}

// ResourceList is one side (requests or limits) of Resources.
type ResourceList struct {
	CPU    string
	Memory string
}

// IsZero reports whether no request or limit is set.
func (r Resources) IsZero() bool { return r == Resources{} }

// PullPolicy returns the Docker image pull policy: the configured one, or
// Prefect's rule when unset (ALWAYS for a "latest" or missing tag, else
// IF_NOT_PRESENT).
func (d Docker) PullPolicy() string {
	if d.ImagePullPolicy != "" {
		return d.ImagePullPolicy
	}
	ref := d.Image
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		return PullIfNotPresent // pinned by digest
	}
	name := ref[strings.LastIndexByte(ref, '/')+1:]
	if _, tag, ok := strings.Cut(name, ":"); !ok || tag == "latest" {
		return PullAlways
	}
	return PullIfNotPresent
}

// Docker image pull policies.
const (
	PullIfNotPresent = "IF_NOT_PRESENT"
	PullAlways       = "ALWAYS"
	PullNever        = "NEVER"
)

// NormalizeType maps Prefect's and Orion's names of a type to the type:
// "" / "universal" / "process" → subprocess, "DockerFlowRunner" → docker, ...
// Unknown names are returned lower-cased.
func NormalizeType(t string) string {
	n := strings.ToLower(strings.TrimSpace(t))
	for _, suffix := range []string{"flowrunner", "-flow-runner", "_flow_runner"} {
		n = strings.TrimSuffix(n, suffix)
	}
	switch n {
	case "", "universal", "subprocess", "process":
		return TypeSubprocess
	case "docker", "docker-container", "dockercontainer", "docker_container":
		return TypeDocker
	case "kubernetes", "k8s", "kubernetes-job", "kubernetesjob", "kubernetes_job":
		return TypeKubernetes
	}
	return n
}

// Types lists the supported types.
func Types() []string { return []string{TypeSubprocess, TypeDocker, TypeKubernetes, TypeNoop} }

// Parse validates an Infrastructure (nil means subprocess with defaults)
// and returns its Config. Errors are one line naming the field, e.g.
// `infrastructure.config.image_pull_policy: expected one of IF_NOT_PRESENT,
// ALWAYS, NEVER, got "sometimes"`.
func Parse(in *orionv1.Infrastructure) (Config, error) {
	c := Config{Type: NormalizeType(in.GetType()), StreamOutput: true, Env: map[string]string{}}
	for k, v := range in.GetEnv() {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return Config{}, fmt.Errorf("infrastructure.env: invalid variable name %q: names must be non-empty and contain no '=' or NUL", k)
		}
		c.Env[k] = v
	}
	fields := in.GetConfig().GetFields()
	var f *fieldSet
	switch c.Type {
	case TypeSubprocess:
		f = subprocessFields(&c)
	case TypeDocker:
		c.Docker = Docker{Image: DefaultDockerImage, AutoRemove: true}
		f = dockerFields(&c)
	case TypeKubernetes:
		c.Kubernetes = Kubernetes{Image: DefaultKubernetesImage, Namespace: DefaultNamespace,
			TTLSecondsAfterFinished: DefaultJobTTL, PodStartTimeoutSeconds: DefaultPodStartTimeout, AutoRemove: true}
		f = kubernetesFields(&c)
	case TypeNoop:
		f = &fieldSet{typ: TypeNoop}
	default:
		return Config{}, fmt.Errorf("infrastructure.type: %q is not supported: use %s", in.GetType(), strings.Join(Types(), ", "))
	}
	if err := f.apply(fields); err != nil {
		return Config{}, err
	}
	if err := c.check(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// check validates the relations between fields, after each was parsed.
func (c *Config) check() error {
	switch c.Type {
	case TypeSubprocess:
		if c.Subprocess.Virtualenv != "" && c.Subprocess.Condaenv != "" {
			return fmt.Errorf("infrastructure.config: give condaenv or virtualenv, not both")
		}
	case TypeDocker:
		if err := c.Docker.Resources.check("docker"); err != nil {
			return err
		}
	case TypeKubernetes:
		if err := c.Kubernetes.Resources.check("kubernetes"); err != nil {
			return err
		}
	}
	return nil
}

// Merge overlays a per-run override on a deployment's infrastructure: the
// type is replaced when set; env is merged by key; config is merged deeply
// (mappings such as labels and resources key by key, anything else
// replaced). Neither argument is modified.
func Merge(base, override *orionv1.Infrastructure) *orionv1.Infrastructure {
	out := &orionv1.Infrastructure{Type: base.GetType(), Env: map[string]string{}, Config: &structpb.Struct{Fields: map[string]*structpb.Value{}}}
	for k, v := range base.GetEnv() {
		out.Env[k] = v
	}
	mergeFields(out.Config.Fields, base.GetConfig().GetFields())
	if override != nil {
		if override.GetType() != "" {
			out.Type = override.GetType()
		}
		for k, v := range override.GetEnv() {
			out.Env[k] = v
		}
		mergeFields(out.Config.Fields, override.GetConfig().GetFields())
	}
	return out
}

func mergeFields(dst, src map[string]*structpb.Value) {
	for k, v := range src {
		if sv := v.GetStructValue(); sv != nil {
			if dv := dst[k].GetStructValue(); dv != nil {
				merged := &structpb.Struct{Fields: map[string]*structpb.Value{}}
				mergeFields(merged.Fields, dv.GetFields())
				mergeFields(merged.Fields, sv.GetFields())
				dst[k] = structpb.NewStructValue(merged)
				continue
			}
		}
		dst[k] = v
	}
}
