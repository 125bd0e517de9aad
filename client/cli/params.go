package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/orion-run/orion/infra"
)

// paramFlags are the parameter overrides shared by `deployment run` and
// `deployment execute`.
type paramFlags struct {
	pairs []string // --param KEY=VALUE, repeatable
	json  string   // --params '{"k": v}'
}

func (p *paramFlags) register(cmd *cobra.Command) {
	// StringArray, not StringSlice: values may contain commas.
	cmd.Flags().StringArrayVar(&p.pairs, "param", nil,
		"parameter override KEY=VALUE; VALUE is parsed as JSON when it is valid JSON, else taken as a string (repeatable)")
	cmd.Flags().StringVar(&p.json, "params", "", "parameter overrides as a JSON object; --param wins on conflicts")
}

// parse merges --params and --param into a Struct, or nil when neither was given.
func (p *paramFlags) parse() (*structpb.Struct, error) {
	m, err := parseParams(p.pairs, p.json)
	if err != nil || m == nil {
		return nil, err
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil, fmt.Errorf("invalid parameters: %v", err)
	}
	return s, nil
}

// parseParams merges a JSON object (paramsJSON) with KEY=VALUE pairs; pairs
// win. A VALUE that is valid JSON is decoded (3 → number, true → bool,
// [1,2] → list, "x" → string); anything else is taken as a plain string. The
// result is nil when nothing was given.
func parseParams(pairs []string, paramsJSON string) (map[string]any, error) {
	var out map[string]any
	if strings.TrimSpace(paramsJSON) != "" {
		obj, err := decodeJSONObject(paramsJSON)
		if err != nil {
			return nil, fmt.Errorf("invalid --params: %v", err)
		}
		out = obj
	}
	for _, pair := range pairs {
		key, raw, ok := strings.Cut(pair, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("invalid --param '%s': expected KEY=VALUE", pair)
		}
		if out == nil {
			out = map[string]any{}
		}
		out[key] = infra.DecodeValue(raw)
	}
	return out, nil
}

// decodeJSONObject decodes a JSON object; anything else is an error.
func decodeJSONObject(s string) (map[string]any, error) {
	if !bytes.HasPrefix(bytes.TrimSpace([]byte(s)), []byte("{")) {
		return nil, fmt.Errorf("expected a JSON object")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}
