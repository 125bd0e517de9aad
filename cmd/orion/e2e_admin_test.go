package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEndToEnd_BackupAndRestore takes an online backup, checks it, and
// starts a server on a fresh home from it.
func TestEndToEnd_BackupAndRestore(t *testing.T) {
	e := newEnv(t)
	srv := e.start("Orion server listening on", "server", "start", "--port", strconv.Itoa(e.port))
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
	e.start("Orion server listening on", "server", "start", "--port", strconv.Itoa(e.port), "--restore", backup)
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
