package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"

	"github.com/soheilhy/cmux"
	"google.golang.org/grpc/credentials"

	"github.com/orion-run/orion/server/config"
)

// serverTLS builds the listener's TLS configuration, or nil without TLS.
// With a client CA, client certificates are verified when presented (agents
// must present one: see auth.Options.AgentCertRequired); browsers and HTTP
// clients of the gateway need none.
func serverTLS(cfg config.Config) (*tls.Config, error) {
	if cfg.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %v", err)
	}
	tc := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	// gRPC and HTTP share the port and are told apart after the handshake
	// by the first HTTP/2 request's content-type (cmux). That works for
	// gRPC, but an HTTP/2 connection that turns out to be plain HTTP would
	// reach the HTTP server after cmux has already answered the client's
	// SETTINGS, and Go's HTTP/2 server then fails it with PROTOCOL_ERROR.
	// So a client that offers HTTP/1.1 as well (browsers, curl, Go's
	// net/http) is given HTTP/1.1; gRPC clients offer only h2 and get it.
	if cfg.TLSClientCA != "" {
		pem, err := os.ReadFile(cfg.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca %s holds no PEM certificate", cfg.TLSClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	http1 := tc.Clone()
	http1.NextProtos = []string{"http/1.1"}
	tc.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if !slices.Contains(hello.SupportedProtos, "http/1.1") {
			return nil, nil
		}
		return http1, nil
	}
	return tc, nil
}

// terminatedTLS are gRPC server credentials for connections whose TLS was
// already terminated by the shared listener (before the gRPC/HTTP split):
// no handshake, but the TLS state is reported so handlers can see verified
// client certificates.
type terminatedTLS struct{}

func (terminatedTLS) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	inner := conn
	if mc, ok := inner.(*cmux.MuxConn); ok {
		inner = mc.Conn
	}
	tc, ok := inner.(*tls.Conn)
	if !ok {
		return conn, nil, nil
	}
	return conn, credentials.TLSInfo{State: tc.ConnectionState(), CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}, nil
}

func (terminatedTLS) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("terminatedTLS is for servers only")
}

func (terminatedTLS) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls"}
}

func (t terminatedTLS) Clone() credentials.TransportCredentials { return t }

func (terminatedTLS) OverrideServerName(string) error { return nil }
