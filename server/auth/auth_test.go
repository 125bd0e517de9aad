package auth

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		scope  Scope
		method string
		want   bool
	}{
		{Read, "/orion.v1.FlowRunService/GetFlowRun", true},
		{Read, "/orion.v1.LogService/FollowLogs", true},
		{Read, "/orion.v1.FlowRunService/CreateFlowRun", false},
		{Read, "/orion.v1.TokenService/ListTokens", false},
		{Read, "/orion.agent.v1.AgentService/StreamWork", false},
		{Run, "/orion.v1.DeploymentService/CreateDeploymentFlowRun", true},
		{Run, "/orion.v1.FlowRunService/CancelFlowRun", true},
		{Run, "/orion.v1.DeploymentService/CreateDeployment", false},
		{Run, "/orion.v1.DeploymentService/ListDeployments", true},
		{Agent, "/orion.agent.v1.AgentService/ClaimFlowRun", true},
		{Agent, "/orion.agent.v1.AgentService/ReportFlowRunStates", true},
		{Run, "/orion.agent.v1.AgentService/ClaimFlowRuns", false},
		{Agent, "/orion.v1.LogService/CreateLogs", true},
		{Agent, "/orion.v1.FlowService/GetFlowSource", true},
		{Agent, "/orion.v1.DeploymentService/DeleteDeployment", false},
		{Agent, "/orion.v1.TokenService/CreateToken", false},
		{Admin, "/orion.v1.TokenService/CreateToken", true},
		{Read, "/grpc.health.v1.Health/Check", true},
		{0, "/orion.v1.FlowRunService/GetFlowRun", false},
	}
	for _, tc := range tests {
		if got := Allowed(tc.scope, tc.method); got != tc.want {
			t.Errorf("Allowed(%s, %s) = %v, want %v", ScopeName(tc.scope), tc.method, got, tc.want)
		}
	}
}

func TestParseScope(t *testing.T) {
	for _, s := range []string{"admin", "Agent", "READ", "run"} {
		if _, ok := ParseScope(s); !ok {
			t.Errorf("ParseScope(%q) failed", s)
		}
	}
	if _, ok := ParseScope("root"); ok {
		t.Error("root accepted")
	}
}

func TestAuthenticate(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "orion.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	a, err := New(st, Options{}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if a.Enabled() {
		t.Fatal("auth must be off while no token exists")
	}
	secret, id, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "orion_"+id+"_") || len(secret) < 50 {
		t.Fatalf("secret %q does not carry its id", secret)
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		return tx.PutToken(&store.Token{Meta: &orionv1.ApiToken{Id: id, Name: "ci", Scope: Run}, SecretHash: Hash(secret)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil || !a.Enabled() {
		t.Fatalf("auth not enabled after a token was stored: %v", err)
	}
	c, err := a.Authenticate(ctx, "Bearer "+secret)
	if err != nil || c.Scope != Run || c.Name != "ci" {
		t.Fatalf("Authenticate = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "Bearer", "Basic x", "Bearer " + secret + "x", "Bearer orion_" + id + "_wrong", "Bearer orion_nope_x"} {
		_, err := a.Authenticate(ctx, bad)
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("Authenticate(%q) = %v, want Unauthenticated", bad, err)
		}
		if strings.Contains(status.Convert(err).Message(), secret) {
			t.Errorf("error echoes the token")
		}
	}
	if code, _ := a.RequireAdmin(ctx, "Bearer "+secret); code != 403 {
		t.Fatalf("run token on an admin endpoint: %d", code)
	}
	if code, _ := a.RequireAdmin(ctx, ""); code != 401 {
		t.Fatalf("no token on an admin endpoint: %d", code)
	}
}
