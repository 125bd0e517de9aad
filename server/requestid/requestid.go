// Package requestid gives every request an id that follows it through the
// logs: taken from the caller's "X-Request-Id" header (HTTP) or
// "x-request-id" metadata (gRPC) when it is sane, generated otherwise, and
// echoed back in the response. HTTP requests keep their id through the
// gateway, which forwards the header to the gRPC call.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Header is the HTTP header; MetadataKey the gRPC metadata key.
const (
	Header      = "X-Request-Id"
	MetadataKey = "x-request-id"
	maxLength   = 128
)

type key struct{}

// From returns the request id carried by ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// Logger returns log with the request id of ctx attached as "request_id".
func Logger(ctx context.Context, log hclog.Logger) hclog.Logger {
	if id := From(ctx); id != "" {
		return log.With("request_id", id)
	}
	return log
}

// New returns a fresh random id (16 hex digits).
func New() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sane accepts caller ids of printable ASCII without spaces, so an id can
// never inject anything into a log line.
func sane(id string) bool {
	if id == "" || len(id) > maxLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '"' {
			return false
		}
	}
	return true
}

func fromMetadata(ctx context.Context) string {
	// ValueFromIncomingContext looks the one key up; FromIncomingContext
	// would copy every header of the call first.
	if v := metadata.ValueFromIncomingContext(ctx, MetadataKey); len(v) > 0 && sane(v[0]) {
		return v[0]
	}
	return New()
}

// UnaryInterceptor attaches the request id to the context and the response
// header. It should run first, so every later interceptor can log it.
func UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		id := fromMetadata(ctx)
		_ = grpc.SetHeader(ctx, metadata.MD{MetadataKey: {id}})
		return handler(With(ctx, id), req)
	}
}

// StreamInterceptor is UnaryInterceptor for streams.
func StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		id := fromMetadata(ss.Context())
		_ = ss.SetHeader(metadata.MD{MetadataKey: {id}})
		return handler(srv, &stream{ServerStream: ss, ctx: With(ss.Context(), id)})
	}
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *stream) Context() context.Context { return s.ctx }

// Middleware gives each HTTP request an id (the caller's when sane) in the
// request header, so the gateway forwards it to gRPC, and in the response.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !sane(id) {
			id = New()
			r.Header.Set(Header, id)
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
	})
}
