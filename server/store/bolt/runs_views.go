package bolt

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// ScheduledRuns implements store.Tx: a seek into the deployment's range of
// idx_scheduled_by_deployment, then a key-only walk for the count, decoding
// at most limit runs.
func (t *tx) ScheduledRuns(deploymentID string, after time.Time, limit int) ([]*orionv1.FlowRun, int, error) {
	if err := validKey("scheduled runs", "deployment id", deploymentID); err != nil {
		return nil, 0, err
	}
	pfx := prefix(deploymentID)
	// The first key strictly after `after`: the smallest time key above it.
	tk := timeKey(after)
	seek := join(pfx, tk[:], []byte{0xff})
	runs := t.bucket(bucketRuns)
	var (
		out   []*orionv1.FlowRun
		total int
	)
	c := t.bucket(bucketScheduledByDep).Cursor()
	for k, _ := c.Seek(seek); k != nil && bytes.HasPrefix(k, pfx); k, _ = c.Next() {
		total++
		if len(out) >= limit {
			continue
		}
		id := k[len(pfx)+8:]
		r, err := decodeRun(runs, id)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, nil
}

// RunsCreatedBetween implements store.Tx: a forward range scan of
// idx_runs_by_created, or of the deployment's range of
// idx_runs_by_deployment.
func (t *tx) RunsCreatedBetween(deploymentID string, start, end time.Time, fn func(*orionv1.FlowRun) bool) error {
	if err := validKeyPart("runs created between", "deployment id", deploymentID); err != nil {
		return err
	}
	bucket, pfx := bucketRunsByCreated, []byte(nil)
	if deploymentID != "" {
		bucket, pfx = bucketRunsByDeployment, prefix(deploymentID)
	}
	from, to := timeKey(start), timeKey(end)
	upper := join(pfx, to[:]) // exclusive
	runs := t.bucket(bucketRuns)
	c := t.bucket(bucket).Cursor()
	for k, _ := c.Seek(join(pfx, from[:])); k != nil && bytes.HasPrefix(k, pfx) && bytes.Compare(k, upper) < 0; k, _ = c.Next() {
		r, err := decodeRun(runs, k[len(pfx)+8:])
		if err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
	return nil
}

// decodeRun reads the run id from the flow_runs bucket; a missing run is an
// index inconsistency.
func decodeRun(runs *bolt.Bucket, id []byte) (*orionv1.FlowRun, error) {
	v := runs.Get(id)
	if v == nil {
		return nil, fmt.Errorf("index entry for flow run %q: run missing", id)
	}
	r := new(orionv1.FlowRun)
	if err := proto.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("decode flow run %q: %w", id, err)
	}
	return r, nil
}

// buildScheduledByDeployment fills idx_scheduled_by_deployment from every
// stored run (the upgrade to schema version 2; it runs once, at open).
func buildScheduledByDeployment(btx *bolt.Tx) error {
	idx := btx.Bucket(bucketScheduledByDep)
	return btx.Bucket(bucketRuns).ForEach(func(id, v []byte) error {
		r := new(orionv1.FlowRun)
		if err := proto.Unmarshal(v, r); err != nil {
			return fmt.Errorf("decode flow run %q: %w", id, err)
		}
		if k := keysOf(r).scheduled; k != nil {
			return idx.Put(k, []byte{})
		}
		return nil
	})
}
