package runs

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/orion-run/orion/server/store"
)

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidateParameters(t *testing.T) {
	schema := mustStruct(t, map[string]any{
		"type":       "object",
		"properties": map[string]any{"name": map[string]any{"default": "world"}, "count": map[string]any{}},
		"required":   []any{"count"},
	})
	tests := []struct {
		name    string
		schema  *structpb.Struct
		params  map[string]any
		wantErr string
	}{
		{"accepted", schema, map[string]any{"name": "Marvin", "count": 1}, ""},
		{"unknown name", schema, map[string]any{"nme": "x", "count": 1}, "does not accept nme"},
		{"missing required", schema, map[string]any{"name": "x"}, "missing required count"},
		{"no schema accepts anything", nil, map[string]any{"anything": 1}, ""},
		{"kwargs", mustStruct(t, map[string]any{"properties": map[string]any{}, "additionalProperties": true}), map[string]any{"x": 1}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateParameters(tc.schema, mustStruct(t, tc.params))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestMergeParameters(t *testing.T) {
	defaults := mustStruct(t, map[string]any{"name": "world", "n": 1})
	got := MergeParameters(defaults, mustStruct(t, map[string]any{"name": "Marvin"})).AsMap()
	if got["name"] != "Marvin" || got["n"] != float64(1) {
		t.Fatalf("merged = %v", got)
	}
	if defaults.AsMap()["name"] != "world" {
		t.Fatal("defaults were modified")
	}
}

func TestNewName(t *testing.T) {
	for range 50 {
		n := NewName()
		parts := strings.Split(n, "-")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			t.Fatalf("name %q is not a two-word slug", n)
		}
	}
}
