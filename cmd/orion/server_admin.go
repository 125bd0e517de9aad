package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/orion-run/orion/client"
	"github.com/orion-run/orion/server/auth"
	"github.com/orion-run/orion/server/config"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/bolt"
	"github.com/orion-run/orion/server/validate"
)

// serverBackupCommand downloads a consistent online copy of the store.
func serverBackupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the running server's store to FILE (the server keeps serving)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiURL := client.APIURL(flagString(cmd, "api-url"))
			n, err := downloadBackup(cmd.Context(), apiURL, args[0])
			if err != nil {
				return err
			}
			v, err := bolt.Verify(args[0])
			if err != nil {
				os.Remove(args[0])
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Backed up %d bytes to %s (schema version %d, verified)\n", n, args[0], v)
			return nil
		},
	}
}

// downloadBackup fetches /api/admin/backup into path atomically.
func downloadBackup(ctx context.Context, apiURL, path string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/api/admin/backup", nil)
	if err != nil {
		return 0, fmt.Errorf("invalid API URL %q: %v", apiURL, err)
	}
	if key := os.Getenv(client.EnvAPIKey); key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	tc, err := client.TLSConfigFromEnv()
	if err != nil {
		return 0, err
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot reach the Orion server at %s: %v", apiURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("backup refused by the server: %s %s", resp.Status, msg)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".orion-backup-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, resp.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("writing backup: %v", err)
	}
	return n, os.Rename(tmp.Name(), path)
}

// serverBootstrapTokenCommand creates an API token directly in a store that
// no server holds: the way to secure a server before its first start on a
// non-loopback address (as `nomad acl bootstrap` is for Nomad).
func serverBootstrapTokenCommand() *cobra.Command {
	var name, scope string
	cmd := &cobra.Command{
		Use:   "bootstrap-token [--name NAME] [--scope admin]",
		Short: "Create an API token in the store (default $ORION_HOME/orion.db) while no server uses it; prints the secret once",
		Long: `Creates an API token directly in the store file, for a server that is not
running yet: a server on a non-loopback address refuses to start without one
(unless --insecure). Against a running server use 'orion token create'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, ok := auth.ParseScope(scope)
			if !ok {
				return fmt.Errorf("invalid --scope %q: use admin, agent, read or run", scope)
			}
			if err := validate.Name("--name", name); err != nil {
				return err
			}
			path := defaultDBPath()
			st, err := bolt.Open(path, bolt.Options{Timeout: 200 * time.Millisecond})
			if errors.Is(err, bolt.ErrLocked) {
				return fmt.Errorf("%v: stop it first, or create the token with 'orion token create' against it", err)
			}
			if err != nil {
				return err
			}
			var secret string
			var tok *store.Token
			err = st.Update(cmd.Context(), func(tx store.Tx) (err error) {
				secret, tok, err = auth.Issue(tx, name, sc)
				return err
			})
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created token '%s' (%s) with scope %s in %s.\n", name, tok.Meta.GetId(), auth.ScopeName(sc), path)
			fmt.Fprintf(out, "Secret (shown only once; clients read it from ORION_API_KEY):\n%s\n", secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "bootstrap", "a name for the token")
	cmd.Flags().StringVar(&scope, "scope", "admin", "admin, agent, read or run")
	return cmd
}

// serverCheckCommand verifies a store file offline.
func serverCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check [FILE]",
		Short: "Verify a store file (default $ORION_HOME/orion.db) while no server uses it",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := defaultDBPath()
			if len(args) == 1 {
				path = args[0]
			}
			v, err := bolt.Verify(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Store %s is consistent (schema version %d)\n", path, v)
			return nil
		},
	}
}

// restoreStore replaces the store at dbPath with the verified backup; the
// previous file, if any, is kept beside it as orion.db.before-restore-<time>.
func restoreStore(backup, dbPath string, out io.Writer) error {
	if _, err := bolt.Verify(backup); err != nil {
		return fmt.Errorf("--restore: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(dbPath); err == nil {
		kept := dbPath + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dbPath, kept); err != nil {
			return fmt.Errorf("--restore: cannot move the current store aside: %v", err)
		}
		fmt.Fprintf(out, "Previous store kept as %s\n", kept)
	}
	in, err := os.Open(backup)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dbPath + ".restoring"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return err
	}
	fmt.Fprintf(out, "Restored %s from %s\n", dbPath, backup)
	return nil
}

func defaultDBPath() string {
	cfg, err := config.Default().FromEnv(os.Getenv)
	if err == nil && cfg.Validate() == nil {
		return cfg.DBPath
	}
	return filepath.Join(client.Home(), "orion.db")
}
