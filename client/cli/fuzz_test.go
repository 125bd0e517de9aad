package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	python "github.com/orion-run/orion/sdk/python"
)

// requireOneLine fails the test when a user-facing error spans several lines.
func requireOneLine(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Fatalf("%s: the error is not one line: %q", what, err)
	}
}

// FuzzYAMLSpecs feeds arbitrary bytes to the YAML deployment loader: it must
// never panic, its errors are one line, and every spec it accepts converts
// to a deployment that marshals.
func FuzzYAMLSpecs(f *testing.F) {
	if seed, err := os.ReadFile(filepath.Join("..", "..", "examples", "shell", "deployments.yaml")); err == nil {
		f.Add(seed)
	}
	for _, s := range []string{
		"name: a\nflow_location: flow.py\nschedule: {cron: '0 9 * * *', timezone: Europe/London}\n",
		"- name: b\n  flow_name: f\n  command: [echo, hi]\n  parameters: {n: 1, l: [1, {x: y}]}\n  retries: 2\n  retry_delay_seconds: 1.5\n",
		"name: c\nflow_location: /abs/flow.py\nschedule: {interval: 1h30m, anchor_date: '2022-01-01T00:00:00Z'}\ninfrastructure: {type: subprocess, env: {A: b}}\n",
		"name: d\nflow_location: f.py\nschedule: {rrule: \"DTSTART:20220101T090000\\nRRULE:FREQ=DAILY;COUNT=3\"}\n",
		"---\n---\nname: e\nflow_name: f\ncommand: 'sh -c true'\n",
		"name: [1, 2]\n", "42", "{", "- - -", "name: x\nunknown_field: 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, lines, err := decodeYAMLSpecs(data)
		requireOneLine(t, "decode", err)
		if err != nil {
			return
		}
		if len(lines) != len(specs) {
			t.Fatalf("%d specs but %d line numbers", len(specs), len(lines))
		}
		for i := range specs {
			e, err := specs[i].toEntry("/fuzz")
			requireOneLine(t, "toEntry", err)
			if err != nil {
				continue
			}
			d, err := e.spec.toProto("sha256:" + strings.Repeat("0", 64))
			if err != nil {
				t.Fatalf("toEntry accepted a spec that toProto refuses: %v", err)
			}
			if _, err := proto.Marshal(d); err != nil {
				t.Fatalf("marshal: %v", err)
			}
		}
	})
}

// FuzzPythonLoaderOutput feeds arbitrary JSON, as the Python loader would
// print it, through the conversion to deployments.
func FuzzPythonLoaderOutput(f *testing.F) {
	f.Add([]byte(`{"deployments":[{"name":"hello-world-daily","flow_name":"hello-world","flow_location":"/x/flow.py","push_to_server":true,"parameters":{},"parameter_schema":{"type":"object","properties":{"name":{"default":"world"}},"required":[]},"schedule":null,"tags":[],"flow_runner":null,"description":"","work_queue_name":"","retries":null,"retry_delay_seconds":null,"flow_version":"1","source":{"file":"/x/flow.py","line":9}}],"errors":[]}`))
	f.Add([]byte(`{"deployments":[{"name":"s","flow_name":"f","schedule":{"interval":-5,"timezone":"Nowhere/Land"},"retries":-1,"retry_delay_seconds":1e308,"flow_runner":{"type":"docker","env":{"A":"b"},"config":{"image":"x"}}}]}`))
	f.Add([]byte(`{"deployments":[{"name":"c","schedule":{"cron":"@daily","day_or":false}},{"name":"r","schedule":{"rrule":"FREQ=HOURLY","anchor_date":"2022-01-01T00:00:00Z"}}],"errors":[{"name":"x","message":"boom"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var res python.LoadResult
		if json.Unmarshal(data, &res) != nil {
			return
		}
		out := fromLoadResult(&res)
		if len(out.Specs) != len(res.Deployments) || len(out.Errors) != len(res.Errors) {
			t.Fatalf("converted %d specs and %d errors from %d and %d", len(out.Specs), len(out.Errors), len(res.Deployments), len(res.Errors))
		}
		for _, s := range out.Specs {
			d, err := s.toProto("")
			requireOneLine(t, "toProto", err)
			if err == nil {
				if _, err := proto.Marshal(d); err != nil {
					t.Fatalf("marshal: %v", err)
				}
			}
		}
	})
}
