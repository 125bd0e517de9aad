package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
	"github.com/orion-run/orion/server/store/storetest"
)

func TestStore_Contract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newTest(t) })
}

func TestOpen_Locked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orion.db")
	openTest(t, path, Options{})

	start := time.Now()
	s, err := Open(path, Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	want := fmt.Sprintf("store %s is in use by another process (is another orion server running on it?)", path)
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("locked Open took %v", d)
	}
}

func TestOpen_CreatesParentDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	openTest(t, filepath.Join(dir, "orion.db"), Options{})
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("data dir mode %v, want 0700 (before umask)", perm)
	}
}

func TestOpen_SchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orion.db")
	s := openTest(t, path, Options{})
	v, err := s.schemaVersion()
	if err != nil || v != SchemaVersion {
		t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion)
	}

	// A file written by a newer server is refused.
	if err := s.db.Update(func(btx *bolt.Tx) error {
		return putUint64(btx.Bucket(bucketMeta), keySchemaVersion, SchemaVersion+1)
	}); err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())
	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this server supports") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestOpen_ReopenPreservesData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orion.db")
	s := openTest(t, path, Options{})
	fillSample(t, s)
	_, index := s.Changed()
	must(t, s.Close())

	s = openTest(t, path, Options{})
	if _, got := s.Changed(); got != index {
		t.Fatalf("modify index after reopen %d, want %d", got, index)
	}
	checkSample(t, s, index)
	var next uint64
	must(t, s.Update(context.Background(), func(tx store.Tx) error { next = tx.Index(); return nil }))
	if next != index+1 {
		t.Errorf("first Update after reopen has index %d, want %d", next, index+1)
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, "orion.db"), Options{})
	fillSample(t, s)
	_, index := s.Changed()

	f, err := os.Create(filepath.Join(dir, "backup.db"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Backup(f)
	must(t, err)
	must(t, f.Close())
	if fi, _ := os.Stat(f.Name()); fi.Size() != n || n == 0 {
		t.Fatalf("Backup wrote %d bytes, file has %d", n, fi.Size())
	}
	// The backup opens while the original is still open and locked.
	checkSample(t, openTest(t, f.Name(), Options{}), index)

	must(t, s.Close())
	if _, err := s.Backup(f); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Backup after Close: %v, want ErrClosed", err)
	}
}

// fillSample writes one run with every kind of history, and a deployment.
func fillSample(t *testing.T, s *Store) {
	t.Helper()
	must(t, s.Update(context.Background(), func(tx store.Tx) error {
		must(t, tx.PutDeployment(&orionv1.Deployment{Id: "d1", Name: "daily", FlowName: "etl"}))
		must(t, tx.PutFlowRun(&orionv1.FlowRun{
			Id: "r1", FlowId: "f1", FlowName: "etl", DeploymentId: "d1", IdempotencyKey: "k1",
			State:                  &orionv1.State{Type: orionv1.StateType_STATE_TYPE_SCHEDULED},
			NextScheduledStartTime: timestamppb.New(time.Unix(100, 0)),
			CreateTime:             timestamppb.New(time.Unix(50, 0)),
		}))
		must(t, tx.AppendState("r1", &orionv1.State{Id: "s1"}))
		_, err := tx.AppendLogs("r1", []*orionv1.Log{{Message: "a"}, {Message: "b"}})
		return err
	}))
}

// checkSample verifies what fillSample wrote, through every index.
func checkSample(t *testing.T, s *Store, index uint64) {
	t.Helper()
	must(t, s.View(context.Background(), func(tx store.Tx) error {
		if tx.Index() != index {
			t.Errorf("View index %d, want %d", tx.Index(), index)
		}
		must(t, second(tx.DeploymentByName("etl", "daily")))
		r, err := tx.FlowRunByIdempotencyKey("f1", "k1")
		must(t, err)
		if r.GetId() != "r1" || r.GetModifyIndex() != index {
			t.Errorf("run %s with index %d, want r1 with %d", r.GetId(), r.GetModifyIndex(), index)
		}
		runs, _, err := tx.ListFlowRuns(store.FlowRunFilter{DeploymentID: "d1"})
		must(t, err)
		var visited int
		must(t, tx.RunsByState(orionv1.StateType_STATE_TYPE_SCHEDULED, time.Unix(100, 0), func(*orionv1.FlowRun) bool {
			visited++
			return true
		}))
		logs, err := tx.Logs("r1", 0, 0, 0)
		must(t, err)
		states, err := tx.States("r1")
		must(t, err)
		if len(runs) != 1 || visited != 1 || len(logs) != 2 || len(states) != 1 {
			t.Errorf("listed %d runs, visited %d by state, %d logs, %d states; want 1, 1, 2, 1", len(runs), visited, len(logs), len(states))
		}
		return nil
	}))
}

// TestUpdate_Concurrent runs read-modify-write transactions from many
// goroutines while a watcher follows the modify index.
func TestUpdate_Concurrent(t *testing.T) {
	s := newTest(t)
	const workers, perWorker = 16, 25
	ctx := context.Background()
	must(t, s.Update(ctx, func(tx store.Tx) error { return tx.PutAgent(&orionv1.Agent{Id: "a"}) }))
	_, start := s.Changed()

	watched := make(chan uint64)
	go func() {
		ch, idx := s.Changed()
		for idx < start+workers*perWorker {
			<-ch
			ch, idx = s.Changed()
		}
		watched <- idx
	}()

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				err := s.Update(ctx, func(tx store.Tx) error {
					a, err := tx.Agent("a")
					if err != nil {
						return err
					}
					a.RunsInFlight++
					if err := tx.PutAgent(a); err != nil {
						return err
					}
					return tx.PutFlowRun(&orionv1.FlowRun{Id: fmt.Sprintf("r-%d-%d", w, i), CreateTime: timestamppb.Now()})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	select {
	case idx := <-watched:
		if idx != start+workers*perWorker {
			t.Errorf("watcher saw index %d, want %d", idx, start+workers*perWorker)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watcher did not see the last commit")
	}
	must(t, s.View(ctx, func(tx store.Tx) error {
		a, err := tx.Agent("a")
		must(t, err)
		runs, _, err := tx.ListFlowRuns(store.FlowRunFilter{})
		must(t, err)
		if a.GetRunsInFlight() != workers*perWorker || len(runs) != workers*perWorker {
			t.Errorf("counter %d, %d runs, want %d of each", a.GetRunsInFlight(), len(runs), workers*perWorker)
		}
		return nil
	}))
}

func TestClose_WakesWatchers(t *testing.T) {
	s := newTest(t)
	ch, _ := s.Changed()
	must(t, s.Close())
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake watchers")
	}
	must(t, s.Close()) // idempotent
	if ch, _ := s.Changed(); ch == nil {
		t.Fatal("Changed after Close returned a nil channel")
	}
}

func TestPut_RejectsNULInKeys(t *testing.T) {
	s := newTest(t)
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for name, err := range map[string]error{
			"flow name":       tx.PutFlow(&orionv1.Flow{Id: "f", Name: "a\x00b"}),
			"deployment flow": tx.PutDeployment(&orionv1.Deployment{Id: "d", Name: "n", FlowName: "a\x00b"}),
			"run id":          tx.PutFlowRun(&orionv1.FlowRun{Id: "r\x00"}),
			"state run id":    tx.AppendState("r\x00", &orionv1.State{}),
		} {
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s with NUL: %v, want ErrInvalid", name, err)
			}
		}
		return nil
	})
	must(t, err)
}

// TestPut_FailedPutLeavesNoTrace commits a transaction whose fn ignored a
// failed put: neither the record nor any index entry may have changed (the
// cleanup check compares every index with the records).
func TestPut_FailedPutLeavesNoTrace(t *testing.T) {
	s := newTest(t)
	good := &orionv1.FlowRun{Id: "r1", FlowId: "f", IdempotencyKey: "k", DeploymentId: "d", State: &orionv1.State{Type: orionv1.StateType_STATE_TYPE_SCHEDULED}}
	must(t, s.Update(context.Background(), func(tx store.Tx) error { return tx.PutFlowRun(good) }))
	must(t, s.Update(context.Background(), func(tx store.Tx) error {
		bad := proto.Clone(good).(*orionv1.FlowRun)
		bad.Name = "\xff" // proto3 strings must be UTF-8
		bad.IdempotencyKey = "k2"
		bad.State.Type = orionv1.StateType_STATE_TYPE_RUNNING
		if err := tx.PutFlowRun(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutFlowRun with invalid UTF-8: %v, want ErrInvalid", err)
		}
		if bad.GetModifyIndex() != good.GetModifyIndex() {
			t.Errorf("failed put stamped ModifyIndex %d", bad.GetModifyIndex())
		}
		_, err := tx.AppendLogs("r1", []*orionv1.Log{{Message: "ok"}, {Message: "\xff"}})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AppendLogs with invalid UTF-8: %v, want ErrInvalid", err)
		}
		return nil
	}))
	must(t, s.View(context.Background(), func(tx store.Tx) error {
		r, err := tx.FlowRunByIdempotencyKey("f", "k")
		must(t, err)
		if !proto.Equal(r, good) {
			t.Errorf("stored run changed by a failed put: %v", r)
		}
		last, err := tx.LastLogSeq("r1")
		must(t, err)
		logs, err := tx.Logs("r1", 0, 0, 0)
		must(t, err)
		if last != 0 || len(logs) != 0 {
			t.Errorf("failed AppendLogs left seq %d and %d lines", last, len(logs))
		}
		return nil
	}))
}

func TestTimeKey_Order(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, -1),
		time.Unix(0, 0),
		time.Unix(0, 1),
		time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		a, b := timeKey(times[i-1]), timeKey(times[i])
		if string(a[:]) > string(b[:]) {
			t.Errorf("timeKey(%v) > timeKey(%v)", times[i-1], times[i])
		}
	}
	if timeKey(times[0]) != timeKey(times[1]) {
		t.Error("zero time and 1500 should both clamp to the smallest key")
	}
}

func TestFlowSource_Encoding(t *testing.T) {
	src := &store.FlowSource{Digest: "sha256:1", FileName: "f.py", Text: "x = 1\n"}
	got, err := decodeSource(encodeSource(src))
	must(t, err)
	if *got != *src {
		t.Fatalf("round trip: %+v, want %+v", got, src)
	}
	if _, err := decodeSource([]byte{0x0a, 0x05, 'a'}); err == nil {
		t.Fatal("truncated record decoded")
	}
}

func TestPutFlowRun_Deterministic(t *testing.T) {
	s := newTest(t)
	r := &orionv1.FlowRun{Id: "r1", Tags: []string{"b", "a"}, Infrastructure: &orionv1.Infrastructure{Env: map[string]string{"Z": "1", "A": "2", "M": "3"}}}
	for range 3 {
		must(t, s.Update(context.Background(), func(tx store.Tx) error {
			r.ModifyIndex = 0
			return tx.PutFlowRun(r)
		}))
		must(t, s.db.View(func(btx *bolt.Tx) error {
			v := btx.Bucket(bucketRuns).Get([]byte("r1"))
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
			must(t, err)
			if string(v) != string(want) {
				t.Error("stored bytes differ from the deterministic encoding")
			}
			return nil
		}))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestOpen_UpgradesVersion1 opens a file in the first layout (no tokens,
// no idx_scheduled_by_deployment, no run_counts): it is upgraded in place through
// every migration, keeps its data, has the new index built from its runs,
// and verifies clean.
func TestOpen_UpgradesVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orion.db")
	s := openTest(t, path, Options{})
	fillSample(t, s)
	_, index := s.Changed()
	// Make the file what a version-1 server wrote.
	must(t, s.db.Update(func(btx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTokens, bucketScheduledByDep, bucketRunCounts} {
			if err := btx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return putUint64(btx.Bucket(bucketMeta), keySchemaVersion, 1)
	}))
	must(t, s.Close())

	s = openTest(t, path, Options{})
	if v, err := s.schemaVersion(); err != nil || v != SchemaVersion {
		t.Fatalf("schema version after upgrade %d (%v), want %d", v, err, SchemaVersion)
	}
	checkSample(t, s, index)
	must(t, s.View(context.Background(), func(tx store.Tx) error {
		runs, total, err := tx.ScheduledRuns("d1", time.Unix(0, 0), 10)
		if err != nil {
			return err
		}
		if total != 1 || len(runs) != 1 || runs[0].GetId() != "r1" {
			t.Fatalf("ScheduledRuns after upgrade: %d %v", total, runs)
		}
		return nil
	}))
	must(t, s.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutToken(&store.Token{Meta: &orionv1.ApiToken{Id: "t1", Name: "n"}, SecretHash: make([]byte, 32)})
	}))
	must(t, s.Close())
	if _, err := Verify(path); err != nil {
		t.Fatalf("upgraded file: %v", err)
	}
}
