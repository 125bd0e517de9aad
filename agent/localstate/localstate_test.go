package localstate

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// check runs bbolt's consistency check on a closed file.
func check(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() { // drain: Check's goroutine sends them all
			if first == nil {
				first = err
			}
		}
		return first
	}); err != nil {
		t.Fatalf("check: %v", err)
	}
}

func TestStore_RunCRUD(t *testing.T) {
	path := Path(t.TempDir(), "agent-a")
	s := openTest(t, path)
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

	if runs, err := s.Runs(); err != nil || len(runs) != 0 {
		t.Fatalf("empty store: %v %v", runs, err)
	}
	b := Run{FlowRunID: "b", Epoch: 2, Workdir: "/w/b", Started: t0.Add(time.Second)}
	a := Run{FlowRunID: "a", Epoch: 1, Workdir: "/w/a", Started: t0}
	for _, r := range []Run{b, a} {
		if err := s.PutRun(r); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	a.PID, a.InfrastructureType, a.HandleID, a.HandleData = "42", "subprocess", "42", []byte(`{"pid":42}`)
	if err := s.PutRun(a); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, ok, err := s.GetRun("a")
	if err != nil || !ok || got.PID != "42" || string(got.HandleData) != `{"pid":42}` || !got.Started.Equal(t0) {
		t.Fatalf("get: %+v %v %v", got, ok, err)
	}
	runs, err := s.Runs()
	if err != nil || len(runs) != 2 || runs[0].FlowRunID != "a" || runs[1].FlowRunID != "b" {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	for _, id := range []string{"a", "a", "missing"} {
		if err := s.DeleteRun(id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	if _, ok, _ := s.GetRun("a"); ok {
		t.Fatal("deleted run still there")
	}
	if err := s.PutRun(Run{}); err == nil {
		t.Fatal("run without id accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(t, path)
}

func TestStore_AgentIDSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openTest(t, path)
	if id, err := s.AgentID(); err != nil || id != "" {
		t.Fatalf("fresh id: %q %v", id, err)
	}
	if err := s.SetAgentID("agent-123"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRun(Run{FlowRunID: "r", Epoch: 3}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openTest(t, path)
	defer s.Close()
	if id, _ := s.AgentID(); id != "agent-123" {
		t.Fatalf("id after reopen: %q", id)
	}
	if r, ok, _ := s.GetRun("r"); !ok || r.Epoch != 3 {
		t.Fatalf("run after reopen: %+v", r)
	}
}

func TestStore_SecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openTest(t, path)
	defer s.Close()
	if _, err := Open(path, 50*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestStore_RejectsNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openTest(t, path)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, 0); err == nil {
		t.Fatal("opened a file with an unknown schema")
	}
}
