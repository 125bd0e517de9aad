package infra

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
)

// fieldSet is the config fields of one type: each name maps to a parser
// that stores the value into the Config being built.
type fieldSet struct {
	typ    string
	fields map[string]func(path string, v *structpb.Value) error
}

// apply parses every given field, in name order so the first error is
// stable. A null value leaves the default.
func (f *fieldSet) apply(given map[string]*structpb.Value) error {
	names := make([]string, 0, len(given))
	for n := range given {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		path := "infrastructure.config." + n
		parse, ok := f.fields[n]
		if !ok {
			return fmt.Errorf("%s: unknown field for %s infrastructure; valid fields: %s", path, f.typ, f.valid())
		}
		if _, null := given[n].GetKind().(*structpb.Value_NullValue); null || given[n] == nil {
			continue
		}
		if err := parse(path, given[n]); err != nil {
			return err
		}
	}
	return nil
}

func (f *fieldSet) valid() string {
	names := make([]string, 0, len(f.fields))
	for n := range f.fields {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func subprocessFields(c *Config) *fieldSet {
	return &fieldSet{typ: TypeSubprocess, fields: map[string]func(string, *structpb.Value) error{
		"stream_output": boolField(&c.StreamOutput),
		"virtualenv":    stringField(&c.Subprocess.Virtualenv),
		"condaenv":      stringField(&c.Subprocess.Condaenv),
	}}
}

func dockerFields(c *Config) *fieldSet {
	d := &c.Docker
	return &fieldSet{typ: TypeDocker, fields: map[string]func(string, *structpb.Value) error{
		"stream_output":     boolField(&c.StreamOutput),
		"image":             stringField(&d.Image),
		"image_pull_policy": choiceField(&d.ImagePullPolicy, PullIfNotPresent, PullAlways, PullNever),
		"networks":          stringListField(&d.Networks),
		"network_mode":      stringField(&d.NetworkMode),
		"labels":            stringMapField(&d.Labels),
		"volumes":           volumesField(&d.Volumes),
		"auto_remove":       boolField(&d.AutoRemove),
		"user":              stringField(&d.User),
		"resources":         resourcesField(&d.Resources),
	}}
}

func kubernetesFields(c *Config) *fieldSet {
	k := &c.Kubernetes
	return &fieldSet{typ: TypeKubernetes, fields: map[string]func(string, *structpb.Value) error{
		"stream_output":              boolField(&c.StreamOutput),
		"image":                      stringField(&k.Image),
		"namespace":                  dnsLabelField(&k.Namespace),
		"labels":                     labelsField(&k.Labels),
		"image_pull_policy":          choiceField(&k.ImagePullPolicy, "IfNotPresent", "Always", "Never"),
		"service_account_name":       stringField(&k.ServiceAccountName),
		"resources":                  resourcesField(&k.Resources),
		"ttl_seconds_after_finished": int32Field(&k.TTLSecondsAfterFinished, 0),
		"pod_start_timeout_seconds":  int32Field(&k.PodStartTimeoutSeconds, 1),
		"api_url":                    stringField(&k.APIURL),
		"auto_remove":                boolField(&k.AutoRemove),
		// Prefect 2.0b1 had restart_policy (deprecated in 2.0b4): Orion
		// owns retries, so only Never is meaningful.
		"restart_policy": func(path string, v *structpb.Value) error {
			var s string
			if err := choiceField(&s, "Never", "OnFailure")(path, v); err != nil {
				return err
			}
			if s != "Never" {
				return fmt.Errorf("%s: OnFailure is not supported: Orion retries failed runs itself (set retries on the deployment) and runs Jobs with restartPolicy Never", path)
			}
			return nil
		},
	}}
}

func kindName(v *structpb.Value) string {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return fmt.Sprintf("%q", k.StringValue)
	case *structpb.Value_NumberValue:
		return fmt.Sprintf("the number %v", k.NumberValue)
	case *structpb.Value_BoolValue:
		return fmt.Sprintf("%v", k.BoolValue)
	case *structpb.Value_ListValue:
		return "a list"
	case *structpb.Value_StructValue:
		return "a mapping"
	}
	return "null"
}

func boolField(dst *bool) func(string, *structpb.Value) error {
	return func(path string, v *structpb.Value) error {
		b, ok := v.GetKind().(*structpb.Value_BoolValue)
		if !ok {
			return fmt.Errorf("%s: expected true or false, got %s", path, kindName(v))
		}
		*dst = b.BoolValue
		return nil
	}
}

func stringValue(path string, v *structpb.Value) (string, error) {
	s, ok := v.GetKind().(*structpb.Value_StringValue)
	if !ok || strings.TrimSpace(s.StringValue) == "" {
		return "", fmt.Errorf("%s: expected a non-empty string, got %s", path, kindName(v))
	}
	return strings.TrimSpace(s.StringValue), nil
}

func stringField(dst *string) func(string, *structpb.Value) error {
	return func(path string, v *structpb.Value) error {
		s, err := stringValue(path, v)
		if err != nil {
			return err
		}
		*dst = s
		return nil
	}
}

// choiceField accepts one of choices, case-insensitively and ignoring '_',
// '-' and spaces ("if-not-present" is IF_NOT_PRESENT and IfNotPresent).
func choiceField(dst *string, choices ...string) func(string, *structpb.Value) error {
	squash := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(s))
	}
	return func(path string, v *structpb.Value) error {
		s, _ := v.GetKind().(*structpb.Value_StringValue)
		if s != nil {
			for _, c := range choices {
				if squash(c) == squash(s.StringValue) {
					*dst = c
					return nil
				}
			}
		}
		return fmt.Errorf("%s: expected one of %s, got %s", path, strings.Join(choices, ", "), kindName(v))
	}
}

func stringListField(dst *[]string) func(string, *structpb.Value) error {
	return func(path string, v *structpb.Value) error {
		l, ok := v.GetKind().(*structpb.Value_ListValue)
		if !ok {
			return fmt.Errorf("%s: expected a list of strings, got %s", path, kindName(v))
		}
		out := make([]string, 0, len(l.ListValue.GetValues()))
		for i, item := range l.ListValue.GetValues() {
			s, err := stringValue(fmt.Sprintf("%s[%d]", path, i), item)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		*dst = out
		return nil
	}
}

// stringMapField accepts a mapping of strings; numbers and booleans are
// turned into their text (YAML's `version: 2`).
func stringMapField(dst *map[string]string) func(string, *structpb.Value) error {
	return func(path string, v *structpb.Value) error {
		s, ok := v.GetKind().(*structpb.Value_StructValue)
		if !ok {
			return fmt.Errorf("%s: expected a mapping of strings, got %s", path, kindName(v))
		}
		out := make(map[string]string, len(s.StructValue.GetFields()))
		for k, item := range s.StructValue.GetFields() {
			if k == "" {
				return fmt.Errorf("%s: keys must be non-empty", path)
			}
			switch x := item.GetKind().(type) {
			case *structpb.Value_StringValue:
				out[k] = x.StringValue
			case *structpb.Value_NumberValue:
				out[k] = formatNumber(x.NumberValue)
			case *structpb.Value_BoolValue:
				out[k] = fmt.Sprint(x.BoolValue)
			default:
				return fmt.Errorf("%s.%s: expected a string, got %s", path, k, kindName(item))
			}
		}
		*dst = out
		return nil
	}
}

func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprint(f)
}

func int32Field(dst *int32, min int32) func(string, *structpb.Value) error {
	return func(path string, v *structpb.Value) error {
		n, ok := v.GetKind().(*structpb.Value_NumberValue)
		if !ok || n.NumberValue != math.Trunc(n.NumberValue) || n.NumberValue < float64(min) || n.NumberValue > math.MaxInt32 {
			return fmt.Errorf("%s: expected a whole number of at least %d, got %s", path, min, kindName(v))
		}
		*dst = int32(n.NumberValue)
		return nil
	}
}

func volumesField(dst *[]string) func(string, *structpb.Value) error {
	list := stringListField(dst)
	return func(path string, v *structpb.Value) error {
		if err := list(path, v); err != nil {
			return err
		}
		for i, vol := range *dst {
			parts := strings.Split(vol, ":")
			ok := len(parts) == 2 || (len(parts) == 3 && (parts[2] == "ro" || parts[2] == "rw"))
			if !ok || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
				return fmt.Errorf("%s[%d]: %q must be of the form 'host_path:container_path' or 'host_path:container_path:ro' with an absolute container path", path, i, vol)
			}
		}
		return nil
	}
}

// dnsLabelField accepts a Kubernetes namespace name (an RFC 1123 label).
func dnsLabelField(dst *string) func(string, *structpb.Value) error {
	return func(path string, v *structpb.Value) error {
		s, err := stringValue(path, v)
		if err != nil {
			return err
		}
		if !IsDNSLabel(s) {
			return fmt.Errorf("%s: %q is not a valid namespace: use at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit", path, s)
		}
		*dst = s
		return nil
	}
}

// labelsField accepts Kubernetes labels: keys "[prefix/]name", values of at
// most 63 characters.
func labelsField(dst *map[string]string) func(string, *structpb.Value) error {
	m := stringMapField(dst)
	return func(path string, v *structpb.Value) error {
		if err := m(path, v); err != nil {
			return err
		}
		for k, val := range *dst {
			if !isLabelKey(k) {
				return fmt.Errorf("%s: %q is not a valid label key: use [prefix/]name with a name of at most 63 letters, digits, '-', '_' or '.'", path, k)
			}
			if val != "" && !isLabelValue(val) {
				return fmt.Errorf("%s.%s: %q is not a valid label value: use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", path, k, val)
			}
		}
		return nil
	}
}

// IsDNSLabel reports whether s is an RFC 1123 label (a Kubernetes namespace
// or object name part): 1–63 lower-case letters, digits and '-', not at
// either end.
func IsDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, r := range s {
		alnum := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if !alnum && (r != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

func isLabelValue(s string) bool {
	if len(s) > 63 {
		return false
	}
	for i, r := range s {
		alnum := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !alnum && ((r != '-' && r != '_' && r != '.') || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

func isLabelKey(k string) bool {
	name := k
	if prefix, n, ok := strings.Cut(k, "/"); ok {
		if prefix == "" || len(prefix) > 253 {
			return false
		}
		for _, part := range strings.Split(prefix, ".") {
			if !IsDNSLabel(part) {
				return false
			}
		}
		name = n
	}
	return name != "" && isLabelValue(name)
}
