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

// ListFlowRuns implements store.Tx. It walks, newest first, the index that
// narrows the filter most — that deployment's range of
// idx_runs_by_deployment, else that flow's of idx_runs_by_flow, else that
// queue's of idx_runs_by_queue, else the ranges of the wanted state types
// in idx_runs_by_state_created (merged), else idx_runs_by_created — and
// decodes each candidate that may match (mayMatch reads its state and tags
// without decoding) once to apply the other predicates. Every one of
// these keys ends with the run's created key, so the cursor (the hex of the
// last returned run's created key) is valid for all of them; next is set
// only when Limit was reached and the index has more candidates (the next
// page may still be empty).
func (t *tx) ListFlowRuns(f store.FlowRunFilter) ([]*orionv1.FlowRun, string, error) {
	var after []byte
	if f.After != "" {
		var err error
		after, err = hex.DecodeString(f.After)
		if err != nil || len(after) <= 8 {
			return nil, "", fmt.Errorf("flow run cursor %q: %w", f.After, store.ErrInvalid)
		}
	}
	var sources []*listSource
	switch {
	case f.DeploymentID != "":
		sources = []*listSource{t.newSource(bucketRunsByDeployment, prefix(f.DeploymentID), after)}
	case f.FlowName != "":
		sources = []*listSource{t.newSource(bucketRunsByFlow, prefix(f.FlowName), after)}
	case f.WorkQueueName != "":
		sources = []*listSource{t.newSource(bucketRunsByQueue, prefix(f.WorkQueueName), after)}
	case len(f.StateTypes) > 0:
		seen := map[orionv1.StateType]bool{}
		for _, st := range f.StateTypes {
			if st < 0 || st > 254 || seen[st] {
				continue
			}
			seen[st] = true
			sources = append(sources, t.newSource(bucketRunsByStateNew, []byte{byte(st)}, after))
		}
	default:
		sources = []*listSource{t.newSource(bucketRunsByCreated, nil, after)}
	}

	runs := t.bucket(bucketRuns)
	var (
		out  []*orionv1.FlowRun
		last []byte
	)
	for {
		src := newest(sources)
		if src == nil {
			return out, "", nil
		}
		if f.Limit > 0 && len(out) == f.Limit {
			return out, hex.EncodeToString(last), nil
		}
		created := src.created()
		id := created[8:]
		v := runs.Get(id)
		if v == nil {
			return nil, "", fmt.Errorf("%s entry %x: flow run %q missing", src.bucket, src.key, id)
		}
		if !mayMatch(v, &f) {
			src.prev()
			continue
		}
		r := new(orionv1.FlowRun)
		if err := proto.Unmarshal(v, r); err != nil {
			return nil, "", fmt.Errorf("decode flow run %q: %w", id, err)
		}
		if matchRun(r, &f) {
			out = append(out, r)
			last = bytes.Clone(created)
		}
		src.prev()
	}
}

// listSource walks one index range backwards (newest first).
type listSource struct {
	bucket []byte
	pfx    []byte
	c      *bolt.Cursor
	key    []byte // current key, nil when exhausted
}

// newSource positions a walk of bucket's pfx range just below pfx+after
// (the whole range when after is nil).
func (t *tx) newSource(bucket, pfx, after []byte) *listSource {
	var upper []byte // exclusive upper bound of the walk
	switch {
	case after != nil:
		upper = join(pfx, after)
	case pfx != nil:
		upper = prefixEnd(pfx)
	}
	s := &listSource{bucket: bucket, pfx: pfx, c: t.bucket(bucket).Cursor()}
	s.key = seekBefore(s.c, upper)
	s.check()
	return s
}

func (s *listSource) check() {
	if s.key != nil && (!bytes.HasPrefix(s.key, s.pfx) || len(s.key) < len(s.pfx)+9) {
		s.key = nil
	}
}

func (s *listSource) prev() {
	s.key, _ = s.c.Prev()
	s.check()
}

// created is the created key (time, id) at the end of the current key.
func (s *listSource) created() []byte { return s.key[len(s.pfx):] }

// newest returns the source whose current run is the newest (nil when all
// are exhausted): a merge of the ranges in created order.
func newest(sources []*listSource) *listSource {
	var best *listSource
	for _, s := range sources {
		if s.key != nil && (best == nil || bytes.Compare(s.created(), best.created()) > 0) {
			best = s
		}
	}
	return best
}

// prefixEnd is the smallest key after every key with prefix p (p's last
// byte is a separator or a state type, never 0xff).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	end[len(end)-1]++
	return end
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
