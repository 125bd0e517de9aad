package bench

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/orion-run/orion/client"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/sdk/python"
)

// cluster is a server with its agents and an SDK client.
type cluster struct {
	e      *env
	home   string
	url    string
	server *proc
	agents []*proc
	c      *client.Client
}

// newCluster starts a server on a fresh store under the phase's folder and
// n agents serving the "default" work queue, and waits until every agent
// is connected.
func (e *env) newCluster(ctx context.Context, n int) (*cluster, error) {
	home, err := e.mkdir("server-home")
	if err != nil {
		return nil, err
	}
	cl := &cluster{e: e, home: home}
	if cl.server, cl.url, _, err = e.startServer(ctx, "server", cl.home); err != nil {
		return nil, err
	}
	if cl.c, err = client.Dial(cl.url, client.WithToken("")); err != nil {
		return nil, err
	}
	if err := cl.startAgents(ctx, n); err != nil {
		cl.close()
		return nil, err
	}
	return cl, nil
}

// startAgents starts n more agents (in parallel), with the variables extra
// ("KEY=value") in their environment, and waits until the server lists
// every agent as connected.
func (cl *cluster) startAgents(ctx context.Context, n int, extra ...string) error {
	if n == 0 {
		return nil
	}
	home, err := cl.e.mkdir("agent-home")
	if err != nil {
		return err
	}
	env := environ(append([]string{"ORION_HOME=" + home, "ORION_API_URL=" + cl.url}, extra...)...)
	started := len(cl.agents)
	for i := range n {
		name := fmt.Sprintf("agent-%02d", started+i)
		p, err := cl.e.start(name, []string{"agent", "start", "--name", "bench-" + name, "--work-queue", "default"}, env, "Agent started!")
		if err != nil {
			return err
		}
		cl.agents = append(cl.agents, p)
	}
	for _, p := range cl.agents[started:] {
		if err := p.waitReady(ctx, readyTimeout); err != nil {
			return err
		}
	}
	// An agent prints its banner when its stream is open on its side; wait
	// until the server has recorded every stream too.
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := cl.c.WorkQueues.ListAgents(ctx, &orionv1.ListAgentsRequest{})
		if err != nil {
			return fmt.Errorf("list agents: %w", err)
		}
		connected := 0
		for _, a := range resp.GetAgents() {
			if a.GetConnected() {
				connected++
			}
		}
		if connected >= len(cl.agents) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d agents connected after %s", connected, len(cl.agents), readyTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// close stops the agents, then the server.
func (cl *cluster) close() {
	var wg sync.WaitGroup
	for _, p := range cl.agents {
		wg.Add(1)
		go func() { defer wg.Done(); cl.e.stop(p) }()
	}
	wg.Wait()
	if cl.c != nil {
		cl.c.Close()
	}
	if cl.server != nil {
		cl.e.stop(cl.server)
	}
}

// httpClient returns an HTTP client keeping up to n connections to the
// server alive.
func httpClient(n int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
}

// deployment creates a command deployment of flow "bench" named name with
// the given infrastructure type ("noop" or "subprocess") running argv.
func (cl *cluster) deployment(ctx context.Context, name, infra string, argv ...string) (*orionv1.Deployment, error) {
	if len(argv) == 0 {
		argv = []string{"true"}
	}
	params, _ := structpb.NewStruct(map[string]any{"name": "bench"})
	resp, err := cl.c.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: &orionv1.Deployment{
		Name: name, FlowName: "bench", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: argv,
		Parameters: params, Tags: []string{"bench"}, Infrastructure: &orionv1.Infrastructure{Type: infra},
	}})
	if err != nil {
		return nil, fmt.Errorf("create deployment %s: %w", name, err)
	}
	return resp.GetDeployment(), nil
}

// pythonAvailable reports an error when python3 (or $ORION_PYTHON) cannot
// be found: the phases that run Python flows need it.
func pythonAvailable() error {
	py := python.Interpreter()
	if _, err := exec.LookPath(py); err != nil {
		return fmt.Errorf("%s is needed to run the hello-world flow: %v", py, err)
	}
	return nil
}
