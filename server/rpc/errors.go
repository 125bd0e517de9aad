// Package rpc implements Orion's gRPC services. Handlers are thin: validate,
// call one domain function inside one store transaction, return. Errors are
// plain Go errors mapped to gRPC codes in exactly one place (Status), applied
// by the interceptors below.
package rpc

import (
	"context"
	"errors"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orion-run/orion/server/dispatch"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/ratelimit"
	"github.com/orion-run/orion/server/requestid"
	"github.com/orion-run/orion/server/store"
)

// Status maps a domain error to a gRPC status error. Errors that are not
// one of the known sentinels become Internal: the detail is logged, not sent.
func Status(log hclog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var code codes.Code
	switch {
	case errors.Is(err, store.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, store.ErrAlreadyExists):
		code = codes.AlreadyExists
	case errors.Is(err, store.ErrInvalid), errors.Is(err, orchestration.ErrInvalidProposal):
		code = codes.InvalidArgument
	case errors.Is(err, store.ErrConflict):
		code = codes.FailedPrecondition
	case errors.Is(err, dispatch.ErrLeaseLost):
		code = codes.Aborted
	case errors.Is(err, dispatch.ErrNotOwner):
		code = codes.PermissionDenied
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, store.ErrClosed):
		code = codes.Unavailable
	case errors.Is(err, ratelimit.ErrLimited):
		code = codes.ResourceExhausted
	default:
		log.Error("internal error", "method", method, "error", err)
		return status.Error(codes.Internal, "internal error (see the server log)")
	}
	return status.Error(code, err.Error())
}

// UnaryErrors is a unary interceptor that maps handler errors with Status.
func UnaryErrors(log hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err == nil {
			return resp, nil
		}
		return resp, Status(requestid.Logger(ctx, log), info.FullMethod, err)
	}
}

// StreamErrors is a stream interceptor that maps handler errors with Status.
func StreamErrors(log hclog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		if err == nil {
			return nil
		}
		return Status(requestid.Logger(ss.Context(), log), info.FullMethod, err)
	}
}
