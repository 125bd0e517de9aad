package rpc

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/auth"
	"github.com/orion-run/orion/server/dispatch"
	"github.com/orion-run/orion/server/ratelimit"
	"github.com/orion-run/orion/server/requestid"
	"github.com/orion-run/orion/server/store"
)

// MaxBlockingWait bounds how long a blocking query (wait_index) waits.
const MaxBlockingWait = 30 * time.Second

// Page size limits for list calls.
const (
	DefaultPageSize = 200
	MaxPageSize     = 1000
)

// Services holds the dependencies shared by every service implementation.
type Services struct {
	Store      store.Store
	Dispatcher *dispatch.Dispatcher
	Auth       *auth.Authenticator
	// LogRate bounds each run's log writes; nil means no limit.
	LogRate *ratelimit.Limiter
	Logger  hclog.Logger
}

// Register registers every public and agent service on s.
func (svc *Services) Register(s grpc.ServiceRegistrar) {
	orionv1.RegisterFlowServiceServer(s, &flowService{svc: svc})
	orionv1.RegisterDeploymentServiceServer(s, &deploymentService{svc: svc})
	orionv1.RegisterFlowRunServiceServer(s, &flowRunService{svc: svc})
	orionv1.RegisterLogServiceServer(s, &logService{svc: svc})
	orionv1.RegisterWorkQueueServiceServer(s, &workQueueService{svc: svc})
	agentv1.RegisterAgentServiceServer(s, &agentService{svc: svc})
	orionv1.RegisterTokenServiceServer(s, &tokenService{svc: svc})
}

// log is the services' logger with the request id of ctx.
func (svc *Services) log(ctx context.Context) hclog.Logger {
	return requestid.Logger(ctx, svc.Logger)
}

// pageSize validates a requested page size.
func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, store.Invalidf("page_size must be >= 0")
	case n == 0:
		return DefaultPageSize, nil
	case n > MaxPageSize:
		return 0, store.Invalidf("page_size must be at most %d", MaxPageSize)
	}
	return int(n), nil
}

// Page tokens are opaque to clients: base64 of the store cursor.
func encodeToken(cursor string) string {
	if cursor == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursor))
}

func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", store.Invalidf("page_token is malformed: pass the next_page_token of the previous response")
	}
	return string(b), nil
}

// view runs fn in one read transaction and returns what it read.
func view[T any](ctx context.Context, st store.Store, fn func(store.Tx) (T, error)) (T, error) {
	var out T
	err := st.View(ctx, func(tx store.Tx) (err error) {
		out, err = fn(tx)
		return err
	})
	return out, err
}

// required fails with a message naming the field when value is empty.
func required(field, value string) error {
	if value == "" {
		return store.Invalidf("%s is required", field)
	}
	return nil
}

// waitForChange is the wait of a blocking query: it returns once the
// store's modify index is above index (at once when index is 0), after max,
// or with the context's error when the caller gave up.
func waitForChange(ctx context.Context, st store.Store, index uint64, max time.Duration) error {
	if index == 0 {
		return nil
	}
	timer := time.NewTimer(max)
	defer timer.Stop()
	for {
		changed, current := st.Changed()
		if current > index {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
