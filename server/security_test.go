package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orion-run/orion/client"
	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server"
	"github.com/orion-run/orion/server/config"
	"github.com/orion-run/orion/server/servertest"
)

func dial(t *testing.T, url string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func httpDo(t *testing.T, hc *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAuth_TokensAndScopes: open until the first token, then every call
// needs a token with the right scope, over gRPC and HTTP alike.
func TestAuth_TokensAndScopes(t *testing.T) {
	t.Setenv(client.EnvAPIKey, "")
	var logs syncBuffer // every log line, to check no token ever appears
	srv, err := servertest.Start(servertest.Config(t.TempDir()), hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	anon := dial(t, srv.URL())
	admin, err := anon.Tokens.CreateToken(ctx, &orionv1.CreateTokenRequest{Name: "root", Scope: orionv1.TokenScope_TOKEN_SCOPE_ADMIN})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Deployments.ListDeployments(ctx, &orionv1.ListDeploymentsRequest{}); client.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token after auth turned on: %v", err)
	}
	root := dial(t, srv.URL(), client.WithToken(admin.GetSecret()))
	read, err := root.Tokens.CreateToken(ctx, &orionv1.CreateTokenRequest{Name: "viewer", Scope: orionv1.TokenScope_TOKEN_SCOPE_READ})
	if err != nil {
		t.Fatal(err)
	}
	viewer := dial(t, srv.URL(), client.WithToken(read.GetSecret()))
	if _, err := viewer.Deployments.ListDeployments(ctx, &orionv1.ListDeploymentsRequest{}); err != nil {
		t.Fatalf("read token cannot list: %v", err)
	}
	_, err = viewer.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: &orionv1.Deployment{
		Name: "d", FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"},
	}})
	if client.Code(err) != codes.PermissionDenied {
		t.Fatalf("read token created a deployment: %v", err)
	}
	list, err := viewer.Deployments.ListDeployments(ctx, &orionv1.ListDeploymentsRequest{})
	if err != nil || len(list.GetDeployments()) != 0 {
		t.Fatalf("a refused request changed something: %v %v", list, err)
	}

	// HTTP: 401 without a token, 403 with too small a scope, 200 with the right one.
	hc := &http.Client{Timeout: 10 * time.Second}
	if code, body := httpDo(t, hc, "GET", srv.URL()+"/api/v1/deployments", "", ""); code != 401 || !strings.Contains(body, "missing API token") {
		t.Fatalf("HTTP without token: %d %s", code, body)
	}
	if code, _ := httpDo(t, hc, "POST", srv.URL()+"/api/v1/flows", read.GetSecret(), `{"name":"x"}`); code != 403 {
		t.Fatalf("HTTP read token writing: %d", code)
	}
	if code, _ := httpDo(t, hc, "GET", srv.URL()+"/api/v1/deployments", read.GetSecret(), ""); code != 200 {
		t.Fatalf("HTTP read token reading: %d", code)
	}
	if code, _ := httpDo(t, hc, "GET", srv.URL()+"/api/admin/backup", read.GetSecret(), ""); code != 403 {
		t.Fatalf("backup with a read token: %d", code)
	}
	if code, _ := httpDo(t, hc, "GET", srv.URL()+"/api/health", "", ""); code != 200 {
		t.Fatalf("health must stay open: %d", code)
	}

	// Revoked tokens stop working; tokens are listed without secrets.
	if _, err := root.Tokens.RevokeToken(ctx, &orionv1.RevokeTokenRequest{Id: read.GetToken().GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.Deployments.ListDeployments(ctx, &orionv1.ListDeploymentsRequest{}); client.Code(err) != codes.Unauthenticated {
		t.Fatalf("revoked token still works: %v", err)
	}
	toks, err := root.Tokens.ListTokens(ctx, &orionv1.ListTokensRequest{})
	if err != nil || len(toks.GetTokens()) != 1 || toks.GetTokens()[0].GetName() != "root" {
		t.Fatalf("tokens: %v %v", toks, err)
	}

	// force is admin-only, even for a run token.
	runTok, err := root.Tokens.CreateToken(ctx, &orionv1.CreateTokenRequest{Name: "runner", Scope: orionv1.TokenScope_TOKEN_SCOPE_RUN})
	if err != nil {
		t.Fatal(err)
	}
	runner := dial(t, srv.URL(), client.WithToken(runTok.GetSecret()))
	_, err = runner.FlowRuns.SetFlowRunState(ctx, &orionv1.SetFlowRunStateRequest{FlowRunId: "x", Force: true, State: &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_COMPLETED}})
	if client.Code(err) != codes.PermissionDenied {
		t.Fatalf("force with a run token: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, "request refused") || !strings.Contains(out, "api token created") {
		t.Fatalf("the server did not log the refusals and creations:\n%s", out)
	}
	for _, secret := range []string{admin.GetSecret(), read.GetSecret(), runTok.GetSecret()} {
		if strings.Contains(out, secret) || strings.Contains(out, strings.SplitN(secret, "_", 3)[2]) {
			t.Fatalf("a token appears in the server log:\n%s", out)
		}
	}
}

// TestServer_RefusesOpenNonLoopback: without tokens, a non-loopback address
// needs --insecure.
func TestServer_RefusesOpenNonLoopback(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Host = "0.0.0.0"
	_, err := server.New(cfg, hclog.NewNullLogger())
	if err == nil || !strings.Contains(err.Error(), "--insecure") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	cfg.Insecure = true
	srv, err := servertest.Start(cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
}

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir and returns their paths.
type testPKI struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
	pool                                                 *x509.CertPool
}

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "orion test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		return write(name+".crt", "CERTIFICATE", der), write(name+".key", "EC PRIVATE KEY", keyDER)
	}
	p := testPKI{caFile: write("ca.crt", "CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	p.serverCert, p.serverKey = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = leaf("agent", 3, x509.ExtKeyUsageClientAuth)
	return p
}

// TestTLS_ServerAndAgentCertificates serves gRPC and HTTP over TLS; with a
// client CA, the agent protocol needs a client certificate.
func TestTLS_ServerAndAgentCertificates(t *testing.T) {
	pki := newTestPKI(t, t.TempDir())
	srv := servertest.New(t, func(c *config.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = pki.serverCert, pki.serverKey, pki.caFile
	})
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("URL = %s", srv.URL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Public API over TLS, no client certificate needed.
	plain := dial(t, srv.URL(), client.WithTLSConfig(&tls.Config{RootCAs: pki.pool}))
	if _, err := plain.Deployments.ListDeployments(ctx, &orionv1.ListDeploymentsRequest{}); err != nil {
		t.Fatalf("TLS call: %v", err)
	}
	// The agent protocol without a client certificate is refused...
	_, err := plain.Agent.RegisterAgent(ctx, &agentv1.RegisterAgentRequest{Name: "a", WorkQueues: []string{"default"}})
	if client.Code(err) != codes.Unauthenticated {
		t.Fatalf("agent without client certificate: %v", err)
	}
	// ...and accepted with one (read from ORION_TLS_* as agents do).
	t.Setenv(client.EnvTLSCA, pki.caFile)
	t.Setenv(client.EnvTLSCert, pki.clientCert)
	t.Setenv(client.EnvTLSKey, pki.clientKey)
	agent := dial(t, srv.URL())
	if _, err := agent.Agent.RegisterAgent(ctx, &agentv1.RegisterAgentRequest{Name: "a", WorkQueues: []string{"default"}}); err != nil {
		t.Fatalf("agent with client certificate: %v", err)
	}

	// HTTP/JSON through the gateway over TLS, from clients with and without
	// HTTP/2 support (both are served HTTP/1.1: see serverTLS).
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		if code, body := httpDo(t, hc, "GET", srv.URL()+"/api/v1/deployments", "", ""); code != 200 {
			t.Fatalf("HTTPS (h2=%v): %d %s", h2, code, body)
		}
	}
}

// TestAuth_AgentTokensServeTheirQueues: an agent token restricted to work
// queues may register only for them and write logs only for their runs,
// and no agent token may act as an agent another token registered.
func TestAuth_AgentTokensServeTheirQueues(t *testing.T) {
	t.Setenv(client.EnvAPIKey, "")
	srv := servertest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	anon := dial(t, srv.URL())
	admin, err := anon.Tokens.CreateToken(ctx, &orionv1.CreateTokenRequest{Name: "root", Scope: orionv1.TokenScope_TOKEN_SCOPE_ADMIN})
	if err != nil {
		t.Fatal(err)
	}
	root := dial(t, srv.URL(), client.WithToken(admin.GetSecret()))
	if _, err := root.Tokens.CreateToken(ctx, &orionv1.CreateTokenRequest{Name: "x", Scope: orionv1.TokenScope_TOKEN_SCOPE_READ, WorkQueues: []string{"q1"}}); client.Code(err) != codes.InvalidArgument {
		t.Fatalf("work queues on a read token: %v", err)
	}
	tok := func(name string, queues ...string) *client.Client {
		resp, err := root.Tokens.CreateToken(ctx, &orionv1.CreateTokenRequest{Name: name, Scope: orionv1.TokenScope_TOKEN_SCOPE_AGENT, WorkQueues: queues})
		if err != nil {
			t.Fatal(err)
		}
		return dial(t, srv.URL(), client.WithToken(resp.GetSecret()))
	}
	q1, other := tok("q1-agents", "q1"), tok("any-queue")

	if _, err := q1.Agent.RegisterAgent(ctx, &agentv1.RegisterAgentRequest{Name: "a", WorkQueues: []string{"q1", "q2"}}); client.Code(err) != codes.PermissionDenied {
		t.Fatalf("register for a queue outside the token's: %v", err)
	}
	reg, err := q1.Agent.RegisterAgent(ctx, &agentv1.RegisterAgentRequest{Name: "a", WorkQueues: []string{"q1"}})
	if err != nil {
		t.Fatalf("register for the token's queue: %v", err)
	}
	if _, err := q1.Agent.Heartbeat(ctx, &agentv1.HeartbeatRequest{AgentId: reg.GetAgentId()}); err != nil {
		t.Fatalf("heartbeat as its own agent: %v", err)
	}
	if _, err := other.Agent.Heartbeat(ctx, &agentv1.HeartbeatRequest{AgentId: reg.GetAgentId()}); client.Code(err) != codes.PermissionDenied {
		t.Fatalf("heartbeat as another token's agent: %v", err)
	}
	if _, err := other.Agent.RegisterAgent(ctx, &agentv1.RegisterAgentRequest{AgentId: reg.GetAgentId(), Name: "a", WorkQueues: []string{"q1"}}); client.Code(err) != codes.PermissionDenied {
		t.Fatalf("taking over another token's agent: %v", err)
	}
	// A batch is checked call by call: another token's agent id is
	// refused in its own outcome.
	batch, err := other.Agent.ReportFlowRunStates(ctx, &agentv1.ReportFlowRunStatesRequest{Reports: []*agentv1.ReportFlowRunStateRequest{
		{AgentId: reg.GetAgentId(), FlowRunId: "r", LeaseEpoch: 1, State: &orionv1.StateProposal{Type: orionv1.StateType_STATE_TYPE_RUNNING}},
	}})
	if err != nil || len(batch.GetOutcomes()) != 1 || codes.Code(batch.GetOutcomes()[0].GetError().GetCode()) != codes.PermissionDenied {
		t.Fatalf("a batched report as another token's agent: %v %v", batch, err)
	}
	claims, err := other.Agent.ClaimFlowRuns(ctx, &agentv1.ClaimFlowRunsRequest{Claims: []*agentv1.ClaimFlowRunRequest{{AgentId: reg.GetAgentId(), FlowRunId: "r"}}})
	if err != nil || len(claims.GetOutcomes()) != 1 || codes.Code(claims.GetOutcomes()[0].GetError().GetCode()) != codes.PermissionDenied {
		t.Fatalf("a batched claim as another token's agent: %v %v", claims, err)
	}

	runIn := func(queue string) string {
		dep, err := root.Deployments.CreateDeployment(ctx, &orionv1.CreateDeploymentRequest{Deployment: &orionv1.Deployment{
			Name: "d-" + queue, FlowName: "f", FlowKind: orionv1.FlowKind_FLOW_KIND_COMMAND, Command: []string{"true"}, WorkQueueName: queue,
		}})
		if err != nil {
			t.Fatal(err)
		}
		run, err := root.Deployments.CreateDeploymentFlowRun(ctx, &orionv1.CreateDeploymentFlowRunRequest{DeploymentId: dep.GetDeployment().GetId()})
		if err != nil {
			t.Fatal(err)
		}
		return run.GetFlowRun().GetId()
	}
	logTo := func(c *client.Client, runID string) error {
		_, err := c.Logs.CreateLogs(ctx, &orionv1.CreateLogsRequest{Logs: []*orionv1.Log{{FlowRunId: runID, Message: "m", Timestamp: timestamppb.Now()}}})
		return err
	}
	if err := logTo(q1, runIn("q1")); err != nil {
		t.Fatalf("logs for a run of the token's queue: %v", err)
	}
	inQ2 := runIn("q2")
	if err := logTo(q1, inQ2); client.Code(err) != codes.PermissionDenied {
		t.Fatalf("logs for a run of another queue: %v", err)
	}
	if err := logTo(other, inQ2); err != nil {
		t.Fatalf("an unrestricted agent token writing logs: %v", err)
	}
}
