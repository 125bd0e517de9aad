package bolt

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, "orion.db"), Options{})
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(backup, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := Verify(backup); err != nil || v != SchemaVersion {
		t.Fatalf("Verify(backup) = %d, %v", v, err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("x", 8192)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(junk); err == nil {
		t.Fatal("a file that is not a store passed verification")
	}
}
