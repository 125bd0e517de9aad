// Package server wires Orion's control plane: the bbolt store, the
// dispatcher, the gRPC services and the HTTP gateway, all on one listener,
// with graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/soheilhy/cmux"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/auth"
	"github.com/orion-run/orion/server/config"
	"github.com/orion-run/orion/server/dispatch"
	"github.com/orion-run/orion/server/gateway"
	"github.com/orion-run/orion/server/metrics"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/ratelimit"
	"github.com/orion-run/orion/server/requestid"
	"github.com/orion-run/orion/server/rpc"
	"github.com/orion-run/orion/server/scheduler"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
	"github.com/orion-run/orion/server/validate"
)

// MaxMessageSize bounds gRPC messages in both directions (16 MiB).
const MaxMessageSize = 16 << 20

// Server is a running (or ready to run) Orion server.
type Server struct {
	cfg   config.Config
	log   hclog.Logger
	store *bolt.Store
	disp  *dispatch.Dispatcher
	lis   net.Listener
	met   *metrics.Metrics
	auth  *auth.Authenticator
	tls   *tls.Config
}

// New opens the store (failing fast when another server holds it) and binds
// the listener. Call Serve to run.
func New(cfg config.Config, log hclog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var st *bolt.Store
	met := metrics.New(func() int64 { return st.Size() }, func() map[orionv1.StateType]int { return runsInState(st) })
	st, err := bolt.Open(cfg.DBPath, bolt.Options{Timeout: 500 * time.Millisecond, Logger: log.Named("store"), Observer: met})
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(st, auth.Options{Require: cfg.RequireAuth, AgentCertRequired: cfg.TLSClientCA != ""}, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	if !cfg.IsLoopback() && !authn.Enabled() && !cfg.Insecure {
		st.Close()
		return nil, fmt.Errorf("refusing to serve %s without authentication: create a token first ('orion server bootstrap-token' with the server stopped) or pass --insecure", cfg.Addr())
	}
	tlsCfg, err := serverTLS(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("cannot listen on %s: %v (is another server using the port? try --port)", cfg.Addr(), err)
	}
	disp := dispatch.New(st, dispatch.Config{
		LeaseDuration:     cfg.LeaseDuration,
		HeartbeatInterval: cfg.HeartbeatInterval,
		LateAfter:         cfg.LateAfter,
		Logger:            log,
		Observer:          met,
	})
	return &Server{cfg: cfg, log: log, store: st, disp: disp, lis: lis, met: met, auth: authn, tls: tlsCfg}, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// URL is the API URL clients use to reach the server.
func (s *Server) URL() string {
	addr := s.lis.Addr().String()
	// A server on every interface is reached locally through loopback.
	if tcp, ok := s.lis.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	if s.tls != nil {
		return "https://" + addr
	}
	return "http://" + addr
}

// Store returns the server's store.
func (s *Server) Store() store.Store { return s.store }

// streamWorkers is how many goroutines serve gRPC calls (see Serve).
const streamWorkers = 64

// Serve serves gRPC and HTTP on the one listener until ctx is cancelled, then
// shuts down gracefully and closes the store.
func (s *Server) Serve(ctx context.Context) error {
	defer s.store.Close()
	unary := []grpc.UnaryServerInterceptor{requestid.UnaryInterceptor(), s.met.GRPC.UnaryServerInterceptor(), s.auth.UnaryInterceptor(), rpc.UnaryErrors(s.log.Named("rpc"))}
	stream := []grpc.StreamServerInterceptor{requestid.StreamInterceptor(), s.met.GRPC.StreamServerInterceptor(), s.auth.StreamInterceptor(), rpc.StreamErrors(s.log.Named("rpc"))}
	grpcOpts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		// Unary calls run on long-lived worker goroutines whose stacks have
		// already grown: a goroutine per call spent about a tenth of a point
		// read's CPU growing its stack (runtime.copystack). Calls beyond
		// the workers, and long-lived streams, get goroutines of their own.
		grpc.NumStreamWorkers(streamWorkers),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	if s.tls != nil {
		grpcOpts = append(grpcOpts, grpc.Creds(terminatedTLS{}))
	}
	grpcServer := grpc.NewServer(grpcOpts...)
	svc := &rpc.Services{Store: s.store, Dispatcher: s.disp, Auth: s.auth, Logger: s.log.Named("rpc"), LogRate: logLimiter(s.cfg)}
	svc.Register(grpcServer)
	healthSrv := health.NewServer()
	healthpb.RegisterHealthServer(grpcServer, healthSrv)
	reflection.Register(grpcServer)

	inproc := inProcess(svc, unary, stream)
	gctx, cancelGateway := context.WithCancel(context.Background())
	defer cancelGateway()
	handler, err := gateway.New(gctx, inproc, MaxMessageSize, func(ctx context.Context) error {
		return s.store.View(ctx, func(store.Tx) error { return nil })
	})
	if err != nil {
		return err
	}
	s.met.GRPC.InitializeMetrics(grpcServer)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.met.Handler())
	mux.Handle("GET /api/admin/backup", s.adminOnly(http.HandlerFunc(s.serveBackup)))
	if s.cfg.Pprof {
		mux.Handle("/debug/pprof/", s.adminOnly(http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/profile", s.adminOnly(http.HandlerFunc(pprof.Profile)))
		mux.Handle("/debug/pprof/trace", s.adminOnly(http.HandlerFunc(pprof.Trace)))
	}
	mux.Handle("/", handler)
	// Requests still running when the graceful shutdown gives up (watches,
	// followed logs) are cancelled, so that their in-process calls end
	// before the store closes.
	httpCtx, cancelHTTP := context.WithCancel(context.Background())
	defer cancelHTTP()
	httpServer := &http.Server{
		Handler: requestid.Middleware(s.met.WrapHTTP(mux)), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return httpCtx },
	}
	lis := s.lis
	if s.tls != nil {
		// TLS is terminated before the gRPC/HTTP split; HTTP clients
		// negotiate HTTP/1.1 (see serverTLS).
		lis = tls.NewListener(s.lis, s.tls)
	}

	m := cmux.New(lis)
	m.SetReadTimeout(s.cfg.FirstByteTimeout)
	grpcL := m.MatchWithWriters(cmux.HTTP2MatchHeaderFieldPrefixSendSettings("content-type", "application/grpc"))
	httpL := m.Match(cmux.Any())

	g, gctx2 := errgroup.WithContext(ctx)
	g.Go(func() error { return ignoreClosed(grpcServer.Serve(grpcL)) })
	g.Go(func() error { return ignoreClosed(httpServer.Serve(httpL)) })
	g.Go(func() error { return ignoreClosed(m.Serve()) })
	g.Go(func() error { return s.disp.Run(gctx2) })
	sched := scheduler.New(s.store, scheduler.Config{
		Limits: scheduler.Limits{
			MinRuns: s.cfg.SchedulerMinRuns, MaxRuns: s.cfg.SchedulerMaxRuns,
			MinTime: s.cfg.SchedulerMinTime, MaxTime: s.cfg.SchedulerMaxTime, Spread: s.cfg.SchedulerSpread,
		},
		LoopInterval: s.cfg.SchedulerLoopInterval,
		Logger:       s.log,
		Observer:     s.met,
	})
	g.Go(func() error { return sched.Run(gctx2) })
	g.Go(func() error {
		<-gctx2.Done()
		s.log.Info("shutting down")
		healthSrv.Shutdown()
		s.disp.Close()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		if httpServer.Shutdown(shutdownCtx) != nil {
			cancelHTTP()
			httpServer.Close() //nolint:errcheck // the listener is closed below
		}
		stopped := make(chan struct{})
		go func() { grpcServer.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-shutdownCtx.Done():
			grpcServer.Stop()
		}
		m.Close()
		return nil
	})
	s.log.Info("server started", "address", s.lis.Addr().String(), "store", s.cfg.DBPath)
	return g.Wait()
}

// logLimiter bounds each run's log writes: LogLinesPerSecond lines in
// bursts of ten seconds' worth, and 10 KB per line on average.
func logLimiter(cfg config.Config) *ratelimit.Limiter {
	if cfg.LogLinesPerSecond <= 0 {
		return nil
	}
	burst := int(10 * cfg.LogLinesPerSecond)
	return ratelimit.New(ratelimit.Limits{
		LinesPerSecond: cfg.LogLinesPerSecond, LineBurst: max(burst, validate.MaxLogBatch),
		BytesPerSecond: cfg.LogLinesPerSecond * 10_000, ByteBurst: max(burst*10_000, 64<<20),
	}, nil)
}

func ignoreClosed(err error) error {
	if err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) ||
		errors.Is(err, grpc.ErrServerStopped) || errors.Is(err, cmux.ErrListenerClosed) || errors.Is(err, cmux.ErrServerClosed) {
		return nil
	}
	return err
}

// runsInState counts the runs in each non-terminal state, for metrics.
func runsInState(st *bolt.Store) map[orionv1.StateType]int {
	counts := map[orionv1.StateType]int{}
	st.View(context.Background(), func(tx store.Tx) error { //nolint:errcheck // a failed scrape reports zeros
		for _, t := range []orionv1.StateType{orchestration.Scheduled, orchestration.Pending, orchestration.Running, orchestration.Cancelling, orchestration.Paused} {
			n, err := tx.RunCount(t) // a counter, not a scan
			if err != nil {
				return err
			}
			counts[t] = n
		}
		return nil
	})
	return counts
}

// adminOnly refuses requests without an admin token when auth is on.
func (s *Server) adminOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, msg := s.auth.RequireAdmin(r.Context(), r.Header.Get("Authorization")); code != 0 {
			http.Error(w, msg, code)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveBackup streams a consistent copy of the store taken in one read
// transaction while the server keeps serving (`orion server backup`).
func (s *Server) serveBackup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="orion.db"`)
	n, err := s.store.Backup(w)
	if err != nil {
		s.log.Error("backup failed", "bytes_written", n, "error", err)
		return
	}
	s.log.Info("backup served", "bytes", n, "remote_addr", r.RemoteAddr)
}
