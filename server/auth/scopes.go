// Package auth authenticates API tokens and authorizes calls by scope.
// Tokens look like "orion_<id>_<secret>"; the store keeps the SHA-256 of the
// whole token, compared in constant time. Authentication is on as soon as
// one token exists (or when required by configuration); with no tokens on a
// loopback server the API is open, so the quickstart needs no set-up.
package auth

import (
	"strings"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// Scope is what a token may do.
type Scope = orionv1.TokenScope

// The four scopes.
const (
	Admin = orionv1.TokenScope_TOKEN_SCOPE_ADMIN
	Agent = orionv1.TokenScope_TOKEN_SCOPE_AGENT
	Read  = orionv1.TokenScope_TOKEN_SCOPE_READ
	Run   = orionv1.TokenScope_TOKEN_SCOPE_RUN
)

// ParseScope accepts "admin", "agent", "read" or "run".
func ParseScope(s string) (Scope, bool) {
	v, ok := orionv1.TokenScope_value["TOKEN_SCOPE_"+strings.ToUpper(strings.TrimSpace(s))]
	if !ok || v == 0 {
		return 0, false
	}
	return Scope(v), true
}

// ScopeName is the short lower-case name of a scope ("admin").
func ScopeName(s Scope) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "TOKEN_SCOPE_"))
}

// Public methods anyone may call, even with auth on.
var public = map[string]bool{
	"/grpc.health.v1.Health/Check": true,
	"/grpc.health.v1.Health/Watch": true,
}

// runMethods are the writes the run scope adds to read access.
var runMethods = map[string]bool{
	"/orion.v1.DeploymentService/CreateDeploymentFlowRun": true,
	"/orion.v1.FlowRunService/CreateFlowRun":              true,
	"/orion.v1.FlowRunService/SetFlowRunState":            true,
	"/orion.v1.FlowRunService/CancelFlowRun":              true,
	"/orion.v1.FlowRunService/RetryFlowRun":               true,
	"/orion.v1.FlowService/CreateFlow":                    true,
	"/orion.v1.LogService/CreateLogs":                     true,
}

// agentMethods are what an agent needs beyond the agent protocol.
var agentMethods = map[string]bool{
	"/orion.v1.FlowService/GetFlowSource":       true,
	"/orion.v1.LogService/CreateLogs":           true,
	"/orion.v1.FlowRunService/GetFlowRun":       true,
	"/orion.v1.FlowRunService/WatchFlowRun":     true,
	"/orion.v1.DeploymentService/GetDeployment": true,
}

// isRead reports a read-only method of the public API: Get*, List*,
// Watch*, Follow* and Preview* of orion.v1 services, except tokens.
func isRead(method string) bool {
	svc, name, ok := splitMethod(method)
	if !ok || !strings.HasPrefix(svc, "orion.v1.") || svc == "orion.v1.TokenService" {
		return false
	}
	for _, p := range []string{"Get", "List", "Watch", "Follow", "Preview"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Allowed reports whether a token of scope may call the gRPC method
// (full name, "/orion.v1.FlowRunService/GetFlowRun").
func Allowed(scope Scope, method string) bool {
	if public[method] {
		return true
	}
	switch scope {
	case Admin:
		return true
	case Read:
		return isRead(method)
	case Run:
		return isRead(method) || runMethods[method]
	case Agent:
		svc, _, _ := splitMethod(method)
		return svc == "orion.agent.v1.AgentService" || agentMethods[method]
	}
	return false
}

func splitMethod(full string) (service, method string, ok bool) {
	full = strings.TrimPrefix(full, "/")
	i := strings.LastIndex(full, "/")
	if i < 0 {
		return "", "", false
	}
	return full[:i], full[i+1:], true
}
