package cli

import (
	"context"
	"errors"
	"time"

	"github.com/orion-run/orion/sdk/python"
)

// sdkRuntime is the pythonRuntime backed by package sdk/python, which runs
// `python3 -m orion.runtime.load`.
type sdkRuntime struct{}

func (sdkRuntime) LoadSpecs(ctx context.Context, home, file string) (*pyLoadResult, error) {
	res, err := python.LoadSpecs(ctx, home, file)
	if err != nil {
		return nil, fromScriptError(err)
	}
	return fromLoadResult(res), nil
}

func (sdkRuntime) InspectFlow(ctx context.Context, home, path, flowName string) (*pyFlowInfo, error) {
	info, err := python.InspectFlow(ctx, home, path, flowName)
	if err != nil {
		return nil, fromScriptError(err)
	}
	return &pyFlowInfo{FlowName: info.FlowName, FlowLocation: info.FlowLocation, ParameterSchema: info.ParameterSchema}, nil
}

// fromScriptError turns a *python.ScriptError into a *pyScriptError; other
// errors pass through.
func fromScriptError(err error) error {
	var se *python.ScriptError
	if errors.As(err, &se) {
		return &pyScriptError{Path: se.Path, Message: se.Message, Traceback: se.Traceback}
	}
	return err
}

// fromLoadResult converts the runtime's specs into the CLI's.
func fromLoadResult(res *python.LoadResult) *pyLoadResult {
	out := &pyLoadResult{Output: res.Output}
	for i := range res.Deployments {
		out.Specs = append(out.Specs, fromPythonSpec(&res.Deployments[i]))
	}
	for _, e := range res.Errors {
		out.Errors = append(out.Errors, pySpecError{
			Name: e.Name, FlowName: e.FlowName, FlowLocation: e.FlowLocation,
			Message: e.Message, Traceback: e.Traceback,
		})
	}
	return out
}

// fromPythonSpec converts one loaded DeploymentSpec.
func fromPythonSpec(p *python.Spec) *deploymentSpec {
	s := &deploymentSpec{
		Name:            p.Name,
		FlowName:        p.FlowName,
		FlowLocation:    p.FlowLocation,
		PushToServer:    p.PushToServer,
		Parameters:      p.Parameters,
		ParameterSchema: p.ParameterSchema,
		Tags:            p.Tags,
		WorkQueueName:   p.WorkQueueName,
		Description:     p.Description,
	}
	if p.Retries != nil {
		s.Retries = *p.Retries
	}
	if p.RetryDelaySeconds != nil {
		s.RetryDelaySeconds = *p.RetryDelaySeconds
	}
	if sc := p.Schedule; sc != nil && sc.Kind() != "" {
		s.Schedule = &scheduleSpec{
			Interval: sc.Interval,
			Timezone: sc.Timezone,
			Cron:     sc.Cron,
			DayOr:    sc.DayOr,
			RRule:    sc.RRule,
		}
		if sc.AnchorDate != nil {
			s.Schedule.AnchorDate = sc.AnchorDate.Format(time.RFC3339Nano)
		}
	}
	if fr := p.FlowRunner; fr != nil {
		s.Infrastructure = &infraSpec{Type: fr.Type, Env: fr.Env, Config: fr.Config}
	}
	return s
}
