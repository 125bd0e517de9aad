// Package client is Orion's Go SDK: the CLI and the agent talk to the server
// only through it. Dial a server, then call the typed service clients:
//
//	c, err := client.Dial("http://127.0.0.1:4200")
//	if err != nil { ... }
//	defer c.Close()
//	resp, err := c.Deployments.GetDeploymentByName(ctx, &orionv1.GetDeploymentByNameRequest{...})
//	if client.IsNotFound(err) { ... }
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	agentv1 "github.com/orion-run/orion/gen/go/orion/agent/v1"
	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// DefaultAPIURL is where clients look for the server when neither a flag nor
// ORION_API_URL says otherwise.
const DefaultAPIURL = "http://127.0.0.1:4200"

// EnvAPIURL names the environment variable that holds the server's URL.
const EnvAPIURL = "ORION_API_URL"

// MaxMessageSize bounds the size of messages sent and received (16 MiB).
const MaxMessageSize = 16 << 20

// Client holds one connection to an Orion server and a typed client for each
// service. It is safe for concurrent use.
type Client struct {
	conn *grpc.ClientConn
	url  string

	Flows       orionv1.FlowServiceClient
	Deployments orionv1.DeploymentServiceClient
	FlowRuns    orionv1.FlowRunServiceClient
	Logs        orionv1.LogServiceClient
	WorkQueues  orionv1.WorkQueueServiceClient
	Tokens      orionv1.TokenServiceClient
	Agent       agentv1.AgentServiceClient
}

type options struct {
	dialOpts  []grpc.DialOption
	token     string
	tokenSet  bool
	tlsConfig *tls.Config
}

// Option configures Dial.
type Option func(*options)

// WithDialOptions adds raw gRPC dial options.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// WithToken sends token as "authorization: Bearer <token>" on every call.
// Without it, Dial uses ORION_API_KEY when set.
func WithToken(token string) Option {
	return func(o *options) { o.token, o.tokenSet = token, true }
}

// WithTLSConfig sets the TLS configuration for https:// URLs. Without it,
// Dial trusts the system roots plus ORION_TLS_CA (a PEM file) and presents
// ORION_TLS_CERT/ORION_TLS_KEY as a client certificate when both are set.
func WithTLSConfig(c *tls.Config) Option {
	return func(o *options) { o.tlsConfig = c }
}

// Environment variables read by Dial.
const (
	EnvAPIKey  = "ORION_API_KEY"
	EnvTLSCA   = "ORION_TLS_CA"
	EnvTLSCert = "ORION_TLS_CERT"
	EnvTLSKey  = "ORION_TLS_KEY"
)

// APIURL returns the server URL to use: the flag value when set, else
// ORION_API_URL, else DefaultAPIURL.
func APIURL(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(EnvAPIURL); v != "" {
		return v
	}
	return DefaultAPIURL
}

// Target turns an API URL ("http://host:port" or "https://host:port",
// optionally with a path such as "/api") into a gRPC dial target "host:port"
// and whether the connection uses TLS.
func Target(apiURL string) (target string, useTLS bool, err error) {
	if !strings.Contains(apiURL, "://") {
		apiURL = "http://" + apiURL
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return "", false, fmt.Errorf("invalid API URL %q: %v (expected http://HOST:PORT)", apiURL, err)
	}
	port := "80"
	switch u.Scheme {
	case "http":
	case "https":
		useTLS, port = true, "443"
	default:
		return "", false, fmt.Errorf("invalid API URL %q: scheme %q is not supported (use http:// or https://)", apiURL, u.Scheme)
	}
	host := u.Host
	if host == "" {
		return "", false, fmt.Errorf("invalid API URL %q: no host (expected http://HOST:PORT)", apiURL)
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, port)
	}
	return host, useTLS, nil
}

// Dial connects to the server at apiURL (see APIURL). The connection is made
// lazily: an unreachable server surfaces as Unavailable on the first call.
func Dial(apiURL string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	target, useTLS, err := Target(apiURL)
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if useTLS {
		tc := o.tlsConfig
		if tc == nil {
			if tc, err = TLSConfigFromEnv(); err != nil {
				return nil, err
			}
		}
		creds = credentials.NewTLS(tc)
	}
	if !o.tokenSet {
		o.token = os.Getenv(EnvAPIKey)
	}
	if o.token != "" {
		o.dialOpts = append(o.dialOpts, grpc.WithPerRPCCredentials(bearer{token: o.token}))
	}
	dialOpts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageSize),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                20 * time.Second,
			Timeout:             10 * time.Second,
			PermitWithoutStream: false,
		}),
	}, o.dialOpts...)
	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", apiURL, err)
	}
	return &Client{
		conn:        conn,
		url:         apiURL,
		Flows:       orionv1.NewFlowServiceClient(conn),
		Deployments: orionv1.NewDeploymentServiceClient(conn),
		FlowRuns:    orionv1.NewFlowRunServiceClient(conn),
		Logs:        orionv1.NewLogServiceClient(conn),
		WorkQueues:  orionv1.NewWorkQueueServiceClient(conn),
		Tokens:      orionv1.NewTokenServiceClient(conn),
		Agent:       agentv1.NewAgentServiceClient(conn),
	}, nil
}

// URL returns the API URL the client was dialed with.
func (c *Client) URL() string { return c.url }

// Conn returns the underlying gRPC connection.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Code returns the gRPC code of err (codes.OK for nil, codes.Unknown for a
// non-gRPC error).
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus().Code()
	}
	if errors.Is(err, context.Canceled) {
		return codes.Canceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return codes.DeadlineExceeded
	}
	return codes.Unknown
}

// IsNotFound reports whether err means the requested object does not exist.
func IsNotFound(err error) bool { return Code(err) == codes.NotFound }

// IsAlreadyExists reports whether err means the object already exists.
func IsAlreadyExists(err error) bool { return Code(err) == codes.AlreadyExists }

// IsInvalidArgument reports whether err means the request was malformed.
func IsInvalidArgument(err error) bool { return Code(err) == codes.InvalidArgument }

// IsUnavailable reports whether err means the server could not be reached.
func IsUnavailable(err error) bool { return Code(err) == codes.Unavailable }

// IsLeaseLost reports whether err means an agent's lease on a run is stale.
func IsLeaseLost(err error) bool { return Code(err) == codes.Aborted }

// Message returns the server's message for a gRPC error, or err.Error().
func Message(err error) string {
	if err == nil {
		return ""
	}
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

// EnvHome names the environment variable that holds Orion's home folder.
const EnvHome = "ORION_HOME"

// Home returns $ORION_HOME, or ~/.orion when it is unset.
func Home() string {
	if h := os.Getenv(EnvHome); h != "" {
		return h
	}
	if dir, err := os.UserHomeDir(); err == nil {
		return dir + string(os.PathSeparator) + ".orion"
	}
	return ".orion"
}

// TLSConfigFromEnv builds a client TLS configuration: system roots plus
// ORION_TLS_CA, and the client certificate ORION_TLS_CERT/ORION_TLS_KEY.
func TLSConfigFromEnv() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := os.Getenv(EnvTLSCA); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", EnvTLSCA, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s=%s holds no PEM certificate", EnvTLSCA, ca)
		}
		tc.RootCAs = pool
	}
	cert, key := os.Getenv(EnvTLSCert), os.Getenv(EnvTLSKey)
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("set both %s and %s for a client certificate, or neither", EnvTLSCert, EnvTLSKey)
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %v", EnvTLSCert, EnvTLSKey, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// bearer sends an API token with every call. Tokens may travel over
// plain connections (a loopback server); use https:// elsewhere.
type bearer struct{ token string }

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return false }
