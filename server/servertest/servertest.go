// Package servertest starts a real Orion server in-process for tests: a bbolt
// file in a temp dir, one listener on 127.0.0.1:0, short leases.
package servertest

import (
	"context"
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
	stop func()
}

// New starts a server and stops it when the test ends. modify may change the
// configuration before start.
func New(t testing.TB, modify ...func(*config.Config)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Home = t.TempDir()
	cfg.Port = 0
	cfg.LeaseDuration = 3 * time.Second
	cfg.HeartbeatInterval = time.Second
	cfg.ShutdownTimeout = 2 * time.Second
	for _, m := range modify {
		m(&cfg)
	}
	level := os.Getenv("ORION_TEST_LOG_LEVEL")
	if level == "" {
		level = "off"
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "orion", Level: hclog.LevelFromString(level), Output: testWriter{t}})
	srv, err := server.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	s := &Server{Server: srv, Home: cfg.Home}
	s.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("server did not stop")
		}
	}
	t.Cleanup(s.Stop)
	return s
}

// Stop stops the server (idempotent).
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
