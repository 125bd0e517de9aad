package cli

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeploymentSpecToProto_Python(t *testing.T) {
	interval := 3600.0
	s := &deploymentSpec{
		Name:              "daily",
		FlowName:          "hello",
		FlowLocation:      "/src/flow.py",
		PushToServer:      true,
		Parameters:        map[string]any{"name": "world"},
		ParameterSchema:   map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"default": "x"}}},
		Schedule:          &scheduleSpec{Interval: &interval, AnchorDate: "2024-01-01T09:00:00+01:00", Timezone: "Europe/Paris"},
		Tags:              []string{"etl"},
		Infrastructure:    &infraSpec{Type: "KubernetesFlowRunner", Env: map[string]string{"A": "1"}, Config: map[string]any{"namespace": "jobs"}},
		Retries:           3,
		RetryDelaySeconds: 1.5,
		Description:       "d",
	}
	got, err := s.toProto("sha256:abc")
	if err != nil {
		t.Fatal(err)
	}
	want := &orionv1.Deployment{
		Name:             "daily",
		FlowName:         "hello",
		FlowKind:         orionv1.FlowKind_FLOW_KIND_PYTHON,
		FlowLocation:     "/src/flow.py",
		PushToServer:     true,
		FlowSourceDigest: "sha256:abc",
		Parameters:       mustStruct(t, map[string]any{"name": "world"}),
		ParameterSchema:  mustStruct(t, s.ParameterSchema),
		Schedule: &orionv1.Schedule{Kind: &orionv1.Schedule_Interval{Interval: &orionv1.IntervalSchedule{
			Interval:   durationpb.New(time.Hour),
			AnchorDate: timestamppb.New(time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)),
			Timezone:   "Europe/Paris",
		}}},
		IsScheduleActive: true,
		Tags:             []string{"etl"},
		Infrastructure: &orionv1.Infrastructure{
			Type: "kubernetes", Env: map[string]string{"A": "1"}, Config: mustStruct(t, map[string]any{"namespace": "jobs"}),
		},
		WorkQueueName: "default",
		Retries:       3,
		RetryDelay:    durationpb.New(1500 * time.Millisecond),
		Description:   "d",
	}
	if !proto.Equal(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestDeploymentSpecToProto_Command(t *testing.T) {
	s := &deploymentSpec{
		Name:            "nightly",
		FlowName:        "etl",
		Command:         []string{"/bin/sh", "-c", "make etl"},
		PushToServer:    true, // ignored for commands
		FlowLocation:    "/ignored.py",
		Parameters:      map[string]any{"full": true, "n": 3.0},
		ParameterSchema: map[string]any{"ignored": true},
		WorkQueueName:   "batch",
	}
	got, err := s.toProto("")
	if err != nil {
		t.Fatal(err)
	}
	if got.FlowKind != orionv1.FlowKind_FLOW_KIND_COMMAND || got.PushToServer || got.FlowLocation != "" || got.FlowSourceDigest != "" {
		t.Errorf("command flow fields: %v", got)
	}
	if !reflect.DeepEqual(got.Command, s.Command) || got.WorkQueueName != "batch" {
		t.Errorf("command/queue: %v", got)
	}
	wantSchema := map[string]any{
		"type":                 "object",
		"properties":           map[string]any{"full": map[string]any{"default": true}, "n": map[string]any{"default": 3.0}},
		"additionalProperties": false,
	}
	if !reflect.DeepEqual(got.ParameterSchema.AsMap(), wantSchema) {
		t.Errorf("schema = %v, want %v", got.ParameterSchema.AsMap(), wantSchema)
	}
	if got.Schedule != nil || got.Infrastructure != nil || got.RetryDelay != nil {
		t.Errorf("unset fields must stay nil: %v", got)
	}

	// No parameters: the schema still forbids any.
	got, err = (&deploymentSpec{Name: "x", FlowName: "y", Command: []string{"true"}}).toProto("")
	if err != nil {
		t.Fatal(err)
	}
	if props := got.ParameterSchema.AsMap()["properties"]; !reflect.DeepEqual(props, map[string]any{}) {
		t.Errorf("empty command schema properties = %v", props)
	}
}

func TestDeploymentSpecToProto_Errors(t *testing.T) {
	neg := -1.0
	tests := []struct {
		spec deploymentSpec
		want string
	}{
		{deploymentSpec{Retries: -1}, "retries must be between 0"},
		{deploymentSpec{RetryDelaySeconds: -2}, "retry_delay_seconds must be a non-negative number"},
		{deploymentSpec{Schedule: &scheduleSpec{Interval: &neg}}, "schedule: interval must be a positive number of seconds"},
		{deploymentSpec{Schedule: &scheduleSpec{Cron: "* * * * *", AnchorDate: "2024-01-01"}}, "schedule: anchor_date is only valid with interval"},
		{deploymentSpec{Parameters: map[string]any{"c": make(chan int)}}, "parameters:"},
	}
	for _, tt := range tests {
		_, err := tt.spec.toProto("")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.spec, err, tt.want)
		}
	}
}

func TestInfraType(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "subprocess",
		"universal":            "subprocess",
		"UniversalFlowRunner":  "subprocess",
		"subprocess":           "subprocess",
		"SubprocessFlowRunner": "subprocess",
		"process":              "subprocess",
		"docker":               "docker",
		"DockerFlowRunner":     "docker",
		" Docker ":             "docker",
		"kubernetes":           "kubernetes",
		"KubernetesFlowRunner": "kubernetes",
		"k8s":                  "kubernetes",
		"noop":                 "noop",
		"Nomad":                "nomad",
	} {
		if got := infraType(in); got != want {
			t.Errorf("infraType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		in, tz string
		want   time.Time
	}{
		{"2024-01-02T09:00:00Z", "", time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)},
		{"2024-01-02T09:00:00+01:00", "America/New_York", time.Date(2024, 1, 2, 8, 0, 0, 0, time.UTC)},
		{"2024-01-02 09:00:00+00:00", "", time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)},
		{"2024-01-02T09:00:00.250000", "", time.Date(2024, 1, 2, 9, 0, 0, 250e6, time.UTC)},
		{"2024-01-02T09:00:00", "Europe/Paris", time.Date(2024, 1, 2, 9, 0, 0, 0, paris)},
		{"2024-01-02T09:00", "", time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)},
		{"2024-01-02", "", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseTimestamp(tt.in, tt.tz)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("%q in %q = %v, want %v", tt.in, tt.tz, got, tt.want)
		}
	}
	for _, bad := range []struct{ in, tz, want string }{
		{"tomorrow", "", "invalid date 'tomorrow'"},
		{"2024-13-01", "", "invalid date"},
		{"2024-01-01T00:00:00", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"},
	} {
		if _, err := parseTimestamp(bad.in, bad.tz); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want %q", bad.in, err, bad.want)
		}
	}
}
