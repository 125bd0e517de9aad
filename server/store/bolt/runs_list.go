package bolt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// ListFlowRuns implements store.Tx. It walks idx_runs_by_created (or, with
// DeploymentID, that deployment's range of idx_runs_by_deployment) backwards
// and decodes each candidate once to apply the other predicates. The cursor
// is the hex of the last returned run's created key, so it is valid for
// both indexes; next is set only when Limit was reached and the index has
// more candidates (the next page may still be empty).
func (t *tx) ListFlowRuns(f store.FlowRunFilter) ([]*orionv1.FlowRun, string, error) {
	var after []byte
	if f.After != "" {
		var err error
		after, err = hex.DecodeString(f.After)
		if err != nil || len(after) <= 8 {
			return nil, "", fmt.Errorf("flow run cursor %q: %w", f.After, store.ErrInvalid)
		}
	}
	bucket, pfx := bucketRunsByCreated, []byte(nil)
	if f.DeploymentID != "" {
		bucket, pfx = bucketRunsByDeployment, prefix(f.DeploymentID)
	}
	var upper []byte // exclusive upper bound of the walk
	switch {
	case after != nil:
		upper = join(pfx, after)
	case pfx != nil:
		upper = join(pfx[:len(pfx)-1], []byte{1}) // <deployment_id> 0x01
	}

	runs := t.bucket(bucketRuns)
	c := t.bucket(bucket).Cursor()
	var (
		out  []*orionv1.FlowRun
		last []byte
	)
	for k := seekBefore(c, upper); k != nil && bytes.HasPrefix(k, pfx); k, _ = c.Prev() {
		if f.Limit > 0 && len(out) == f.Limit {
			return out, hex.EncodeToString(last), nil
		}
		created := k[len(pfx):]
		id := created[8:]
		v := runs.Get(id)
		if v == nil {
			return nil, "", fmt.Errorf("%s entry %x: flow run %q missing", bucket, k, id)
		}
		r := new(orionv1.FlowRun)
		if err := proto.Unmarshal(v, r); err != nil {
			return nil, "", fmt.Errorf("decode flow run %q: %w", id, err)
		}
		if !matchRun(r, &f) {
			continue
		}
		out = append(out, r)
		last = created
	}
	return out, "", nil
}

// seekBefore positions c on the last key strictly below upper (the last
// key of the bucket when upper is nil) and returns it.
func seekBefore(c *bolt.Cursor, upper []byte) []byte {
	if upper == nil {
		k, _ := c.Last()
		return k
	}
	if k, _ := c.Seek(upper); k == nil {
		k, _ = c.Last()
		return k
	}
	k, _ := c.Prev()
	return k
}

// matchRun applies every FlowRunFilter predicate except the cursor.
func matchRun(r *orionv1.FlowRun, f *store.FlowRunFilter) bool {
	switch {
	case f.FlowName != "" && r.GetFlowName() != f.FlowName,
		f.DeploymentID != "" && r.GetDeploymentId() != f.DeploymentID,
		f.WorkQueueName != "" && r.GetWorkQueueName() != f.WorkQueueName,
		len(f.StateTypes) > 0 && !slices.Contains(f.StateTypes, r.GetState().GetType()),
		!hasAll(r.GetTags(), f.Tags):
		return false
	}
	if !f.ScheduledBefore.IsZero() {
		ts := r.GetNextScheduledStartTime()
		if ts == nil || ts.AsTime().After(f.ScheduledBefore) {
			return false
		}
	}
	return true
}

// stateChunk is how many index keys RunsByState reads before it calls fn.
const stateChunk = 64

// RunsByState implements store.Tx.
//
// fn may write (a dispatcher claims runs this way, moving them to another
// state), so no cursor is open while fn runs: keys are read in chunks and
// each run is re-read and re-checked just before fn sees it. Each run is
// visited at most once per call; a run that fn moves ahead within the range
// is not visited again.
func (t *tx) RunsByState(st orionv1.StateType, before time.Time, fn func(*orionv1.FlowRun) bool) error {
	if st < 0 || st > 255 {
		return fmt.Errorf("runs by state: state type %d out of range: %w", st, store.ErrInvalid)
	}
	bound := timeKey(before)
	pfx := []byte{byte(st)}
	seek := pfx
	seen := make(map[string]struct{})
	for {
		keys := t.stateKeys(pfx, seek, bound[:])
		for _, k := range keys {
			id := string(k[9:])
			if _, dup := seen[id]; dup {
				continue
			}
			r, err := t.FlowRun(id)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted by fn
			}
			if err != nil {
				return err
			}
			if tk := timeKey(store.StateTimeKey(r)); r.GetState().GetType() != st || bytes.Compare(tk[:], bound[:]) > 0 {
				continue // moved out of range by fn
			}
			seen[id] = struct{}{}
			if !fn(r) {
				return nil
			}
		}
		if len(keys) < stateChunk {
			return nil
		}
		seek = join(keys[len(keys)-1], sep) // the smallest key after the last one
	}
}

// stateKeys copies up to stateChunk keys of idx_runs_by_state from seek on,
// while they have prefix pfx and a time key <= bound.
func (t *tx) stateKeys(pfx, seek, bound []byte) [][]byte {
	keys := make([][]byte, 0, stateChunk)
	c := t.bucket(bucketRunsByState).Cursor()
	for k, _ := c.Seek(seek); k != nil && len(keys) < stateChunk; k, _ = c.Next() {
		if !bytes.HasPrefix(k, pfx) || len(k) < 9 || bytes.Compare(k[1:9], bound) > 0 {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}
