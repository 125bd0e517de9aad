// Package gateway serves Orion's HTTP side: the grpc-gateway JSON API under
// /api/v1 (dialing the server's own gRPC listener, so interceptors and
// streaming work), the health endpoint at /api/health, the generated
// OpenAPI document at /api/openapi.json, and the dashboard (package ui) at
// every other path.
package gateway

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/encoding/protojson"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/gen/openapi"
	"github.com/orion-run/orion/server/gateway/ui"
	"github.com/orion-run/orion/server/requestid"
)

// forwardHeader passes the request id to gRPC as metadata, besides the
// headers grpc-gateway forwards by default (Authorization among them).
func forwardHeader(key string) (string, bool) {
	if http.CanonicalHeaderKey(key) == requestid.Header {
		return requestid.MetadataKey, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// HealthFunc reports whether the server can serve (e.g. its store answers).
type HealthFunc func(ctx context.Context) error

// New returns the HTTP handler. grpcAddr is the address of the server's own
// gRPC listener and creds the credentials to dial it with.
func New(ctx context.Context, grpcAddr string, creds credentials.TransportCredentials, health HealthFunc) (http.Handler, error) {
	gw := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(forwardHeader),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
	)
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	for _, register := range []func(context.Context, *runtime.ServeMux, string, []grpc.DialOption) error{
		orionv1.RegisterFlowServiceHandlerFromEndpoint,
		orionv1.RegisterDeploymentServiceHandlerFromEndpoint,
		orionv1.RegisterFlowRunServiceHandlerFromEndpoint,
		orionv1.RegisterLogServiceHandlerFromEndpoint,
		orionv1.RegisterWorkQueueServiceHandlerFromEndpoint,
		orionv1.RegisterTokenServiceHandlerFromEndpoint,
	} {
		if err := register(ctx, gw, grpcAddr, opts); err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", gw)
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := health(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "error": err.Error()}) //nolint:errcheck
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"status": "ok"}) //nolint:errcheck
	})
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openapi.JSON) //nolint:errcheck
	})
	mux.Handle("/", ui.Handler())
	return mux, nil
}
