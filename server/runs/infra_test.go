package runs

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

func TestMergeInfrastructure_ValidatesAndNormalizes(t *testing.T) {
	cfg, _ := structpb.NewStruct(map[string]any{"image": "busybox:1", "labels": map[string]any{"a": "1"}})
	base := &orionv1.Infrastructure{Type: "DockerFlowRunner", Config: cfg}
	ov, _ := structpb.NewStruct(map[string]any{"labels": map[string]any{"b": "2"}})
	out, err := MergeInfrastructure(base, &orionv1.Infrastructure{Config: ov})
	if err != nil {
		t.Fatal(err)
	}
	labels := out.GetConfig().AsMap()["labels"].(map[string]any)
	if out.GetType() != "docker" || labels["a"] != "1" || labels["b"] != "2" {
		t.Fatalf("merged %v", out)
	}
	bad, _ := structpb.NewStruct(map[string]any{"image_pull_policy": "sometimes"})
	_, err = MergeInfrastructure(base, &orionv1.Infrastructure{Config: bad})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "infrastructure.config.image_pull_policy") {
		t.Fatalf("bad override: %v", err)
	}
	if _, err := MergeInfrastructure(nil, nil); err != nil {
		t.Fatalf("nil infrastructure: %v", err)
	}
}
