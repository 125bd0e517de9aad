// Package servertest starts a real Orion server in-process for tests: a bbolt
// file in a temp dir, one listener on 127.0.0.1:0, short leases.
package servertest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/orion-run/orion/server"
	"github.com/orion-run/orion/server/config"
)

// Server is a running test server.
type Server struct {
	*server.Server
	Home string
	stop func() error
}

// New starts a server and stops it when the test ends. modify may change the
// configuration before start.
func New(t testing.TB, modify ...func(*config.Config)) *Server {
	t.Helper()
	cfg := Config(t.TempDir())
	for _, m := range modify {
		m(&cfg)
	}
	level := os.Getenv("ORION_TEST_LOG_LEVEL")
	if level == "" {
		level = "off"
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "orion", Level: hclog.LevelFromString(level), Output: testWriter{t}})
	s, err := Start(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Config returns the test configuration: a store under home, a free
// loopback port, short leases.
func Config(home string) config.Config {
	cfg := config.Default()
	cfg.Home = home
	cfg.Port = 0
	cfg.LeaseDuration = 3 * time.Second
	cfg.HeartbeatInterval = time.Second
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.FirstByteTimeout = 500 * time.Millisecond
	return cfg
}

// Start starts a server outside a test (e.g. in TestMain); call Stop.
func Start(cfg config.Config, log hclog.Logger) (*Server, error) {
	srv, err := server.New(cfg, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	s := &Server{Server: srv, Home: cfg.Home}
	s.stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("server did not stop within 10s")
		}
	}
	return s, nil
}

// Stop stops the server and waits for it (idempotent).
func (s *Server) Stop() error {
	if s.stop == nil {
		return nil
	}
	stop := s.stop
	s.stop = nil
	return stop()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
