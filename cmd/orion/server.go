package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/cmd/internal/logging"
	"github.com/orion-run/orion/server"
	"github.com/orion-run/orion/server/config"
)

func serverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "server", Short: "Run the Orion server"}
	cmd.AddCommand(serverStartCommand(), serverBackupCommand(), serverCheckCommand(), serverBootstrapTokenCommand())
	return cmd
}

func serverStartCommand() *cobra.Command {
	var (
		host, logLevel, logFormat, restore string
		port                               int
		insecureOK, requireAuth            bool
		tlsCert, tlsKey, tlsClientCA       string
	)
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the server: gRPC and HTTP/JSON API on one port, embedded store under $ORION_HOME",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Default().FromEnv(os.Getenv)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("host") {
				cfg.Host = host
			}
			if cmd.Flags().Changed("port") {
				cfg.Port = port
			}
			if cmd.Flags().Changed("log-level") {
				cfg.LogLevel = logLevel
			}
			if cmd.Flags().Changed("log-format") {
				if cfg.LogJSON, err = logging.ParseFormat(logFormat); err != nil {
					return err
				}
			}
			cfg.Insecure = insecureOK
			cfg.RequireAuth = requireAuth
			cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA = tlsCert, tlsKey, tlsClientCA
			// Validate fills in derived settings (the store path) for the
			// messages below as well as checking the flags.
			if err := cfg.Validate(); err != nil {
				return err
			}
			if restore != "" {
				if err := restoreStore(restore, cfg.DBPath, cmd.OutOrStdout()); err != nil {
					return err
				}
			}
			if os.Getenv("GOGC") == "" {
				// The server's live heap is small and its garbage is short
				// lived (decoded records, requests): collecting half as
				// often saves CPU under load for little memory.
				debug.SetGCPercent(200)
			}
			log := logging.New("orion", cfg.LogLevel, cfg.LogJSON, cmd.ErrOrStderr())
			srv, err := server.New(cfg, log)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(cmd.OutOrStdout(), "Orion server listening on %s (store: %s)\n", srv.URL(), cfg.DBPath)
			fmt.Fprintf(cmd.OutOrStdout(), "Agents and the CLI reach it with ORION_API_URL=%s\n", srv.URL())
			if err := srv.Serve(ctx); err != nil && err != context.Canceled {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Orion server stopped.")
			return nil
		},
	}
	def := config.Default()
	cmd.Flags().StringVar(&host, "host", def.Host, "address to listen on (ORION_SERVER_HOST)")
	cmd.Flags().IntVar(&port, "port", def.Port, "port for gRPC and HTTP/JSON (ORION_SERVER_PORT)")
	cmd.Flags().StringVar(&logLevel, "log-level", def.LogLevel, "trace, debug, info, warn or error (ORION_LOG_LEVEL)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "text or json (ORION_LOG_FORMAT)")
	cmd.Flags().BoolVar(&insecureOK, "insecure", false, "allow serving a non-loopback address without authentication")
	cmd.Flags().BoolVar(&requireAuth, "require-auth", false, "require an API token even before any token exists")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "serve TLS with this certificate (PEM)")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "private key of --tls-cert (PEM)")
	cmd.Flags().StringVar(&tlsClientCA, "tls-client-ca", "", "verify client certificates with this CA; agents must present one")
	cmd.Flags().StringVar(&restore, "restore", "", "replace the store with this backup (verified first; the old store is kept beside it) before starting")
	return cmd
}
