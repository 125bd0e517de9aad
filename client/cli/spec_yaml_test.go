package cli

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func loadYAMLText(t *testing.T, text string) ([]yamlEntry, string, error) {
	t.Helper()
	dir := t.TempDir()
	path := writeFile(t, dir, "deploy.yaml", text)
	entries, err := loadYAMLSpecs(path)
	return entries, dir, err
}

func mustLoadYAML(t *testing.T, text string) ([]yamlEntry, string) {
	t.Helper()
	entries, dir, err := loadYAMLText(t, text)
	if err != nil {
		t.Fatal(err)
	}
	return entries, dir
}

func TestLoadYAMLSpecs_SingleMapping(t *testing.T) {
	entries, dir := mustLoadYAML(t, `
name: hello-daily
flow_location: flows/hello.py
parameters: {name: world, count: 3, nested: {when: 2024-01-01}}
tags: [a, b]
work_queue_name: etl
retries: 2
retry_delay_seconds: 30
description: Says hello.
`)
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want 1", len(entries))
	}
	e := entries[0]
	if !e.inspect {
		t.Error("a python flow must be inspected")
	}
	want := &deploymentSpec{
		Name:              "hello-daily",
		FlowLocation:      filepath.Join(dir, "flows", "hello.py"),
		PushToServer:      true,
		Parameters:        map[string]any{"name": "world", "count": 3.0, "nested": map[string]any{"when": "2024-01-01"}},
		Tags:              []string{"a", "b"},
		WorkQueueName:     "etl",
		Retries:           2,
		RetryDelaySeconds: 30,
		Description:       "Says hello.",
	}
	if !reflect.DeepEqual(e.spec, want) {
		t.Fatalf("got  %#v\nwant %#v", e.spec, want)
	}
}

func TestLoadYAMLSpecs_ListAndDocuments(t *testing.T) {
	entries, dir := mustLoadYAML(t, `
- name: one
  flow_location: /abs/flow.py
  flow_name: hello
  push_to_server: false
- name: two
  command: echo hi
  flow_name: shell
---
name: three
command: ["./etl.sh", "--full"]
flow_name: etl
push_to_server: true
---
`)
	if len(entries) != 3 {
		t.Fatalf("got %d entries, want 3", len(entries))
	}
	one, two, three := entries[0].spec, entries[1].spec, entries[2].spec
	if one.FlowLocation != "/abs/flow.py" || one.FlowName != "hello" || one.PushToServer || !entries[0].inspect {
		t.Errorf("one = %+v", one)
	}
	if !reflect.DeepEqual(two.Command, []string{"/bin/sh", "-c", "echo hi"}) || entries[1].inspect || two.PushToServer {
		t.Errorf("two: command string must run through the shell: %+v", two)
	}
	if !reflect.DeepEqual(three.Command, []string{"./etl.sh", "--full"}) || three.PushToServer {
		t.Errorf("three: command list is argv, push_to_server ignored: %+v", three)
	}
	_ = dir
}

func TestLoadYAMLSpecs_RelativePaths(t *testing.T) {
	entries, dir := mustLoadYAML(t, `
- {name: a, flow_location: flow.py}
- {name: b, flow_location: ../up/flow.py}
- {name: c, flow_location: ./sub/../flow.py}
`)
	want := []string{
		filepath.Join(dir, "flow.py"),
		filepath.Join(filepath.Dir(dir), "up", "flow.py"),
		filepath.Join(dir, "flow.py"),
	}
	for i, e := range entries {
		if e.spec.FlowLocation != want[i] {
			t.Errorf("entry %d: got %s, want %s", i, e.spec.FlowLocation, want[i])
		}
	}
}

func TestLoadYAMLSpecs_Schedules(t *testing.T) {
	dayOrFalse := false
	tests := []struct {
		name string
		yaml string
		want *orionv1.Schedule
	}{
		{
			name: "interval seconds with anchor and timezone",
			yaml: `{interval: 3600, anchor_date: "2024-01-01T09:00:00", timezone: UTC}`,
			want: &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{
				Interval:   durationpb.New(time.Hour),
				AnchorDate: timestamppb.New(time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)),
				Timezone:   "UTC",
			}}},
		},
		{
			name: "interval with offset anchor (unquoted)",
			yaml: `{interval: 90.5, anchor_date: 2024-01-01T09:00:00+02:00}`,
			want: &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{
				Interval:   durationpb.New(90*time.Second + 500*time.Millisecond),
				AnchorDate: timestamppb.New(time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC)),
			}}},
		},
		{
			name: "interval as a duration string",
			yaml: `{interval: 1h30m}`,
			want: &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{
				Interval: durationpb.New(90 * time.Minute),
			}}},
		},
		{
			name: "cron",
			yaml: `{cron: "0 9 * * 1-5", timezone: Europe/Paris, day_or: false}`,
			want: &orionv1.Schedule{Kind: &orionv1.Schedule_Cron{Cron: &orionv1.CronSchedule{
				Cron: "0 9 * * 1-5", Timezone: "Europe/Paris", DayOr: &dayOrFalse,
			}}},
		},
		{
			name: "rrule",
			yaml: `{rrule: "FREQ=DAILY;BYHOUR=9", timezone: UTC}`,
			want: &orionv1.Schedule{Kind: &orionv1.Schedule_Rrule{Rrule: &orionv1.RRuleSchedule{
				Rrule: "FREQ=DAILY;BYHOUR=9", Timezone: "UTC",
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, _ := mustLoadYAML(t, "name: s\nflow_location: f.py\nschedule: "+tt.yaml+"\n")
			got, err := entries[0].spec.Schedule.toProto()
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestLoadYAMLSpecs_Infrastructure(t *testing.T) {
	entries, _ := mustLoadYAML(t, `
- name: a
  flow_location: f.py
  infrastructure: {type: DockerFlowRunner, env: {LEVEL: 3, MODE: fast}, image: "python:3.12", volumes: ["/a:/b"]}
- name: b
  flow_location: f.py
  flow_runner: {type: universal, config: {stream_output: true}}
`)
	a, err := entries[0].spec.Infrastructure.toProto()
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != "docker" || !reflect.DeepEqual(a.Env, map[string]string{"LEVEL": "3", "MODE": "fast"}) {
		t.Errorf("a = %v", a)
	}
	if got := a.Config.AsMap(); !reflect.DeepEqual(got, map[string]any{"image": "python:3.12", "volumes": []any{"/a:/b"}}) {
		t.Errorf("a config = %v", got)
	}
	b, err := entries[1].spec.Infrastructure.toProto()
	if err != nil {
		t.Fatal(err)
	}
	if b.Type != "subprocess" || !reflect.DeepEqual(b.Config.AsMap(), map[string]any{"stream_output": true}) {
		t.Errorf("b = %v", b)
	}
}

func TestLoadYAMLSpecs_Errors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // substring of the error, after "invalid deployment file '<path>': "
	}{
		{name: "unknown top-level field", yaml: "name: a\nflow_location: f.py\nflow_locaton: g.py\n",
			want: "line 3: unknown field 'flow_locaton'"},
		{name: "unknown schedule field", yaml: "name: a\nflow_location: f.py\nschedule:\n  interval: 60\n  every: 3\n",
			want: "line 5: unknown field 'every'"},
		{name: "unknown field in a list item", yaml: "- name: a\n  flow_location: f.py\n- name: b\n  command: x\n  flow: y\n",
			want: "line 5: unknown field 'flow'"},
		{name: "missing name", yaml: "- name: a\n  flow_location: f.py\n- flow_location: g.py\n",
			want: "deployment #2 (line 3): name is required"},
		{name: "missing flow", yaml: "name: a\ntags: [x]\n",
			want: "deployment 'a' (line 1): flow_location (a Python script) or command is required"},
		{name: "both flow and command", yaml: "name: a\nflow_location: f.py\ncommand: ls\nflow_name: x\n",
			want: "deployment 'a' (line 1): give either flow_location or command, not both"},
		{name: "command without flow name", yaml: "name: a\ncommand: [ls]\n",
			want: "deployment 'a' (line 1): flow_name is required for a command deployment"},
		{name: "empty command", yaml: "name: a\ncommand: []\nflow_name: x\n",
			want: "command must not be empty"},
		{name: "command of mappings", yaml: "name: a\ncommand: [{a: 1}]\nflow_name: x\n",
			want: "line 2: command items must be strings"},
		{name: "two schedule kinds", yaml: "name: a\nflow_location: f.py\nschedule: {interval: 60, cron: '* * * * *'}\n",
			want: "schedule: exactly one of interval, cron or rrule is required"},
		{name: "no schedule kind", yaml: "name: a\nflow_location: f.py\nschedule: {timezone: UTC}\n",
			want: "schedule: exactly one of interval, cron or rrule is required"},
		{name: "zero interval", yaml: "name: a\nflow_location: f.py\nschedule: {interval: 0}\n",
			want: "schedule: interval must be a positive number of seconds"},
		{name: "bad interval", yaml: "name: a\nflow_location: f.py\nschedule: {interval: often}\n",
			want: "interval must be a number of seconds"},
		{name: "bad anchor", yaml: "name: a\nflow_location: f.py\nschedule: {interval: 60, anchor_date: soon}\n",
			want: "schedule: anchor_date: invalid date 'soon'"},
		{name: "day_or without cron", yaml: "name: a\nflow_location: f.py\nschedule: {rrule: FREQ=DAILY, day_or: true}\n",
			want: "schedule: day_or is only valid with cron"},
		{name: "negative retries", yaml: "name: a\nflow_location: f.py\nretries: -1\n",
			want: "retries must be between 0"},
		{name: "wrong type", yaml: "name: a\nflow_location: f.py\ntags: 3\n",
			want: "line 3: cannot unmarshal !!int `3` into a list of strings"},
		{name: "both infrastructure and flow_runner", yaml: "name: a\nflow_location: f.py\ninfrastructure: {type: docker}\nflow_runner: {type: docker}\n",
			want: "give either infrastructure or flow_runner, not both"},
		{name: "bad pull policy", yaml: "name: a\nflow_location: f.py\ninfrastructure: {type: docker, image_pull_policy: sometimes}\n",
			want: `deployment 'a' (line 1): infrastructure.config.image_pull_policy: expected one of IF_NOT_PRESENT, ALWAYS, NEVER, got "sometimes"`},
		{name: "unknown infrastructure field", yaml: "name: a\nflow_location: f.py\nflow_runner: {type: kubernetes, namespce: x}\n",
			want: "infrastructure.config.namespce: unknown field for kubernetes infrastructure; valid fields: api_url, auto_remove,"},
		{name: "bad memory", yaml: "name: a\nflow_location: f.py\ninfrastructure: {type: docker, resources: {limits: {memory: lots}}}\n",
			want: `infrastructure.config.resources.limits.memory: "lots" is not a memory quantity`},
		{name: "scalar document", yaml: "hello\n", want: "line 1: expected a deployment mapping or a list of them"},
		{name: "syntax error", yaml: "name: [a\n", want: "line 1: did not find expected ',' or ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir, err := loadYAMLText(t, tt.yaml)
			if err == nil {
				t.Fatal("no error")
			}
			prefix := "invalid deployment file '" + filepath.Join(dir, "deploy.yaml") + "': "
			msg := err.Error()
			if !strings.HasPrefix(msg, prefix) {
				t.Fatalf("error %q does not start with %q", msg, prefix)
			}
			if !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q does not contain %q", msg, tt.want)
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "cli.") {
				t.Fatalf("error %q should be one line without Go type names", msg)
			}
		})
	}
}

func TestLoadYAMLSpecs_Empty(t *testing.T) {
	entries, _ := mustLoadYAML(t, "# nothing here\n")
	if len(entries) != 0 {
		t.Fatalf("got %d entries", len(entries))
	}
	if _, err := loadYAMLSpecs(filepath.Join(t.TempDir(), "missing.yaml")); err == nil ||
		!strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("missing file: %v", err)
	}
}
