package server

import (
	"github.com/fullstorydev/grpchan"
	"github.com/fullstorydev/grpchan/inprocgrpc"
	"google.golang.org/grpc"

	"github.com/orion-run/orion/server/rpc"
)

// inProcess is the channel the HTTP gateway calls the services through: a
// call is a function call on its own goroutine (deadlines and cancellation
// work as over a network), with the request and response copied rather
// than encoded, and the gateway's metadata arriving as the call's incoming
// metadata. The services are registered on it behind the same interceptors
// as on the gRPC server, so the gateway's calls are authenticated, counted,
// logged and mapped to codes exactly like gRPC clients' calls.
//
// The gateway used to dial the server's own listener: every HTTP request
// then also paid for a gRPC client, HTTP/2 framing and loopback syscalls,
// about a fifth of its CPU (docs/performance.md).
func inProcess(svc *rpc.Services, unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) *inprocgrpc.Channel {
	ch := &inprocgrpc.Channel{}
	svc.Register(grpchan.WithStreamInterceptors(grpchan.WithUnaryInterceptors(ch, unary...), stream...))
	return ch
}
