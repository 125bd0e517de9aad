package dispatch

import (
	"context"
	"strings"
	"testing"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestOffersGoToAgentsThatCanRunTheInfrastructure: a docker run is offered
// only to an agent that registered docker, and a claim by one that did not
// is refused; an agent that named no types takes anything.
func TestOffersGoToAgentsThatCanRunTheInfrastructure(t *testing.T) {
	h := newHarness(t, Config{})
	register := func(name string, types ...string) string {
		resp, err := h.d.Register(context.Background(), &agentv1.RegisterAgentRequest{Name: name, WorkQueues: []string{"q"}, InfrastructureTypes: types}, "")
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetAgentId()
	}
	plain, withDocker, anyType := register("plain", "subprocess", "noop"), register("with-docker", "docker", "subprocess"), register("old")
	dep := h.deployment("d", "q", nil, 0)
	run := h.run(dep, t0)
	h.update(func(tx store.Tx) error {
		r, err := tx.FlowRun(run)
		if err != nil {
			return err
		}
		r.Infrastructure = &orionv1.Infrastructure{Type: "docker"}
		return tx.PutFlowRun(r)
	})

	_, stopPlain := h.stream(plain)
	defer stopPlain()
	h.pass()
	h.d.mu.Lock()
	_, offered := h.d.offered[run]
	h.d.mu.Unlock()
	if offered {
		t.Fatal("a docker run was offered to an agent without docker")
	}

	_, stopDocker := h.stream(withDocker)
	defer stopDocker()
	h.pass()
	h.d.mu.Lock()
	o := h.d.offered[run]
	h.d.mu.Unlock()
	if o.agentID != withDocker {
		t.Fatalf("the docker run was offered to %q, want the agent with docker", o.agentID)
	}

	if c := h.claim(plain, run); c.GetResult().GetStatus() != orchestration.Abort || !strings.Contains(c.GetResult().GetReason(), "docker") {
		t.Fatalf("claim by an agent without docker: %v %q", c.GetResult().GetStatus(), c.GetResult().GetReason())
	}
	if c := h.claim(anyType, run); c.GetResult().GetStatus() != orchestration.Accept {
		t.Fatalf("claim by an agent that named no types: %v %q", c.GetResult().GetStatus(), c.GetResult().GetReason())
	}
}

// TestOffered_CarriesIdentityNotSettings: an offer names the run, its
// queue, state and infrastructure type, without parameters or settings.
func TestOffered_CarriesIdentityNotSettings(t *testing.T) {
	params, _ := structpb.NewStruct(map[string]any{"big": "value"})
	r := &orionv1.FlowRun{Id: "r1", Name: "n", FlowName: "f", DeploymentId: "d", WorkQueueName: "q", Tags: []string{"t"},
		Parameters: params, RunCount: 2,
		State:          &orionv1.State{Id: "s", Type: orionv1.StateType_STATE_TYPE_SCHEDULED, Name: "Scheduled", Message: "long message"},
		Infrastructure: &orionv1.Infrastructure{Type: "docker", Env: map[string]string{"A": "1"}}}
	o := offered(r)
	if o.GetId() != "r1" || o.GetWorkQueueName() != "q" || o.GetRunCount() != 2 || infraType(o) != "docker" || o.GetState().GetName() != "Scheduled" {
		t.Fatalf("offer lost identity: %v", o)
	}
	if o.GetParameters() != nil || o.GetInfrastructure().GetEnv() != nil || o.GetState().GetMessage() != "" {
		t.Fatalf("offer carries settings: %v", o)
	}
}
