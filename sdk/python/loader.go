package python

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// LoadResult is what `python3 -m orion.runtime.load specs FILE` reports: the
// deployment specs the file defines and the specs that failed to load.
// Specs with the same (name, flow_name) were already merged, last one wins.
type LoadResult struct {
	Deployments []Spec      `json:"deployments"`
	Errors      []SpecError `json:"errors"`

	// Output is everything the script printed while it ran (its stdout is
	// redirected to stderr so it cannot corrupt the JSON), for the CLI to
	// show. It is not part of the JSON document.
	Output string `json:"-"`
}

// Spec is one loaded DeploymentSpec, with its flow resolved.
//
// Free-form JSON values (Parameters, ParameterSchema, FlowRunner.Config)
// are decoded with encoding/json defaults: numbers become float64.
type Spec struct {
	Name         string `json:"name"`
	FlowName     string `json:"flow_name"`
	FlowLocation string `json:"flow_location"` // absolute path of the flow script
	PushToServer bool   `json:"push_to_server"`
	// Parameters are the deployment's default parameters (never nil after a
	// successful load). Python values such as datetimes arrive converted to
	// JSON the way pydantic does it (ISO 8601 strings, seconds, ...).
	Parameters map[string]any `json:"parameters"`
	// ParameterSchema is the flow's JSON schema: "type": "object",
	// "properties" (each with optional "default" and "type"), "required"
	// and, when the flow takes **kwargs, "additionalProperties": true.
	ParameterSchema map[string]any `json:"parameter_schema"`
	Schedule        *Schedule      `json:"schedule"`    // nil: no schedule
	Tags            []string       `json:"tags"`        // never nil after a successful load
	FlowRunner      *FlowRunner    `json:"flow_runner"` // nil: the agent's default
	// Description is the spec's description, else the flow's (its docstring
	// unless @flow(description=...) was given); "" when neither exists.
	Description   string `json:"description"`
	WorkQueueName string `json:"work_queue_name"` // "" when unset
	// Retries and RetryDelaySeconds come from the spec, else from the flow's
	// @flow(retries=..., retry_delay_seconds=...); nil when neither sets them.
	Retries           *int     `json:"retries"`
	RetryDelaySeconds *float64 `json:"retry_delay_seconds"`
	// FlowVersion is @flow(version=...), else an MD5 hash of the flow's file.
	FlowVersion string `json:"flow_version"`
	// Source is where the DeploymentSpec(...) call is (file may be empty).
	Source SourcePos `json:"source"`
}

// SourcePos is a position in a Python file.
type SourcePos struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Schedule is one of three kinds, told apart by which field is set (see
// Kind): an interval (Interval, AnchorDate, Timezone), a cron expression
// (Cron, Timezone, DayOr) or an RFC 5545 rule (RRule, Timezone).
type Schedule struct {
	// Interval in seconds (> 0).
	Interval *float64 `json:"interval,omitempty"`
	// AnchorDate aligns interval runs; nil means the server default (when the
	// schedule was stored, kept by re-creates with the same schedule). Always carries a UTC offset.
	AnchorDate *time.Time `json:"anchor_date,omitempty"`
	// Cron is a 5-field expression or an @keyword such as "@daily".
	Cron string `json:"cron,omitempty"`
	// DayOr: true (cron's default) = day-of-month OR day-of-week.
	DayOr *bool `json:"day_or,omitempty"`
	// RRule is RFC 5545 text, e.g. "DTSTART:20220101T090000\nRRULE:FREQ=DAILY".
	RRule string `json:"rrule,omitempty"`
	// Timezone is an IANA name; "" means UTC.
	Timezone string `json:"timezone,omitempty"`
}

// Kind returns "interval", "cron", "rrule", or "" for an empty schedule.
func (s *Schedule) Kind() string {
	switch {
	case s == nil:
		return ""
	case s.Interval != nil:
		return "interval"
	case s.Cron != "":
		return "cron"
	case s.RRule != "":
		return "rrule"
	}
	return ""
}

// IntervalDuration returns Interval as a time.Duration (0 if unset).
func (s *Schedule) IntervalDuration() time.Duration {
	if s == nil || s.Interval == nil {
		return 0
	}
	return time.Duration(*s.Interval * float64(time.Second))
}

// FlowRunner is a serialized flow runner: Type is "subprocess", "docker",
// "kubernetes" or "universal"; Env holds extra environment variables; Config
// holds the runner's other fields that are not None, under Prefect's names
// (image, image_pull_policy, networks, labels, volumes, auto_remove,
// stream_output, namespace, service_account_name, restart_policy,
// virtualenv, condaenv).
type FlowRunner struct {
	Type   string            `json:"type"`
	Env    map[string]string `json:"env"`
	Config map[string]any    `json:"config"`
}

// SpecError is a DeploymentSpec that could not be loaded, for example because
// its flow_location holds several flows and no flow_name was given.
type SpecError struct {
	Name         string `json:"name"`
	FlowName     string `json:"flow_name"`     // "" when not known
	FlowLocation string `json:"flow_location"` // "" when not known
	Message      string `json:"message"`       // one line
	Traceback    string `json:"traceback"`     // the user's frames; may be ""
}

// Error returns the one-line message.
func (e *SpecError) Error() string { return e.Message }

// ScriptError is returned when the loader cannot load the script itself: it
// raised (Message is "Script at '<path>' encountered an exception:
// <Type>: <msg>"), it does not exist, or (InspectFlow) it has no matching
// flow ("No flows found at path '<path>'." and the like).
type ScriptError struct {
	Path      string `json:"path"`
	Message   string `json:"message"`
	Traceback string `json:"traceback"` // the user's frames only; may be ""
}

// Error returns the one-line message.
func (e *ScriptError) Error() string { return e.Message }

// FlowInfo describes one flow, as reported by
// `python3 -m orion.runtime.load flow FILE [--flow-name N]`.
type FlowInfo struct {
	FlowName          string         `json:"flow_name"`
	FlowLocation      string         `json:"flow_location"` // absolute
	ParameterSchema   map[string]any `json:"parameter_schema"`
	FlowVersion       string         `json:"flow_version"`
	Description       string         `json:"description"`
	Retries           *int           `json:"retries"`
	RetryDelaySeconds *float64       `json:"retry_delay_seconds"`
}

// ErrPythonNotFound is matched (errors.Is) by the error returned when the
// interpreter named by Interpreter cannot be found.
var ErrPythonNotFound = errors.New("python interpreter not found")

type pythonNotFoundError struct{ name string }

func (e *pythonNotFoundError) Error() string {
	return e.name + " not found: install Python 3.9+ or set ORION_PYTHON"
}

func (e *pythonNotFoundError) Is(target error) bool { return target == ErrPythonNotFound }

// LookInterpreter resolves Interpreter() to an executable path, or returns an
// error matching ErrPythonNotFound that says how to fix it.
func LookInterpreter() (string, error) {
	name := Interpreter()
	p, err := exec.LookPath(name)
	if err != nil {
		return "", &pythonNotFoundError{name: name}
	}
	return p, nil
}

// waitDelay bounds how long the loader waits for pipes held open by
// processes the user's script left running after the loader exited.
const waitDelay = 5 * time.Second

// LoadSpecs installs the runtime under home, executes the deployment script
// file (like Prefect: the whole script runs, with its directory on sys.path)
// and returns every DeploymentSpec it defines. A file without specs gives an
// empty result and no error. If the script raises or does not exist the
// error is a *ScriptError; specs that fail individually are in Errors.
func LoadSpecs(ctx context.Context, home, file string) (*LoadResult, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("python: load specs: %w", err)
	}
	var res LoadResult
	output, err := runLoader(ctx, home, &res, "specs", abs)
	if err != nil {
		return nil, err
	}
	res.Output = output
	if res.Deployments == nil {
		res.Deployments = []Spec{}
	}
	if res.Errors == nil {
		res.Errors = []SpecError{}
	}
	for i := range res.Deployments {
		d := &res.Deployments[i]
		if d.Parameters == nil {
			d.Parameters = map[string]any{}
		}
		if d.Tags == nil {
			d.Tags = []string{}
		}
	}
	return &res, nil
}

// InspectFlow installs the runtime under home and loads the flow named
// flowName (or the only flow) from the script at path, for deployments that
// reference a Python flow_location from YAML. Failures are *ScriptError with
// Prefect's messages ("No flows found at path '<p>'.", "Flow '<x>' not found
// at path '<p>'. Found the following flows: a, b", "Found N flows at '<p>':
// a, b. Specify a flow name to select a flow to deploy.").
func InspectFlow(ctx context.Context, home, path, flowName string) (*FlowInfo, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("python: inspect flow: %w", err)
	}
	args := []string{"flow", abs}
	if flowName != "" {
		args = append(args, "--flow-name", flowName)
	}
	var info FlowInfo
	if _, err := runLoader(ctx, home, &info, args...); err != nil {
		return nil, err
	}
	return &info, nil
}

// runLoader runs `python -u -m orion.runtime.load ARGS...`, decodes its JSON
// document into out and returns the process's stderr (the user's output).
func runLoader(ctx context.Context, home string, out any, args ...string) (string, error) {
	dir, err := Install(home)
	if err != nil {
		return "", err
	}
	interp, err := LookInterpreter()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, interp, append([]string{"-u", "-m", "orion.runtime.load"}, args...)...)
	cmd.Env = Env(dir, os.Environ())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = waitDelay
	runErr := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return stderr.String(), fmt.Errorf("python: loader interrupted: %w", ctxErr)
	}
	code := 0
	if runErr != nil {
		var exitErr *exec.ExitError
		switch {
		case errors.As(runErr, &exitErr):
			code = exitErr.ExitCode()
		case errors.Is(runErr, exec.ErrWaitDelay):
			// Exited cleanly; a leftover child held the pipes open.
		default:
			return stderr.String(), fmt.Errorf("python: run loader: %w", runErr)
		}
	}
	doc := lastLine(stdout.Bytes())
	switch code {
	case 0:
		if err := json.Unmarshal(doc, out); err != nil {
			return stderr.String(), fmt.Errorf("python: decode loader output: %w (stderr: %s)", err, tail(stderr.String()))
		}
		return stderr.String(), nil
	case 1:
		var failure struct {
			Error *ScriptError `json:"error"`
		}
		if json.Unmarshal(doc, &failure) == nil && failure.Error != nil && failure.Error.Message != "" {
			return stderr.String(), failure.Error
		}
	}
	return stderr.String(), fmt.Errorf("python: loader exited with status %d: %s", code, summary(stderr.String()))
}

// summary returns the last line of s (where Python puts the exception, such
// as the runtime's "requires Python 3.9 or newer"), followed by the lines
// before it when there are any.
func summary(s string) string {
	t := tail(s)
	i := strings.LastIndexByte(t, '\n')
	if i < 0 {
		return t
	}
	return strings.TrimSpace(t[i+1:]) + "\n" + t[:i]
}

// lastLine returns the last non-empty line of b (the loader prints exactly
// one single-line JSON document).
func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return b
}

// tail returns the last few lines of s, for error messages.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(no output)"
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return strings.Join(lines, "\n")
}
