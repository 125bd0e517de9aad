package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// checkIndexes verifies that every index bucket holds exactly the entries
// its records imply, that no log is numbered past its run's counter, and
// that log source marks belong to runs with logs.
// bbolt's Check only sees pages; this sees the layout documented in
// store.go.
func checkIndexes(btx *bolt.Tx) error {
	want := map[string]map[string]string{}
	add := func(bucket []byte, key []byte, val string) {
		if key == nil {
			return
		}
		if want[string(bucket)] == nil {
			want[string(bucket)] = map[string]string{}
		}
		want[string(bucket)][string(key)] = val
	}
	for _, e := range (runKeys{}).entries("") {
		want[string(e.bucket)] = map[string]string{}
	}
	for _, b := range [][]byte{bucketFlowsByName, bucketDeploymentsByName, bucketWorkQueuesByName} {
		want[string(b)] = map[string]string{}
	}

	counts := map[string]uint64{}
	err := forEachRecord(btx, bucketRuns, func() *orionv1.FlowRun { return new(orionv1.FlowRun) }, func(r *orionv1.FlowRun) {
		for _, ck := range countKeys(r) {
			counts[string(ck)]++
		}
		for _, e := range keysOf(r).entries(r.GetId()) {
			add(e.bucket, e.key, string(e.val))
		}
	})
	if err != nil {
		return err
	}
	if err := forEachRecord(btx, bucketFlows, func() *orionv1.Flow { return new(orionv1.Flow) }, func(f *orionv1.Flow) {
		add(bucketFlowsByName, []byte(f.GetName()), f.GetId())
	}); err != nil {
		return err
	}
	if err := forEachRecord(btx, bucketDeployments, func() *orionv1.Deployment { return new(orionv1.Deployment) }, func(d *orionv1.Deployment) {
		add(bucketDeploymentsByName, deploymentNameKey(d.GetFlowName(), d.GetName()), d.GetId())
	}); err != nil {
		return err
	}
	if err := forEachRecord(btx, bucketWorkQueues, func() *orionv1.WorkQueue { return new(orionv1.WorkQueue) }, func(q *orionv1.WorkQueue) {
		add(bucketWorkQueuesByName, []byte(q.GetName()), q.GetId())
	}); err != nil {
		return err
	}

	for bucket, entries := range want {
		got := map[string]string{}
		_ = btx.Bucket([]byte(bucket)).ForEach(func(k, v []byte) error {
			got[string(k)] = string(v)
			return nil
		})
		for k, v := range entries {
			if g, ok := got[k]; !ok || g != v {
				return fmt.Errorf("%s: missing or wrong entry %x (got %q, want %q)", bucket, k, g, v)
			}
			delete(got, k)
		}
		for k := range got {
			return fmt.Errorf("%s: stale entry %x", bucket, k)
		}
	}

	got := map[string]uint64{}
	if err := btx.Bucket(bucketRunCounts).ForEach(func(k, v []byte) error {
		n, ok := getUint64(btx.Bucket(bucketRunCounts), k)
		if !ok {
			return fmt.Errorf("run_counts: malformed value for %q", k)
		}
		got[string(k)] = n
		return nil
	}); err != nil {
		return err
	}
	for k, n := range counts {
		if got[k] != n {
			return fmt.Errorf("run_counts %q: %d, want %d", k, got[k], n)
		}
		delete(got, k)
	}
	for k, n := range got {
		return fmt.Errorf("run_counts: stale counter %q = %d", k, n)
	}

	counters := btx.Bucket(bucketLogSeq)
	if err := btx.Bucket(bucketLogSources).ForEach(func(k, v []byte) error {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(v) != 8 {
			return fmt.Errorf("log_sources: malformed entry %x", k)
		}
		if last, _ := getUint64(counters, k[:i]); last == 0 {
			return fmt.Errorf("log_sources: run %q has a source mark but no log", k[:i])
		}
		return nil
	}); err != nil {
		return err
	}
	return btx.Bucket(bucketLogs).ForEach(func(k, _ []byte) error {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(k) != i+9 {
			return fmt.Errorf("logs: malformed key %x", k)
		}
		last, _ := getUint64(counters, k[:i])
		if seq := binary.BigEndian.Uint64(k[i+1:]); seq == 0 || seq > last {
			return fmt.Errorf("logs: run %q has log %d past its counter %d", k[:i], seq, last)
		}
		return nil
	})
}

// forEachRecord decodes every record of a bucket.
func forEachRecord[M proto.Message](btx *bolt.Tx, bucket []byte, newM func() M, fn func(M)) error {
	return btx.Bucket(bucket).ForEach(func(k, v []byte) error {
		m := newM()
		if err := proto.Unmarshal(v, m); err != nil {
			return fmt.Errorf("%s %q: %w", bucket, k, err)
		}
		fn(m)
		return nil
	})
}
