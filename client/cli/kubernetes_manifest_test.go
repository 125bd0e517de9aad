package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// manifestDocs decodes the printed multi-document YAML.
func manifestDocs(t *testing.T, out string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(out)))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("manifest is not YAML: %v\n%s", err, out)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesManifest(t *testing.T) {
	env := newEnv(t, newFakeOrion())
	r := env.mustRun(0, "kubernetes", "manifest", "orion", "--namespace", "flows", "--image", "registry.local/orion:1.0", "--work-queue", "k8s")
	docs := manifestDocs(t, r.stdout)
	byKind := map[string]map[string]any{}
	var kinds []string
	for _, d := range docs {
		kind := d["kind"].(string) + "/" + get(d, "metadata", "name").(string)
		kinds = append(kinds, kind)
		byKind[kind] = d
		if ns := get(d, "metadata", "namespace"); ns != "flows" {
			t.Errorf("%s namespace = %v", kind, ns)
		}
	}
	if got := strings.Join(kinds, ","); got != "PersistentVolumeClaim/orion-store,Deployment/orion,Service/orion,ServiceAccount/orion-agent,Role/orion-agent,RoleBinding/orion-agent,Deployment/orion-agent" {
		t.Fatalf("objects = %s", got)
	}
	server := byKind["Deployment/orion"]
	if get(server, "spec", "strategy", "type") != "Recreate" || get(server, "spec", "replicas") != 1 ||
		get(server, "spec", "template", "spec", "containers", 0, "image") != "registry.local/orion:1.0" ||
		get(server, "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName") != "orion-store" {
		t.Errorf("server deployment: %v", server)
	}
	agent := byKind["Deployment/orion-agent"]
	if get(agent, "spec", "template", "spec", "serviceAccountName") != "orion-agent" ||
		get(agent, "spec", "template", "spec", "containers", 0, "env", 0, "value") != "http://orion:4200" ||
		get(agent, "spec", "template", "spec", "containers", 0, "command", 4) != "k8s" ||
		get(agent, "spec", "template", "spec", "containers", 0, "command", 8) != "json" {
		t.Errorf("agent deployment: %v", agent)
	}
	rules := get(byKind["Role/orion-agent"], "rules").([]any)
	var granted []string
	for _, rule := range rules {
		for _, res := range get(rule, "resources").([]any) {
			granted = append(granted, res.(string))
		}
	}
	if strings.Join(granted, ",") != "jobs,pods,pods/log,configmaps" {
		t.Errorf("role grants %v", granted)
	}

	r = env.mustRun(0, "kubernetes", "manifest", "--host-path", "/srv/orion", "--storage-size", "5Gi")
	docs = manifestDocs(t, r.stdout)
	if get(docs[0], "kind") != "PersistentVolume" || get(docs[0], "spec", "hostPath", "path") != "/srv/orion" ||
		get(docs[1], "spec", "storageClassName") != "orion-host-path" || get(docs[1], "spec", "resources", "requests", "storage") != "5Gi" {
		t.Errorf("host path volume: %v %v", docs[0], docs[1])
	}

	r = env.mustRun(1, "kubernetes", "manifest", "--namespace", "Bad_NS")
	equalLines(t, r.stderr, `Error: invalid --namespace "Bad_NS": use a DNS label (lower-case letters, digits, '-')`)
	r = env.mustRun(1, "kubernetes", "manifest", "agent")
	equalLines(t, r.stderr, `Error: unknown manifest "agent": the only one is 'orion'`)
}
