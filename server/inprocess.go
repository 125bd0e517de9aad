package server

import (
	"context"

	"github.com/fullstorydev/grpchan/inprocgrpc"
	"google.golang.org/grpc"
)

// inProcess is the channel the HTTP gateway calls the services through: a
// call is a function call on its own goroutine (deadlines and cancellation
// work as over a network), with the request and response copied rather
// than encoded, and the gateway's metadata arriving as the call's incoming
// metadata. It runs the same interceptors as the gRPC server, so the
// gateway's calls are authenticated, counted, logged and mapped to codes
// exactly like gRPC clients' calls.
//
// The gateway used to dial the server's own listener: every HTTP request
// then also paid for a gRPC client, HTTP/2 framing and loopback syscalls,
// about a fifth of its CPU (docs/performance.md).
func inProcess(unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) *inprocgrpc.Channel {
	return (&inprocgrpc.Channel{}).
		WithServerUnaryInterceptor(chainUnary(unary)).
		WithServerStreamInterceptor(chainStream(stream))
}

// chainUnary runs ics in order around a unary handler, as
// grpc.ChainUnaryInterceptor does for the gRPC server.
func chainUnary(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		h := handler
		for i := len(ics) - 1; i >= 0; i-- {
			ic, next := ics[i], h
			h = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, next) }
		}
		return h(ctx, req)
	}
}

// chainStream runs ics in order around a stream handler, as
// grpc.ChainStreamInterceptor does for the gRPC server.
func chainStream(ics []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		h := handler
		for i := len(ics) - 1; i >= 0; i-- {
			ic, next := ics[i], h
			h = func(srv any, ss grpc.ServerStream) error { return ic(srv, ss, info, next) }
		}
		return h(srv, ss)
	}
}
