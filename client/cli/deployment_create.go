package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

const createHelp = `Create or update deployments from a file.

FILE is a Python script that declares DeploymentSpec(...) objects (.py), or
a YAML file (.yml, .yaml) holding one deployment mapping or a list of them:

  - name: hello-daily            # required
    flow_location: ./flow.py     # a Python script (relative to this file), or:
    # command: ["./etl.sh", "--full"]   (a string runs through /bin/sh -c)
    flow_name: hello             # required for commands and multi-flow scripts
    push_to_server: true         # store the script on the server (default)
    parameters: {name: world}
    schedule: {interval: 3600, anchor_date: "2024-01-01T09:00:00Z"}
    # schedule: {cron: "0 9 * * *", timezone: Europe/Paris, day_or: true}
    # schedule: {rrule: "FREQ=DAILY;BYHOUR=9", timezone: UTC}
    tags: [etl]
    infrastructure: {type: docker, env: {LOG_LEVEL: debug}, image: "python:3.12"}
    work_queue_name: default
    retries: 2
    retry_delay_seconds: 30
    description: Says hello every hour.

Creating a deployment that exists (same flow and name) updates it.`

// newDeploymentCreateCommand is `orion deployment create FILE`.
func newDeploymentCreateCommand(m *meta) *cobra.Command {
	return &cobra.Command{
		Use:   "create FILE",
		Short: "Create or update deployments from a .py or .yaml file",
		Long:  createHelp,
		Args:  exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.createDeployments(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0])
		},
	}
}

// createItem is one spec to create, or one that already failed to load.
type createItem struct {
	spec *deploymentSpec
	// inspect: the flow is read from the script before creating (YAML specs
	// of Python flows).
	inspect bool
	// loadErr: the spec failed to load; print it and count it as failed.
	loadErr *pySpecError
}

// createDeployments implements `orion deployment create`.
func (m *meta) createDeployments(ctx context.Context, out, errOut io.Writer, path string) error {
	var items []createItem
	switch strings.ToLower(filepath.Ext(path)) {
	case ".py":
		fmt.Fprintf(out, "Loading deployments from python script at '%s'...\n", path)
		loaded, err := m.loadPythonItems(ctx, errOut, path)
		if err != nil {
			return err
		}
		items = loaded
	case ".yml", ".yaml":
		fmt.Fprintf(out, "Loading deployments from yaml file at '%s'...\n", path)
		entries, err := loadYAMLSpecs(path)
		if err != nil {
			return err
		}
		for _, e := range entries {
			items = append(items, createItem{spec: e.spec, inspect: e.inspect})
		}
	default:
		return errors.New("Unknown file type. Expected a '.py', '.yml', or '.yaml' file.")
	}
	if len(items) == 0 {
		return errors.New("No deployment specifications found!")
	}

	c, err := m.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	failed := 0
	for _, it := range items {
		if err := m.createOne(ctx, c, out, it); err != nil {
			if client.IsUnavailable(err) || ctx.Err() != nil {
				return err // every other spec would fail the same way
			}
			failed++
		}
	}
	if failed > 0 {
		return exitCode1(fmt.Errorf("failed to create %d of %d deployments", failed, len(items)))
	}
	return nil
}

// loadPythonItems runs the script and collects its specs and failures.
func (m *meta) loadPythonItems(ctx context.Context, errOut io.Writer, path string) ([]createItem, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("cannot read '%s': %v", path, unwrapPathError(err))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	res, err := m.py.LoadSpecs(ctx, m.home(), abs)
	var se *pyScriptError
	if errors.As(err, &se) {
		// The traceback, then Main's one line with the message.
		if tb := strings.TrimRight(se.Traceback, "\n"); tb != "" {
			fmt.Fprintln(errOut, tb)
		}
		return nil, exitCode1(se)
	}
	if err != nil {
		return nil, err
	}
	if res.Output != "" {
		// What the script printed (the loader keeps it off its own stdout).
		fmt.Fprint(errOut, strings.TrimRight(res.Output, "\n")+"\n")
	}
	items := make([]createItem, 0, len(res.Specs)+len(res.Errors))
	for _, s := range res.Specs {
		items = append(items, createItem{spec: s})
	}
	for i := range res.Errors {
		items = append(items, createItem{loadErr: &res.Errors[i]})
	}
	return items, nil
}

// createOne creates one deployment and prints the outcome. A non-nil error
// means it failed (and was reported).
func (m *meta) createOne(ctx context.Context, c *client.Client, out io.Writer, it createItem) error {
	if le := it.loadErr; le != nil {
		s := &deploymentSpec{Name: le.Name, FlowName: le.FlowName, FlowLocation: le.FlowLocation}
		reportFailure(out, s, details(le.Message, le.Traceback))
		return errors.New(le.Message)
	}
	s := it.spec
	fail := func(err error) error {
		if !client.IsUnavailable(err) && ctx.Err() == nil {
			reportFailureLine(out, s, err)
		}
		return err
	}
	if it.inspect {
		info, err := m.py.InspectFlow(ctx, m.home(), s.FlowLocation, s.FlowName)
		if err != nil {
			var se *pyScriptError
			if errors.As(err, &se) {
				reportFailure(out, s, details(se.Message, se.Traceback))
			} else {
				reportFailure(out, s, err.Error())
			}
			return err
		}
		s.FlowName = info.FlowName
		if info.FlowLocation != "" {
			s.FlowLocation = info.FlowLocation
		}
		s.ParameterSchema = info.ParameterSchema
	}

	// Converting checks the spec (infrastructure included) before anything
	// is uploaded.
	dep, err := s.toProto("")
	if err != nil {
		return fail(err)
	}
	if s.pushesSource() {
		text, err := os.ReadFile(s.FlowLocation)
		if err != nil {
			return fail(fmt.Errorf("cannot read flow script '%s': %v", s.FlowLocation, unwrapPathError(err)))
		}
		resp, err := c.Flows.PutFlowSource(ctx, &orionv1.PutFlowSourceRequest{
			Text: string(text), FileName: filepath.Base(s.FlowLocation),
		})
		if err != nil {
			return fail(apiErr(err, ""))
		}
		dep.FlowSourceDigest = resp.GetDigest()
	}
	resp, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: dep})
	if err != nil {
		return fail(apiErr(err, ""))
	}
	verb := "Updated"
	if resp.GetCreated() {
		verb = "Created"
	}
	fmt.Fprintf(out, "%s deployment '%s' %s\n", verb, s.Name, s.flowLabel())
	return nil
}

// reportFailure prints Prefect's failure headline and the details (a
// traceback) below it.
func reportFailure(out io.Writer, s *deploymentSpec, detail string) {
	fmt.Fprintf(out, "Failed to create deployment '%s' %s\n", s.Name, s.flowLabel())
	if detail = strings.TrimRight(detail, "\n"); detail != "" {
		fmt.Fprintln(out, detail)
	}
}

// reportFailureLine prints a one-line failure: "Failed to create deployment
// 'x' for flow 'y': <message>".
func reportFailureLine(out io.Writer, s *deploymentSpec, err error) {
	fmt.Fprintf(out, "Failed to create deployment '%s' %s: %s\n", s.Name, s.flowLabel(), oneLine(err.Error()))
}
