package infra

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func infraOf(t *testing.T, typ string, cfg map[string]any) *orionv1.Infrastructure {
	t.Helper()
	s, err := structpb.NewStruct(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &orionv1.Infrastructure{Type: typ, Config: s}
}

func TestParse_Defaults(t *testing.T) {
	c, err := Parse(nil)
	if err != nil || c.Type != TypeSubprocess || !c.StreamOutput {
		t.Fatalf("Parse(nil) = %+v, %v", c, err)
	}
	c, err = Parse(&orionv1.Infrastructure{Type: "DockerFlowRunner"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != TypeDocker || c.Docker.Image != DefaultDockerImage || !c.Docker.AutoRemove || c.Docker.PullPolicy() != PullIfNotPresent {
		t.Fatalf("docker defaults: %+v", c.Docker)
	}
	c, err = Parse(&orionv1.Infrastructure{Type: "kubernetes"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kubernetes.Namespace != "default" || c.Kubernetes.TTLSecondsAfterFinished != DefaultJobTTL {
		t.Fatalf("kubernetes defaults: %+v", c.Kubernetes)
	}
}

func TestParse_Docker(t *testing.T) {
	c, err := Parse(infraOf(t, "docker", map[string]any{
		"image":             "busybox:1.36",
		"image_pull_policy": "if-not-present",
		"networks":          []any{"a", "b"},
		"labels":            map[string]any{"team": "data", "n": 2},
		"volumes":           []any{"/data:/data:ro"},
		"auto_remove":       false,
		"stream_output":     false,
		"resources":         map[string]any{"limits": map[string]any{"cpu": 2, "memory": "512Mi"}, "requests": map[string]any{"cpu": "500m"}},
		"env_unused":        nil,
	}))
	if err == nil || !strings.Contains(err.Error(), "infrastructure.config.env_unused: unknown field for docker infrastructure; valid fields: auto_remove,") {
		t.Fatalf("unknown field error = %v", err)
	}
	c, err = Parse(infraOf(t, "docker", map[string]any{
		"image":             "busybox:1.36",
		"image_pull_policy": "if-not-present",
		"networks":          []any{"a", "b"},
		"labels":            map[string]any{"team": "data", "n": 2},
		"volumes":           []any{"/data:/data:ro"},
		"auto_remove":       false,
		"stream_output":     false,
		"resources":         map[string]any{"limits": map[string]any{"cpu": 2, "memory": "512Mi"}, "requests": map[string]any{"cpu": "500m"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Docker
	if d.Image != "busybox:1.36" || d.ImagePullPolicy != PullIfNotPresent || len(d.Networks) != 2 || d.Labels["n"] != "2" ||
		d.AutoRemove || c.StreamOutput || d.Resources.Limits.CPU != "2" || d.Resources.Requests.CPU != "500m" {
		t.Fatalf("docker: %+v", c)
	}
}

func TestParse_Errors(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		cfg  map[string]any
		want string
	}{
		{"docker", map[string]any{"image_pull_policy": "sometimes"}, `infrastructure.config.image_pull_policy: expected one of IF_NOT_PRESENT, ALWAYS, NEVER, got "sometimes"`},
		{"docker", map[string]any{"volumes": []any{"nocolon"}}, `infrastructure.config.volumes[0]: "nocolon" must be of the form`},
		{"docker", map[string]any{"image": ""}, `infrastructure.config.image: expected a non-empty string, got ""`},
		{"docker", map[string]any{"auto_remove": "yes"}, `infrastructure.config.auto_remove: expected true or false, got "yes"`},
		{"docker", map[string]any{"resources": map[string]any{"limits": map[string]any{"memory": "512"}}}, `infrastructure.config.resources.limits.memory: "512" is not a usable memory quantity`},
		{"docker", map[string]any{"resources": map[string]any{"limits": map[string]any{"gpu": "1"}}}, `infrastructure.config.resources.limits.gpu: unknown resource`},
		{"docker", map[string]any{"resources": map[string]any{"requests": map[string]any{"cpu": "2"}, "limits": map[string]any{"cpu": "1"}}}, `requests.cpu 2 exceeds limits.cpu 1`},
		{"kubernetes", map[string]any{"namespace": "Bad_NS"}, `infrastructure.config.namespace: "Bad_NS" is not a valid namespace`},
		{"kubernetes", map[string]any{"labels": map[string]any{"a": "has space"}}, `infrastructure.config.labels.a: "has space" is not a valid label value`},
		{"kubernetes", map[string]any{"restart_policy": "OnFailure"}, `OnFailure is not supported`},
		{"kubernetes", map[string]any{"image_pull_policy": "IF_NOT_PRESENT"}, ``},
		{"subprocess", map[string]any{"virtualenv": "/v", "condaenv": "c"}, `give condaenv or virtualenv, not both`},
		{"subprocess", map[string]any{"image": "x"}, `infrastructure.config.image: unknown field for subprocess infrastructure; valid fields: condaenv, stream_output, virtualenv`},
		{"ecs", nil, `infrastructure.type: "ecs" is not supported: use subprocess, docker, kubernetes, noop`},
	} {
		_, err := Parse(infraOf(t, tc.typ, tc.cfg))
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s %v: %v", tc.typ, tc.cfg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want %q", tc.typ, tc.cfg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
	}
}

func TestMergeAndOverrides(t *testing.T) {
	base := infraOf(t, "docker", map[string]any{
		"image":     "busybox:1",
		"labels":    map[string]any{"team": "data"},
		"resources": map[string]any{"requests": map[string]any{"memory": "64Mi"}},
	})
	base.Env = map[string]string{"A": "1"}
	ov, err := ParseOverrides([]string{"image=python:3.12", "resources.limits.memory=1Gi", "labels.tier=gold", "env.B=2", "networks=[\"n1\"]"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(Merge(base, ov))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Docker
	if d.Image != "python:3.12" || d.Labels["team"] != "data" || d.Labels["tier"] != "gold" ||
		d.Resources.Requests.Memory != "64Mi" || d.Resources.Limits.Memory != "1Gi" ||
		c.Env["A"] != "1" || c.Env["B"] != "2" || len(d.Networks) != 1 {
		t.Fatalf("merged: %+v", c)
	}
	if base.GetConfig().GetFields()["image"].GetStringValue() != "busybox:1" {
		t.Fatal("Merge modified its base")
	}
	for _, bad := range []string{"noequals", "=x", "env=x", "env.=x", "a..b=1", "type="} {
		if _, err := ParseOverrides([]string{bad}); err == nil || !strings.Contains(err.Error(), "--infra-override") {
			t.Errorf("ParseOverrides(%q) = %v", bad, err)
		}
	}
	if _, err := ParseOverrides([]string{"labels=x", "labels.a=b"}); err == nil {
		t.Error("conflicting override paths accepted")
	}
}

func TestQuantities(t *testing.T) {
	for s, want := range map[string]int64{"1": 1000, "0.5": 500, "250m": 250, "1.5": 1500} {
		if got, err := ParseCPU(s); err != nil || got != want {
			t.Errorf("ParseCPU(%q) = %d, %v", s, got, err)
		}
	}
	for s, want := range map[string]int64{"64Mi": 64 << 20, "1Gi": 1 << 30, "100M": 100e6, "8388608": 8 << 20} {
		if got, err := ParseMemory(s); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "abc", "1x", "-1", "0m"} {
		if _, err := ParseCPU(s); err == nil {
			t.Errorf("ParseCPU(%q) accepted", s)
		}
	}
}

func TestPullPolicy(t *testing.T) {
	for img, want := range map[string]string{
		"busybox": PullAlways, "busybox:latest": PullAlways, "busybox:1.36": PullIfNotPresent,
		"localhost:5000/x": PullAlways, "localhost:5000/x:2": PullIfNotPresent, "x@sha256:abc": PullIfNotPresent,
	} {
		if got := (Docker{Image: img}).PullPolicy(); got != want {
			t.Errorf("PullPolicy(%q) = %s, want %s", img, got, want)
		}
	}
}
