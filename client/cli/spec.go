package cli

import (
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/infra"
)

// defaultWorkQueue is the queue a deployment uses when its spec names none.
const defaultWorkQueue = "default"

// deploymentSpec is one deployment to create, loaded from a Python script or
// a YAML file. A spec with Command is a command flow; otherwise it is a
// Python flow at FlowLocation.
type deploymentSpec struct {
	Name         string
	FlowName     string
	FlowLocation string // absolute path of the Python script
	Command      []string
	PushToServer bool

	Parameters      map[string]any
	ParameterSchema map[string]any
	Schedule        *scheduleSpec
	Tags            []string
	Infrastructure  *infraSpec

	WorkQueueName     string
	Retries           int
	RetryDelaySeconds float64
	Description       string
}

// infraSpec is the infrastructure block of a spec (Prefect's flow_runner).
type infraSpec struct {
	Type   string
	Env    map[string]string
	Config map[string]any
}

func (s *deploymentSpec) isCommand() bool { return len(s.Command) > 0 }

// pushesSource reports whether the script text is stored on the server.
func (s *deploymentSpec) pushesSource() bool { return !s.isCommand() && s.PushToServer }

// flowLabel ends the per-spec messages: "for flow 'x'", or
// "for flow at '<location>'" while the flow name is unknown.
func (s *deploymentSpec) flowLabel() string {
	if s.FlowName != "" {
		return fmt.Sprintf("for flow '%s'", s.FlowName)
	}
	return fmt.Sprintf("for flow at '%s'", s.FlowLocation)
}

// toProto builds the CreateDeployment payload. digest is the stored script's
// digest when the source was pushed.
func (s *deploymentSpec) toProto(digest string) (*orionv1.Deployment, error) {
	d := &orionv1.Deployment{
		Name:             s.Name,
		FlowName:         s.FlowName,
		Tags:             s.Tags,
		WorkQueueName:    s.WorkQueueName,
		Description:      s.Description,
		IsScheduleActive: true,
	}
	if d.WorkQueueName == "" {
		d.WorkQueueName = defaultWorkQueue
	}
	if s.isCommand() {
		d.FlowKind = orionv1.FlowKind_FLOW_KIND_COMMAND
		d.Command = s.Command
	} else {
		d.FlowKind = orionv1.FlowKind_FLOW_KIND_PYTHON
		d.FlowLocation = s.FlowLocation
		d.PushToServer = s.PushToServer
		d.FlowSourceDigest = digest
	}
	var err error
	if d.Parameters, err = toStruct(s.Parameters); err != nil {
		return nil, fmt.Errorf("parameters: %v", err)
	}
	schema := s.ParameterSchema
	if s.isCommand() {
		schema = commandSchema(s.Parameters)
	}
	if d.ParameterSchema, err = toStruct(schema); err != nil {
		return nil, fmt.Errorf("parameter schema: %v", err)
	}
	if d.Schedule, err = s.Schedule.toProto(); err != nil {
		return nil, fmt.Errorf("schedule: %v", err)
	}
	if s.Retries < 0 || s.Retries > math.MaxInt32 {
		return nil, fmt.Errorf("retries must be between 0 and %d, got %d", math.MaxInt32, s.Retries)
	}
	d.Retries = int32(s.Retries)
	if s.RetryDelaySeconds < 0 || math.IsNaN(s.RetryDelaySeconds) || math.IsInf(s.RetryDelaySeconds, 0) {
		return nil, fmt.Errorf("retry_delay_seconds must be a non-negative number, got %v", s.RetryDelaySeconds)
	}
	if s.RetryDelaySeconds > 0 {
		d.RetryDelay = durationpb.New(time.Duration(math.Round(s.RetryDelaySeconds * float64(time.Second))))
	}
	if d.Infrastructure, err = s.Infrastructure.toProto(); err != nil {
		return nil, fmt.Errorf("infrastructure: %v", err)
	}
	// The server checks the same rules; checking here names the problem
	// before anything is uploaded.
	if d.Infrastructure != nil {
		if _, err := infra.Parse(d.Infrastructure); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// commandSchema is the strict schema of a command flow: exactly the
// parameters the spec declares, with their defaults.
func commandSchema(params map[string]any) map[string]any {
	props := make(map[string]any, len(params))
	for k, v := range params {
		props[k] = map[string]any{"default": v}
	}
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"additionalProperties": false,
	}
}

// toProto converts the infrastructure block; nil stays nil (the server
// defaults to subprocess).
func (in *infraSpec) toProto() (*orionv1.Infrastructure, error) {
	if in == nil {
		return nil, nil
	}
	cfg, err := toStruct(in.Config)
	if err != nil {
		return nil, err
	}
	return &orionv1.Infrastructure{Type: infraType(in.Type), Env: in.Env, Config: cfg}, nil
}

// infraType maps Prefect's flow runner names to Orion's infrastructure
// types (see infra.NormalizeType); unknown names pass through lower-cased
// for validation to reject.
func infraType(t string) string { return infra.NormalizeType(t) }

// toStruct converts a JSON-like map; nil stays nil.
func toStruct(m map[string]any) (*structpb.Struct, error) {
	if m == nil {
		return nil, nil
	}
	return structpb.NewStruct(m)
}
