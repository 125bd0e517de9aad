// Package gateway serves Orion's HTTP side: the grpc-gateway JSON API under
// /api/v1 (calling the services through a channel the server gives, which
// runs the gRPC server's interceptors), the health endpoint at /api/health, the generated
// OpenAPI document at /api/openapi.json, and the dashboard (package ui) at
// every other path.
package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
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

// New returns the HTTP handler. conn reaches the server's services;
// request bodies over maxBody bytes are refused.
func New(ctx context.Context, conn grpc.ClientConnInterface, maxBody int64, health HealthFunc) (http.Handler, error) {
	gw := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(forwardHeader),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
	)
	for _, err := range []error{
		orionv1.RegisterFlowServiceHandlerClient(ctx, gw, orionv1.NewFlowServiceClient(conn)),
		orionv1.RegisterDeploymentServiceHandlerClient(ctx, gw, orionv1.NewDeploymentServiceClient(conn)),
		orionv1.RegisterFlowRunServiceHandlerClient(ctx, gw, orionv1.NewFlowRunServiceClient(conn)),
		orionv1.RegisterLogServiceHandlerClient(ctx, gw, orionv1.NewLogServiceClient(conn)),
		orionv1.RegisterWorkQueueServiceHandlerClient(ctx, gw, orionv1.NewWorkQueueServiceClient(conn)),
		orionv1.RegisterTokenServiceHandlerClient(ctx, gw, orionv1.NewTokenServiceClient(conn)),
	} {
		if err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", limitBody(gw, maxBody))
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

// limitBody refuses a request whose body is larger than max bytes with 413
// (and, for a body of unannounced length, fails its decoding once it
// passes max), as the gRPC server refuses larger messages.
func limitBody(next http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			msg := fmt.Sprintf("request body is %d bytes; send at most %d (%d MiB)", r.ContentLength, max, max>>20)
			json.NewEncoder(w).Encode(map[string]any{"code": codes.ResourceExhausted, "message": msg, "details": []any{}}) //nolint:errcheck
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}
