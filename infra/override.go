package infra

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// ParseOverrides turns `--infra-override` arguments into an Infrastructure
// to merge over a deployment's (see Merge):
//
//	type=docker                      the infrastructure type
//	env.NAME=value                   one environment variable (always a string)
//	image=python:3.12-slim           a config field
//	resources.limits.memory=1Gi      a nested field (dots separate levels)
//	labels.team=data                 one label
//	networks=["a","b"]               a value that is valid JSON is decoded as JSON
//
// It checks the syntax only; the merged result is validated with Parse.
func ParseOverrides(args []string) (*orionv1.Infrastructure, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := &orionv1.Infrastructure{Env: map[string]string{}}
	cfg := map[string]any{}
	for _, arg := range args {
		key, raw, ok := strings.Cut(arg, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("invalid --infra-override %q: expected key=value, e.g. image=python:3.12-slim or env.NAME=value", arg)
		}
		switch {
		case key == "type":
			if strings.TrimSpace(raw) == "" {
				return nil, fmt.Errorf("invalid --infra-override %q: type must not be empty", arg)
			}
			out.Type = strings.TrimSpace(raw)
			continue
		case strings.HasPrefix(key, "env."):
			name := strings.TrimPrefix(key, "env.")
			if name == "" {
				return nil, fmt.Errorf("invalid --infra-override %q: give the variable name, e.g. env.NAME=value", arg)
			}
			out.Env[name] = raw
			continue
		case key == "env":
			return nil, fmt.Errorf("invalid --infra-override %q: set one variable at a time, e.g. env.NAME=value", arg)
		}
		path := strings.Split(key, ".")
		for _, p := range path {
			if p == "" {
				return nil, fmt.Errorf("invalid --infra-override %q: empty part in key %q", arg, key)
			}
		}
		if err := setPath(cfg, path, DecodeValue(raw)); err != nil {
			return nil, fmt.Errorf("invalid --infra-override %q: %v", arg, err)
		}
	}
	if len(cfg) > 0 {
		s, err := structpb.NewStruct(cfg)
		if err != nil {
			return nil, fmt.Errorf("invalid --infra-override: %v", err)
		}
		out.Config = s
	}
	return out, nil
}

// DecodeValue decodes raw as JSON when it is valid JSON (numbers,
// booleans, lists, mappings, quoted strings), else returns it as a string:
// how `--param` and `--infra-override` read a value.
func DecodeValue(raw string) any {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err == nil {
		return v
	}
	return raw
}

func setPath(m map[string]any, path []string, v any) error {
	for i, p := range path[:len(path)-1] {
		next, ok := m[p]
		if !ok {
			child := map[string]any{}
			m[p] = child
			m = child
			continue
		}
		child, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is set to a value and also used as a mapping", strings.Join(path[:i+1], "."))
		}
		m = child
	}
	last := path[len(path)-1]
	if old, ok := m[last]; ok {
		if _, isMap := old.(map[string]any); isMap {
			return fmt.Errorf("%s is used as a mapping and also set to a value", strings.Join(path, "."))
		}
	}
	m[last] = v
	return nil
}
