package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/requestid"
	"github.com/orion-run/orion/server/store"
)

// Caller is the authenticated identity of a request.
type Caller struct {
	TokenID string
	Name    string
	Scope   Scope
	// WorkQueues restricts an agent token to these queues; empty means any.
	WorkQueues []string
}

// MayServe reports whether the caller may serve work queue q (always, but
// for an agent token restricted to other queues).
func (c Caller) MayServe(q string) bool {
	return c.Scope != Agent || len(c.WorkQueues) == 0 || slices.Contains(c.WorkQueues, q)
}

type callerKey struct{}

// FromContext returns the caller of a request. With auth off every caller
// is an anonymous admin.
func FromContext(ctx context.Context) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c
	}
	return Caller{Name: "anonymous", Scope: Admin}
}

// NewSecret returns a fresh token "orion_<id>_<secret>" and its id.
func NewSecret() (token, id string, err error) {
	idBytes := make([]byte, 10)
	secret := make([]byte, 32)
	if _, err := rand.Read(idBytes); err != nil {
		return "", "", err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", "", err
	}
	id = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(idBytes))
	return "orion_" + id + "_" + base64.RawURLEncoding.EncodeToString(secret), id, nil
}

// Issue creates a token named name with scope inside tx and returns its
// secret, which is shown to the user once and never stored. queues
// restricts an agent token to those work queues.
func Issue(tx store.Tx, name string, scope Scope, queues ...string) (secret string, tok *store.Token, err error) {
	secret, id, err := NewSecret()
	if err != nil {
		return "", nil, err
	}
	tok = &store.Token{
		Meta:       &orionv1.ApiToken{Id: id, Name: name, Scope: scope, WorkQueues: queues, CreateTime: timestamppb.New(tx.Now())},
		SecretHash: Hash(secret),
	}
	return secret, tok, tx.PutToken(tok)
}

// Hash is the stored form of a token.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// tokenID extracts the public id from "orion_<id>_<secret>".
func tokenID(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, "orion_")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "_")
	return id, ok && id != ""
}

// Authenticator checks bearer tokens against the store.
type Authenticator struct {
	store   store.Store
	log     hclog.Logger
	opts    Options
	enabled atomic.Bool
}

// Options configure an Authenticator.
type Options struct {
	// Require turns auth on even with no token stored.
	Require bool
	// AgentCertRequired makes the agent protocol demand a verified TLS
	// client certificate (the server was given a client CA).
	AgentCertRequired bool
}

// New returns an authenticator over the tokens in st.
func New(st store.Store, opts Options, log hclog.Logger) (*Authenticator, error) {
	a := &Authenticator{store: st, log: log.Named("auth"), opts: opts}
	return a, a.Refresh(context.Background())
}

// Refresh re-reads whether any token exists. Call it after tokens change.
func (a *Authenticator) Refresh(ctx context.Context) error {
	var n int
	err := a.store.View(ctx, func(tx store.Tx) error {
		toks, err := tx.ListTokens()
		n = len(toks)
		return err
	})
	if err != nil {
		return err
	}
	a.enabled.Store(a.opts.Require || n > 0)
	return nil
}

// Enabled reports whether requests must carry a token.
func (a *Authenticator) Enabled() bool { return a.enabled.Load() }

// Errors returned to callers; they never echo the token.
var (
	errMissing = status.Error(codes.Unauthenticated, "missing API token: send 'authorization: Bearer <token>' (set ORION_API_KEY)")
	errInvalid = status.Error(codes.Unauthenticated, "invalid or revoked API token")
)

// Authenticate resolves an "authorization" header value.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Caller, error) {
	token, ok := strings.CutPrefix(strings.TrimSpace(header), "Bearer ")
	if !ok || token == "" {
		return Caller{}, errMissing
	}
	id, ok := tokenID(strings.TrimSpace(token))
	if !ok {
		return Caller{}, errInvalid
	}
	var stored *store.Token
	err := a.store.View(ctx, func(tx store.Tx) (err error) {
		stored, err = tx.Token(id)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Caller{}, errInvalid
	case err != nil:
		return Caller{}, status.Error(codes.Unavailable, "cannot check the API token now; retry")
	}
	if subtle.ConstantTimeCompare(stored.SecretHash, Hash(strings.TrimSpace(token))) != 1 {
		return Caller{}, errInvalid
	}
	return Caller{TokenID: id, Name: stored.Meta.GetName(), Scope: stored.Meta.GetScope(), WorkQueues: stored.Meta.GetWorkQueues()}, nil
}

// authorize authenticates the request in ctx and checks method's scope.
func (a *Authenticator) authorize(ctx context.Context, method string) (context.Context, error) {
	if a.opts.AgentCertRequired && strings.HasPrefix(method, "/orion.agent.v1.") && !verifiedClientCert(ctx) {
		return ctx, status.Error(codes.Unauthenticated, "the agent protocol needs a TLS client certificate signed by the server's --tls-client-ca (set ORION_TLS_CERT and ORION_TLS_KEY on the agent)")
	}
	if !a.Enabled() || public[method] {
		return ctx, nil
	}
	var header string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			header = v[0]
		}
	}
	caller, err := a.Authenticate(ctx, header)
	if err != nil {
		requestid.Logger(ctx, a.log).Debug("request refused", "method", method, "error", status.Convert(err).Message())
		return ctx, err
	}
	if !Allowed(caller.Scope, method) {
		return ctx, status.Error(codes.PermissionDenied, fmt.Sprintf("token %q has scope %s, which may not call %s", caller.Name, ScopeName(caller.Scope), method))
	}
	return context.WithValue(ctx, callerKey{}, caller), nil
}

// UnaryInterceptor authorizes unary calls.
func (a *Authenticator) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor authorizes streaming calls.
func (a *Authenticator) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
	}
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

// RequireAdmin checks an HTTP request's Authorization header for the admin
// scope (for HTTP-only endpoints such as backups). It returns the HTTP
// status and message to send when refused, or 0.
func (a *Authenticator) RequireAdmin(ctx context.Context, header string) (int, string) {
	if !a.Enabled() {
		return 0, ""
	}
	caller, err := a.Authenticate(ctx, header)
	if err != nil {
		return 401, status.Convert(err).Message()
	}
	if caller.Scope != Admin {
		return 403, fmt.Sprintf("token %q has scope %s; this needs admin", caller.Name, ScopeName(caller.Scope))
	}
	return 0, ""
}

// RequireAdminScope fails unless the caller of ctx has the admin scope; what
// names the guarded action in the error ("force").
func RequireAdminScope(ctx context.Context, what string) error {
	if c := FromContext(ctx); c.Scope != Admin {
		return status.Error(codes.PermissionDenied, fmt.Sprintf("%s needs a token with the admin scope; token %q has scope %s", what, c.Name, ScopeName(c.Scope)))
	}
	return nil
}

// verifiedClientCert reports whether the peer presented a client
// certificate that verified against the server's client CA.
func verifiedClientCert(ctx context.Context) bool {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	return ok && len(info.State.VerifiedChains) > 0
}
