package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// errInvalidDeploymentName is Prefect's message for a name without a flow.
var errInvalidDeploymentName = errors.New("Invalid deployment name. Expected '<flow-name>/<deployment-name>'")

// deploymentRef is a parsed NAME_OR_ID argument: either ID, or Flow and Name.
type deploymentRef struct {
	ID   string
	Flow string
	Name string
}

// parseDeploymentRef parses "flow/deployment" or a UUID.
func parseDeploymentRef(arg string) (deploymentRef, error) {
	arg = strings.TrimSpace(arg)
	if isUUID(arg) {
		return deploymentRef{ID: strings.ToLower(arg)}, nil
	}
	flow, name, ok := strings.Cut(arg, "/")
	if !ok || flow == "" || name == "" || strings.Contains(name, "/") {
		return deploymentRef{}, errInvalidDeploymentName
	}
	return deploymentRef{Flow: flow, Name: name}, nil
}

// isUUID reports whether s is a UUID in its canonical 8-4-4-4-12 form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// deploymentNotFound is Prefect's message for a missing deployment.
func deploymentNotFound(arg string) error {
	return fmt.Errorf("Deployment '%s' not found!", arg)
}

// resolveDeployment fetches the deployment named by a NAME_OR_ID argument.
func resolveDeployment(ctx context.Context, c *client.Client, arg string) (*orionv1.Deployment, error) {
	ref, err := parseDeploymentRef(arg)
	if err != nil {
		return nil, err
	}
	var dep *orionv1.Deployment
	if ref.ID != "" {
		var resp *orionv1.GetDeploymentResponse
		resp, err = c.Deployments.GetDeployment(ctx, &orionv1.GetDeploymentRequest{Id: ref.ID})
		dep = resp.GetDeployment()
	} else {
		var resp *orionv1.GetDeploymentByNameResponse
		resp, err = c.Deployments.GetDeploymentByName(ctx, &orionv1.GetDeploymentByNameRequest{
			FlowName: ref.Flow, DeploymentName: ref.Name,
		})
		dep = resp.GetDeployment()
	}
	if client.IsNotFound(err) {
		return nil, deploymentNotFound(strings.TrimSpace(arg))
	}
	if err != nil {
		return nil, apiErr(err, "")
	}
	return dep, nil
}

// fullName is how humans address a deployment: "flow/deployment".
func fullName(d *orionv1.Deployment) string {
	return d.GetFlowName() + "/" + d.GetName()
}

// flowRunNotFound is the message for a missing flow run.
func flowRunNotFound(id string) error {
	return fmt.Errorf("Flow run '%s' not found!", id)
}

// runErr maps a flow-run call's error: NotFound becomes flowRunNotFound.
func runErr(err error, id string) error {
	if client.IsNotFound(err) {
		return flowRunNotFound(id)
	}
	return apiErr(err, "")
}

// dialDeployment connects to the server and fetches the deployment named by
// a NAME_OR_ID argument. The caller closes the client.
func (m *meta) dialDeployment(ctx context.Context, arg string) (*client.Client, *orionv1.Deployment, error) {
	c, err := m.dial()
	if err != nil {
		return nil, nil, err
	}
	dep, err := resolveDeployment(ctx, c, arg)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, dep, nil
}
