package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// yamlSpec is one deployment in a YAML file. Unknown keys are errors.
type yamlSpec struct {
	Name         string        `yaml:"name"`
	FlowName     string        `yaml:"flow_name"`
	FlowLocation string        `yaml:"flow_location"`
	Command      yamlCommand   `yaml:"command"`
	PushToServer *bool         `yaml:"push_to_server"`
	Parameters   yaml.Node     `yaml:"parameters"`
	Schedule     *yamlSchedule `yaml:"schedule"`
	Tags         []string      `yaml:"tags"`
	// Infrastructure is also accepted under Prefect's name, flow_runner.
	Infrastructure    *yamlInfra `yaml:"infrastructure"`
	FlowRunner        *yamlInfra `yaml:"flow_runner"`
	WorkQueueName     string     `yaml:"work_queue_name"`
	Retries           *int       `yaml:"retries"`
	RetryDelaySeconds *float64   `yaml:"retry_delay_seconds"`
	Description       string     `yaml:"description"`
}

// yamlSchedule is a schedule mapping: interval (+ anchor_date, timezone),
// cron (+ timezone, day_or) or rrule (+ timezone).
type yamlSchedule struct {
	Interval   *yamlSeconds `yaml:"interval"`
	AnchorDate string       `yaml:"anchor_date"`
	Timezone   string       `yaml:"timezone"`
	Cron       string       `yaml:"cron"`
	DayOr      *bool        `yaml:"day_or"`
	RRule      string       `yaml:"rrule"`
}

// yamlInfra is an infrastructure mapping: type and env, with every other
// key (or the keys of an explicit config mapping) going to config.
type yamlInfra struct {
	Type   string            `yaml:"type"`
	Env    map[string]string `yaml:"env"`
	Config map[string]any    `yaml:"config"`
	Extra  map[string]any    `yaml:",inline"`
}

// yamlCommand is a command: a list of strings (argv), or one string run by
// the shell (["/bin/sh", "-c", string]).
type yamlCommand []string

func (c *yamlCommand) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*c = nil
			return nil
		}
		*c = yamlCommand{"/bin/sh", "-c", n.Value}
		return nil
	case yaml.SequenceNode:
		argv := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: command items must be strings", item.Line)
			}
			argv = append(argv, item.Value)
		}
		*c = argv
		return nil
	}
	return fmt.Errorf("line %d: command must be a string or a list of strings", n.Line)
}

// yamlSeconds is an interval: a number of seconds, or a Go duration
// string such as "1h30m".
type yamlSeconds float64

func (s *yamlSeconds) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			*s = yamlSeconds(f)
			return nil
		}
		if d, err := time.ParseDuration(n.Value); err == nil {
			*s = yamlSeconds(d.Seconds())
			return nil
		}
	}
	return fmt.Errorf("line %d: interval must be a number of seconds (or a duration such as 1h30m)", n.Line)
}

// yamlEntry is a loaded YAML deployment. Python flows need inspecting (by
// running the script) before they can be created: that fills FlowName and
// ParameterSchema.
type yamlEntry struct {
	spec    *deploymentSpec
	inspect bool
}

// loadYAMLSpecs reads the deployments in a YAML file: one mapping or a list
// of mappings per document. It checks everything that can be checked
// without running Python; any problem fails the whole file, so nothing is
// half-applied.
func loadYAMLSpecs(path string) ([]yamlEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read '%s': %v", path, unwrapPathError(err))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	raw, lines, err := decodeYAMLSpecs(data)
	if err != nil {
		return nil, fmt.Errorf("invalid deployment file '%s': %v", path, err)
	}
	entries := make([]yamlEntry, 0, len(raw))
	for i, ys := range raw {
		e, err := ys.toEntry(filepath.Dir(abs))
		if err != nil {
			who := fmt.Sprintf("deployment #%d (line %d)", i+1, lines[i])
			if ys.Name != "" {
				who = fmt.Sprintf("deployment '%s' (line %d)", ys.Name, lines[i])
			}
			return nil, fmt.Errorf("invalid deployment file '%s': %s: %v", path, who, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// decodeYAMLSpecs decodes every document of data. It returns the specs and
// the line each starts on. Each document is read twice, in step: once as
// nodes, to tell a mapping from a list and to find line numbers, and once
// with KnownFields into the typed structs (yaml.Node.Decode would not check
// field names).
func decodeYAMLSpecs(data []byte) ([]yamlSpec, []int, error) {
	nodes := yaml.NewDecoder(bytes.NewReader(data))
	typed := yaml.NewDecoder(bytes.NewReader(data))
	typed.KnownFields(true)
	var specs []yamlSpec
	var lines []int
	for {
		var doc yaml.Node
		err := nodes.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return specs, lines, nil
		}
		if err != nil {
			return nil, nil, yamlError(err)
		}
		top := &doc
		if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
			top = top.Content[0]
		}
		switch top.Kind {
		case yaml.MappingNode:
			var s yamlSpec
			if err := typed.Decode(&s); err != nil {
				return nil, nil, yamlError(err)
			}
			specs = append(specs, s)
			lines = append(lines, top.Line)
		case yaml.SequenceNode:
			var list []yamlSpec
			if err := typed.Decode(&list); err != nil {
				return nil, nil, yamlError(err)
			}
			for i, item := range top.Content {
				if i < len(list) {
					lines = append(lines, item.Line)
				}
			}
			specs = append(specs, list...)
		case yaml.ScalarNode:
			if top.Tag == "!!null" { // an empty document
				var skip any
				if err := typed.Decode(&skip); err != nil && !errors.Is(err, io.EOF) {
					return nil, nil, yamlError(err)
				}
				continue
			}
			fallthrough
		default:
			return nil, nil, fmt.Errorf("line %d: expected a deployment mapping or a list of them", top.Line)
		}
	}
}

var (
	reUnknownField = regexp.MustCompile(`(?s)^line (\d+): field (.+) not found in type \S+$`)
	reGoType       = regexp.MustCompile(`into (\S+)$`)
)

// goTypeNames replaces Go type names in yaml.v3's messages.
var goTypeNames = map[string]string{
	"cli.yamlSpec":            "a deployment mapping",
	"[]cli.yamlSpec":          "a list of deployments",
	"*cli.yamlSchedule":       "a schedule mapping",
	"cli.yamlSchedule":        "a schedule mapping",
	"*cli.yamlInfra":          "an infrastructure mapping",
	"cli.yamlInfra":           "an infrastructure mapping",
	"[]string":                "a list of strings",
	"map[string]string":       "a mapping of strings",
	"map[string]interface {}": "a mapping",
	"string":                  "a string",
	"int":                     "an integer",
	"float64":                 "a number",
	"bool":                    "a boolean",
}

// yamlError makes yaml.v3's errors readable: one line, naming the unknown
// field, and without Go type names.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return errors.New(strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", `\n`))
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, m := range te.Errors {
		if g := reUnknownField.FindStringSubmatch(m); g != nil {
			m = fmt.Sprintf("line %s: unknown field '%s'", g[1], g[2])
			if strings.IndexFunc(g[2], unicode.IsControl) >= 0 {
				m = fmt.Sprintf("line %s: unknown field %q", g[1], g[2])
			}
		} else if g := reGoType.FindStringSubmatch(m); g != nil {
			if name, ok := goTypeNames[strings.TrimPrefix(g[1], "*")]; ok {
				m = strings.TrimSuffix(m, g[1]) + name
			}
		}
		msgs = append(msgs, m)
	}
	// Keys and values quoted by yaml.v3 may hold newlines; errors are one line.
	return errors.New(strings.ReplaceAll(strings.Join(msgs, "; "), "\n", `\n`))
}

// toEntry validates a decoded spec and turns it into a deploymentSpec.
// Relative flow locations resolve against dir, the YAML file's folder.
func (y *yamlSpec) toEntry(dir string) (yamlEntry, error) {
	if strings.TrimSpace(y.Name) == "" {
		return yamlEntry{}, errors.New("name is required")
	}
	s := &deploymentSpec{
		Name:          y.Name,
		FlowName:      y.FlowName,
		Tags:          y.Tags,
		WorkQueueName: y.WorkQueueName,
		Description:   y.Description,
		PushToServer:  true,
	}
	if y.PushToServer != nil {
		s.PushToServer = *y.PushToServer
	}
	switch {
	case y.FlowLocation != "" && y.Command != nil:
		return yamlEntry{}, errors.New("give either flow_location or command, not both")
	case y.FlowLocation == "" && y.Command == nil:
		return yamlEntry{}, errors.New("flow_location (a Python script) or command is required")
	case y.Command != nil:
		if len(y.Command) == 0 || y.Command[0] == "" {
			return yamlEntry{}, errors.New("command must not be empty")
		}
		if y.FlowName == "" {
			return yamlEntry{}, errors.New("flow_name is required for a command deployment")
		}
		s.Command = y.Command
		s.PushToServer = false
	default:
		s.FlowLocation = resolvePath(dir, y.FlowLocation)
	}
	if y.Parameters.Kind != 0 {
		params, err := nodeValue(&y.Parameters)
		if err != nil {
			return yamlEntry{}, fmt.Errorf("parameters: %v", err)
		}
		m, ok := params.(map[string]any)
		if !ok && params != nil {
			return yamlEntry{}, fmt.Errorf("line %d: parameters must be a mapping", y.Parameters.Line)
		}
		s.Parameters = m
	}
	if y.Schedule != nil {
		s.Schedule = &scheduleSpec{
			AnchorDate: y.Schedule.AnchorDate,
			Timezone:   y.Schedule.Timezone,
			Cron:       y.Schedule.Cron,
			DayOr:      y.Schedule.DayOr,
			RRule:      y.Schedule.RRule,
		}
		if y.Schedule.Interval != nil {
			secs := float64(*y.Schedule.Interval)
			s.Schedule.Interval = &secs
		}
	}
	if y.Infrastructure != nil && y.FlowRunner != nil {
		return yamlEntry{}, errors.New("give either infrastructure or flow_runner, not both")
	}
	if in := cmpOr(y.Infrastructure, y.FlowRunner); in != nil {
		var err error
		if s.Infrastructure, err = in.toSpec(); err != nil {
			return yamlEntry{}, err
		}
	}
	if y.Retries != nil {
		s.Retries = *y.Retries
	}
	if y.RetryDelaySeconds != nil {
		s.RetryDelaySeconds = *y.RetryDelaySeconds
	}
	// Convert once now so that a bad schedule or retry setting fails the
	// file before anything is created.
	if _, err := s.toProto(""); err != nil {
		return yamlEntry{}, err
	}
	return yamlEntry{spec: s, inspect: !s.isCommand()}, nil
}

func cmpOr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// toSpec merges the explicit config mapping with the extra keys.
func (in *yamlInfra) toSpec() (*infraSpec, error) {
	cfg := map[string]any{}
	for k, v := range in.Config {
		cfg[k] = v
	}
	for k, v := range in.Extra {
		if _, dup := cfg[k]; dup {
			return nil, fmt.Errorf("infrastructure: '%s' is given twice (in config and beside it)", k)
		}
		cfg[k] = v
	}
	norm, err := normalizeYAML(cfg)
	if err != nil {
		return nil, fmt.Errorf("infrastructure: %v", err)
	}
	out := &infraSpec{Type: in.Type, Env: in.Env}
	if m := norm.(map[string]any); len(m) > 0 {
		out.Config = m
	}
	return out, nil
}

// resolvePath makes p absolute: "~/" is the user's home, and a relative
// path is relative to dir.
func resolvePath(dir, p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}

// nodeValue converts a YAML node into JSON-compatible values. Unlike
// decoding into `any`, it keeps timestamps as written ("2024-01-01" stays a
// string rather than becoming a time).
func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0])
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: merge keys (<<) are not supported", k.Line)
			}
			val, err := nodeValue(v)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			val, err := nodeValue(item)
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	case yaml.ScalarNode:
		if n.ShortTag() == "!!timestamp" {
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return normalizeYAML(v)
	}
	return nil, nil
}

// normalizeYAML turns decoded YAML into JSON-compatible values: mappings
// with non-string keys get string keys, times become RFC 3339 strings, and
// non-finite numbers are rejected.
func normalizeYAML(v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		if t == nil {
			return nil, nil
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case time.Time:
		return t.Format(time.RFC3339Nano), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, fmt.Errorf("%v is not a valid JSON number", t)
		}
		return t, nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	}
	return v, nil
}

// unwrapPathError drops the path from an *os.PathError (we print it ourselves).
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
