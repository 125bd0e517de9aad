package runs

import (
	"sort"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/orion-run/orion/server/store"
)

// MergeParameters returns the deployment's defaults overlaid with the
// overrides (a shallow merge by top-level name). Neither input is modified.
func MergeParameters(defaults, overrides *structpb.Struct) *structpb.Struct {
	out := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for k, v := range defaults.GetFields() {
		out.Fields[k] = v
	}
	for k, v := range overrides.GetFields() {
		out.Fields[k] = v
	}
	return out
}

// ValidateParameters checks parameter names against a deployment's parameter
// schema: names the flow does not accept are rejected (unless the schema sets
// "additionalProperties": true, e.g. a Python flow with **kwargs), and
// required names must be present. A nil schema accepts anything.
func ValidateParameters(schema, params *structpb.Struct) error {
	if schema == nil || len(schema.GetFields()) == 0 {
		return nil
	}
	props := schema.GetFields()["properties"].GetStructValue().GetFields()
	additional := schema.GetFields()["additionalProperties"].GetBoolValue()
	var unknown, missing []string
	if !additional {
		for name := range params.GetFields() {
			if _, ok := props[name]; !ok {
				unknown = append(unknown, name)
			}
		}
	}
	for _, req := range schema.GetFields()["required"].GetListValue().GetValues() {
		if _, ok := params.GetFields()[req.GetStringValue()]; !ok {
			missing = append(missing, req.GetStringValue())
		}
	}
	sort.Strings(unknown)
	sort.Strings(missing)
	switch {
	case len(unknown) > 0:
		accepted := make([]string, 0, len(props))
		for name := range props {
			accepted = append(accepted, name)
		}
		sort.Strings(accepted)
		acc := "none"
		if len(accepted) > 0 {
			acc = strings.Join(accepted, ", ")
		}
		return store.Invalidf("parameters: the flow does not accept %s (accepted: %s)", strings.Join(unknown, ", "), acc)
	case len(missing) > 0:
		return store.Invalidf("parameters: missing required %s: pass a value with --param NAME=VALUE", strings.Join(missing, ", "))
	}
	return nil
}
