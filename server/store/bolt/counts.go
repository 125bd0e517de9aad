package bolt

import (
	"encoding/binary"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// run_counts holds counters kept in step with the runs, so that the hot
// paths (every dispatch pass, every claim, every metrics scrape) read a
// number instead of scanning runs:
//
//	's' <state_type:1>  runs in that state type
//	'q' <queue name>    held runs (store.IsHeld) of a work queue
//	'd' <deployment id> held runs of a deployment
//	'a' <agent id>      held runs of an agent
//
// A counter at zero has no key.

// countKeys are the counters run r contributes one to (none for nil).
func countKeys(r *orionv1.FlowRun) [][]byte {
	if r == nil {
		return nil
	}
	st := r.GetState().GetType()
	keys := [][]byte{{'s', byte(st)}}
	if store.IsHeld(st) {
		keys = append(keys, join([]byte{'q'}, []byte(r.GetWorkQueueName())))
		if id := r.GetDeploymentId(); id != "" {
			keys = append(keys, join([]byte{'d'}, []byte(id)))
		}
		if id := r.GetAgentId(); id != "" {
			keys = append(keys, join([]byte{'a'}, []byte(id)))
		}
	}
	return keys
}

// recount moves a run's contributions from old to cur (either may be nil).
func (t *tx) recount(old, cur *orionv1.FlowRun) error {
	return t.recountKeys(countKeys(old), countKeys(cur))
}

// recountKeys moves contributions from the counters was to now.
func (t *tx) recountKeys(was, now [][]byte) error {
	for _, k := range was {
		if !containsKey(now, k) {
			if err := t.addCount(k, -1); err != nil {
				return err
			}
		}
	}
	for _, k := range now {
		if !containsKey(was, k) {
			if err := t.addCount(k, +1); err != nil {
				return err
			}
		}
	}
	return nil
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if string(x) == string(k) {
			return true
		}
	}
	return false
}

func (t *tx) addCount(key []byte, delta int64) error {
	n := int64(t.count(key)) + delta
	switch {
	case n < 0:
		return fmt.Errorf("run counter %q would go below zero", key)
	case n == 0:
		return t.del(bucketRunCounts, key)
	}
	return t.put(bucketRunCounts, key, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

func (t *tx) count(key []byte) uint64 {
	n, _ := getUint64(t.bucket(bucketRunCounts), key)
	return n
}

// RunCount implements store.Tx.
func (t *tx) RunCount(st orionv1.StateType) (int, error) {
	if st < 0 || st > 255 {
		return 0, fmt.Errorf("run count: state type %d out of range: %w", st, store.ErrInvalid)
	}
	return int(t.count([]byte{'s', byte(st)})), nil
}

// HeldCount implements store.Tx.
func (t *tx) HeldCount(by store.HeldBy, key string) (int, error) {
	var tag byte
	switch by {
	case store.HeldByQueue:
		tag = 'q'
	case store.HeldByDeployment:
		tag = 'd'
	case store.HeldByAgent:
		tag = 'a'
	default:
		return 0, fmt.Errorf("held count by %d: %w", by, store.ErrInvalid)
	}
	return int(t.count(join([]byte{tag}, []byte(key)))), nil
}

// RunIDsByState implements store.Tx: the by-state index alone, no run
// decoded.
func (t *tx) RunIDsByState(st orionv1.StateType, before time.Time, fn func(id string, at time.Time) bool) error {
	if st < 0 || st > 255 {
		return fmt.Errorf("run ids by state: state type %d out of range: %w", st, store.ErrInvalid)
	}
	bound := timeKey(before)
	pfx := []byte{byte(st)}
	c := t.bucket(bucketRunsByState).Cursor()
	for k, _ := c.Seek(pfx); len(k) > 9 && k[0] == byte(st); k, _ = c.Next() {
		if string(k[1:9]) > string(bound[:]) {
			return nil
		}
		if !fn(string(k[9:]), keyTime(k[1:9])) {
			return nil
		}
	}
	return nil
}

// buildCounts computes run_counts, idx_runs_by_state and the list
// indexes from the runs (schema upgrade; those buckets start empty).
func buildCounts(t *tx) error {
	return t.bucket(bucketRuns).ForEach(func(id, v []byte) error {
		r := new(orionv1.FlowRun)
		if err := proto.Unmarshal(v, r); err != nil {
			return fmt.Errorf("decode flow run %q: %w", id, err)
		}
		k := keysOf(r)
		for _, e := range []struct{ bucket, key []byte }{
			{bucketRunsByState, k.state}, {bucketRunsByFlow, k.flow}, {bucketRunsByQueue, k.queue}, {bucketRunsByStateNew, k.stateNew},
		} {
			if e.key != nil {
				if err := t.bucket(e.bucket).Put(e.key, []byte{}); err != nil {
					return err
				}
			}
		}
		return t.recount(nil, r)
	})
}
