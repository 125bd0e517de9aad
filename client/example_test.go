package client_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/servertest"
)

// apiURL is the URL of a real server started for the examples.
var apiURL string

func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "orion-client-example-")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := servertest.Start(servertest.Config(home), hclog.NewNullLogger())
	if err != nil {
		log.Fatal(err)
	}
	apiURL = srv.URL()
	code := m.Run()
	if err := srv.Stop(); err != nil {
		log.Print(err)
	}
	os.RemoveAll(home)
	os.Exit(code)
}

// Example creates a command deployment, starts a run with a parameter, and
// reads it back by name.
func Example() {
	ctx := context.Background()
	c, err := client.Dial(apiURL) // usually client.Dial(client.APIURL(""))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	defaults, _ := structpb.NewStruct(map[string]any{"name": "world"})
	dep, err := c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: &orionv1.Deployment{
		Name:       "greet",
		FlowName:   "greeter",
		FlowKind:   orionv1.FlowKind_FLOW_KIND_COMMAND,
		Command:    []string{"sh", "-c", `echo "Hello $ORION_PARAM_NAME!"`},
		Parameters: defaults,
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", dep.GetCreated())

	params, _ := structpb.NewStruct(map[string]any{"name": "Marvin"})
	run, err := c.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{
		DeploymentId: dep.GetDeployment().GetId(),
		Parameters:   params,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", run.GetFlowRun().GetState().GetName())
	fmt.Println("name parameter:", run.GetFlowRun().GetParameters().AsMap()["name"])

	got, err := c.Deployments.GetDeploymentByName(ctx, &orionv1.GetDeploymentByNameRequest{FlowName: "greeter", DeploymentName: "greet"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("work queue:", got.GetDeployment().GetWorkQueueName())
	// Output:
	// created: true
	// state: Scheduled
	// name parameter: Marvin
	// work queue: default
}

// ExampleIsNotFound shows the error helpers built on gRPC status codes.
func ExampleIsNotFound() {
	c, err := client.Dial(apiURL)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.Deployments.GetDeploymentByName(context.Background(), &orionv1.GetDeploymentByNameRequest{FlowName: "nope", DeploymentName: "missing"})
	fmt.Println(client.IsNotFound(err), client.IsInvalidArgument(err))
	// Output: true false
}
