package kubernetes

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orion-run/orion/agent/runner"
	"github.com/orion-run/orion/infra"
)

// Labels set on every Job, its pod and its ConfigMap.
const (
	LabelFlowRunID      = "io.orion/flow-run-id"
	LabelFlowRunName    = "io.orion/flow-run-name"
	LabelLeaseEpoch     = "io.orion/lease-epoch"
	LabelFlowName       = "io.orion/flow-name"
	LabelDeploymentID   = "io.orion/deployment-id"
	LabelDeploymentName = "io.orion/deployment-name"
	// LabelJob names the Job on its pods, independently of the Job
	// controller's own labels.
	LabelJob       = "io.orion/job"
	labelManagedBy = "app.kubernetes.io/managed-by"
	// annotationAutoRemove and annotationCollect are read back by a
	// restarted agent.
	annotationAutoRemove = "io.orion/auto-remove"
)

// ContainerName is the name of the flow's container in the pod.
const ContainerName = "flow"

// JobName is the deterministic name of a run's Job: "orion-<run id>-<epoch>",
// made a valid DNS label (lower case, at most 63 characters).
func JobName(flowRunID string, epoch int64) string {
	suffix := "-" + strconv.FormatInt(epoch, 10)
	id := slug(flowRunID, 63-len("orion-")-len(suffix))
	return "orion-" + id + suffix
}

// slug lower-cases s, replaces anything but [a-z0-9-] by '-', and cuts it
// to n characters without leading or trailing '-'.
func slug(s string, n int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > n {
		out = out[:n]
	}
	return strings.Trim(out, "-")
}

// labelValue makes s a valid label value (at most 63 characters of
// [A-Za-z0-9._-], alphanumeric at both ends), or "".
func labelValue(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 63 {
		out = out[:63]
	}
	return strings.Trim(out, "-_.")
}

// Manifest returns the Job and the ConfigMap that carries the run's files
// (its working directory, and Orion's Python runtime for Python flows) for
// spec. It reads the files; it does not talk to the cluster.
func Manifest(spec runner.Spec) (*batchv1.Job, *corev1.ConfigMap, error) {
	cfg := spec.Infra.Kubernetes
	name := JobName(spec.FlowRunID, spec.Epoch)
	labels := map[string]string{}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	for k, v := range map[string]string{
		LabelFlowRunID:      labelValue(spec.FlowRunID),
		LabelFlowRunName:    labelValue(spec.FlowRunName),
		LabelFlowName:       labelValue(spec.FlowName),
		LabelDeploymentID:   labelValue(spec.DeploymentID),
		LabelDeploymentName: labelValue(spec.DeploymentName),
		LabelLeaseEpoch:     strconv.FormatInt(spec.Epoch, 10),
		LabelJob:            name,
		labelManagedBy:      "orion",
	} {
		if v != "" {
			labels[k] = v
		}
	}
	meta := metav1.ObjectMeta{Name: name, Namespace: cfg.Namespace, Labels: labels,
		Annotations: map[string]string{annotationAutoRemove: strconv.FormatBool(cfg.AutoRemove)}}

	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta,
		Data:       map[string]string{},
		BinaryData: map[string][]byte{},
	}
	mounts := []corev1.VolumeMount{{Name: "work", MountPath: runner.ContainerWorkDir}}
	var runtimeItems []corev1.KeyToPath
	add := func(key string, data []byte) {
		if utf8.Valid(data) {
			cm.Data[key] = string(data)
		} else {
			cm.BinaryData[key] = data
		}
	}
	files, err := listFiles(spec.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read the run's files: %w", err)
	}
	for i, f := range files {
		key := fmt.Sprintf("run-%d", i)
		add(key, f.data)
		// Each file is mounted into the writable working directory (an
		// emptyDir), so the flow can write beside them.
		mounts = append(mounts, corev1.VolumeMount{Name: "files", MountPath: runner.ContainerWorkDir + "/" + f.rel, SubPath: key, ReadOnly: true})
	}
	if spec.RuntimeDir != "" {
		rt, err := listFiles(spec.RuntimeDir)
		if err != nil {
			return nil, nil, fmt.Errorf("read the Python runtime: %w", err)
		}
		for i, f := range rt {
			key := fmt.Sprintf("runtime-%d", i)
			add(key, f.data)
			runtimeItems = append(runtimeItems, corev1.KeyToPath{Key: key, Path: f.rel})
		}
		mounts = append(mounts, corev1.VolumeMount{Name: "runtime", MountPath: runner.ContainerRuntimeDir, ReadOnly: true})
	}
	if len(cm.BinaryData) == 0 {
		cm.BinaryData = nil
	}

	env := make([]corev1.EnvVar, 0, len(spec.Env)+1)
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, corev1.EnvVar{Name: k, Value: v})
	}
	// The file to collect comes back as the container's termination
	// message: the kubelet reads it when the container ends and keeps at
	// most maxTerminationMessage bytes of it, which the Python runtime
	// writes its result within.
	var terminationPath string
	if name, ok := collected(spec.Collect); ok {
		terminationPath = runner.ContainerWorkDir + "/" + name
		env = append(env, corev1.EnvVar{Name: envResultMaxBytes, Value: strconv.Itoa(maxTerminationMessage)})
	}
	res, err := requirements(cfg.Resources)
	if err != nil {
		return nil, nil, err
	}
	volumes := []corev1.Volume{
		{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "files", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
	}
	if len(runtimeItems) > 0 {
		volumes = append(volumes, corev1.Volume{Name: "runtime", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Items: runtimeItems}}})
	}
	backoff := int32(0)
	ttl := cfg.TTLSecondsAfterFinished
	podLabels := map[string]string{}
	for k, v := range labels {
		podLabels[k] = v
	}
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta,
		Spec: batchv1.JobSpec{
			// Orion owns retries: a failed pod fails the Job at once.
			BackoffLimit:            &backoff,
			TTLSecondsAfterFinished: &ttl,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					RestartPolicy:      corev1.RestartPolicyNever,
					ServiceAccountName: cfg.ServiceAccountName,
					Containers: []corev1.Container{{
						Name:            ContainerName,
						Image:           cfg.Image,
						ImagePullPolicy: corev1.PullPolicy(cfg.ImagePullPolicy),
						Command:         spec.Command,
						WorkingDir:      runner.ContainerWorkDir,
						Env:             env,
						Resources:       res,
						VolumeMounts:    mounts,
						// Empty: the default, /dev/termination-log.
						TerminationMessagePath:   terminationPath,
						TerminationMessagePolicy: corev1.TerminationMessageReadFile,
					}},
					Volumes: volumes,
				},
			},
		},
	}
	return job, cm, nil
}

// maxTerminationMessage is what the kubelet keeps of a container's
// termination message, in bytes; envResultMaxBytes tells the Python
// runtime to write its result file within it.
const (
	maxTerminationMessage = 4096
	envResultMaxBytes     = "ORION_RESULT_MAX_BYTES"
)

// collected is the file of Spec.Collect that comes back from the pod: a
// container has one termination message, so the first name, when it is a
// plain file name.
func collected(names []string) (string, bool) {
	if len(names) == 0 || !plainFileName(names[0]) {
		return "", false
	}
	return names[0], true
}

// collectedFrom is the name of the collected file a pod's flow container
// has as its termination message path, if it has one: a restarted agent
// reads it from the pod it finds.
func collectedFrom(pod *corev1.Pod) (string, bool) {
	for _, c := range pod.Spec.Containers {
		if c.Name == ContainerName {
			name, ok := strings.CutPrefix(c.TerminationMessagePath, runner.ContainerWorkDir+"/")
			return name, ok && plainFileName(name)
		}
	}
	return "", false
}

// plainFileName reports whether name is a file name without a directory.
func plainFileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// requirements converts infra resources into Kubernetes quantities.
func requirements(r infra.Resources) (corev1.ResourceRequirements, error) {
	var out corev1.ResourceRequirements
	conv := func(l infra.ResourceList) (corev1.ResourceList, error) {
		if l == (infra.ResourceList{}) {
			return nil, nil
		}
		rl := corev1.ResourceList{}
		if l.CPU != "" {
			q, err := resource.ParseQuantity(l.CPU)
			if err != nil {
				return nil, fmt.Errorf("infrastructure.config.resources: cpu %q: %v", l.CPU, err)
			}
			rl[corev1.ResourceCPU] = q
		}
		if l.Memory != "" {
			q, err := resource.ParseQuantity(l.Memory)
			if err != nil {
				return nil, fmt.Errorf("infrastructure.config.resources: memory %q: %v", l.Memory, err)
			}
			rl[corev1.ResourceMemory] = q
		}
		return rl, nil
	}
	var err error
	if out.Requests, err = conv(r.Requests); err != nil {
		return out, err
	}
	if out.Limits, err = conv(r.Limits); err != nil {
		return out, err
	}
	return out, nil
}

type file struct {
	rel  string
	data []byte
}

// listFiles returns the regular files under dir (without runner state
// directories), sorted by path. ConfigMaps hold at most 1 MiB; a run's
// files and the runtime are far below that.
func listFiles(dir string) ([]file, error) {
	var out []file
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if info.IsDir() {
			if strings.HasPrefix(rel, ".orion-") && rel != "." || info.Name() == runner.BytecodeDirName {
				return filepath.SkipDir
			}
			return nil
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out = append(out, file{rel: filepath.ToSlash(rel), data: data})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, err
}
