package cli

import (
	"context"
	"strings"
)

// pythonRuntime is what the CLI needs from the Python runtime (package
// sdk/python). The production implementation is sdkRuntime; tests use a
// scripted double.
type pythonRuntime interface {
	// LoadSpecs runs a Python deployment script and returns the specs it
	// declared. A script that raised yields a *pyScriptError.
	LoadSpecs(ctx context.Context, home, file string) (*pyLoadResult, error)
	// InspectFlow loads the flow named flowName (or the only flow) from a
	// script. A script that raised yields a *pyScriptError.
	InspectFlow(ctx context.Context, home, path, flowName string) (*pyFlowInfo, error)
}

// pyLoadResult is the outcome of loading a deployment script: the specs
// that loaded, and the ones whose flow could not be loaded.
type pyLoadResult struct {
	Specs  []*deploymentSpec
	Errors []pySpecError
	// Output is what the script printed while it ran.
	Output string
}

// pySpecError is a spec that could not be loaded.
type pySpecError struct {
	Name         string
	FlowName     string
	FlowLocation string
	Message      string
	Traceback    string
}

// pyFlowInfo describes one flow in a script.
type pyFlowInfo struct {
	FlowName        string
	FlowLocation    string
	ParameterSchema map[string]any
}

// pyScriptError is a Python script that raised while loading.
type pyScriptError struct {
	Path      string
	Message   string
	Traceback string
}

// Error is the runtime's one-line message, e.g. "Script at '<path>'
// encountered an exception: ValueError: bad".
func (e *pyScriptError) Error() string { return oneLine(e.Message) }

// details is what to print under a failure headline: the traceback, plus
// the message when the traceback does not already end with it.
func details(message, traceback string) string {
	message = strings.TrimSpace(message)
	traceback = strings.TrimRight(traceback, "\n")
	switch {
	case traceback == "":
		return message
	case message == "" || strings.Contains(traceback, message):
		return traceback
	}
	return traceback + "\n" + message
}
