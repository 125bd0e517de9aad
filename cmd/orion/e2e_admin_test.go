package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEndToEnd_BackupAndRestore takes an online backup, checks it, and
// starts a server on a fresh home from it.
func TestEndToEnd_BackupAndRestore(t *testing.T) {
	e := newEnv(t)
	srv := e.startServer()
	e.mustRun("deployment", "create", "examples/shell/deployments.yaml")

	backup := filepath.Join(t.TempDir(), "backup.db")
	r := e.mustRun("server", "backup", backup)
	if !strings.Contains(r.stdout, "verified") {
		t.Fatalf("backup output: %s", r.stdout)
	}
	if code, body := e.httpGet("/metrics"); code != 200 || !strings.Contains(body, "orion_store_size_bytes") {
		t.Fatalf("/metrics: %d", code)
	}
	srv.stop(t)
	if r := e.mustRun("server", "check"); !strings.Contains(r.stdout, "is consistent") {
		t.Fatalf("check: %s", r.stdout)
	}

	// A new home restored from the backup has the deployments.
	e.home = t.TempDir()
	e.port = freePort(t)
	e.startServer("--restore", backup)
	if ls := e.mustRun("deployment", "ls"); !strings.Contains(ls.stdout, "shell-greeting/greet") {
		t.Fatalf("restored server lacks the deployment:\n%s", ls.stdout)
	}
	if _, err := os.Stat(filepath.Join(e.home, "orion.db")); err != nil {
		t.Fatal(err)
	}
	if r := e.run("server", "backup", filepath.Join(t.TempDir(), "x.db"), "--api-url", "http://127.0.0.1:1"); r.code == 0 || !strings.Contains(r.stderr, "cannot reach") {
		t.Fatalf("backup from an unreachable server: %d %s", r.code, r.stderr)
	}
}

// TestEndToEnd_BootstrapTokenSecuresTheServer: a token created offline with
// `orion server bootstrap-token` turns auth on from the first start; the
// CLI, agents and backups then need it (ORION_API_KEY).
func TestEndToEnd_BootstrapTokenSecuresTheServer(t *testing.T) {
	e := newEnv(t)
	out := e.mustRun("server", "bootstrap-token", "--name", "root").stdout
	secret := tokenSecret(out)
	if secret == "" || !strings.Contains(out, "with scope admin") {
		t.Fatalf("bootstrap-token output:\n%s", out)
	}
	e.startServer()
	if r := e.run("deployment", "ls"); r.code == 0 || !strings.Contains(r.stderr, "missing API token") {
		t.Fatalf("deployment ls without a token: exit %d\n%s", r.code, r.stderr)
	}
	if r := e.run("server", "bootstrap-token"); r.code == 0 || !strings.Contains(r.stderr, "in use by another process") {
		t.Fatalf("bootstrap-token on a running server's store: exit %d\n%s", r.code, r.stderr)
	}
	admin := e.with("ORION_API_KEY=" + secret)
	admin.mustRun("deployment", "create", "examples/shell/deployments.yaml")
	if ls := admin.mustRun("token", "ls"); !strings.Contains(ls.stdout, "root") {
		t.Fatalf("token ls:\n%s", ls.stdout)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if r := e.run("server", "backup", backup); r.code == 0 || !strings.Contains(r.stderr, "401") {
		t.Fatalf("backup without a token: exit %d\n%s", r.code, r.stderr)
	}
	if r := admin.mustRun("server", "backup", backup); !strings.Contains(r.stdout, "verified") {
		t.Fatalf("backup with the admin token: %s", r.stdout)
	}
}
