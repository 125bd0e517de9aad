package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orion-run/orion/server/store"
)

// SchemaVersion is the layout version this package writes. Open refuses a
// file with a newer version and upgrades an older one.
//
//	1: the first layout
//	2: adds tokens (API tokens)
//	3: adds idx_scheduled_by_deployment (built from flow_runs on upgrade)
//	4: adds run_counts and the list indexes idx_runs_by_flow,
//	   idx_runs_by_queue and idx_runs_by_state_created; held runs without a
//	   lease sort last in idx_runs_by_state (all built from flow_runs on
//	   upgrade)
//	5: adds log_sources (the highest position stored per run and log
//	   source, which drops resent lines)
const SchemaVersion = 5

// Bucket names; the layout is documented at the top of store.go.
var (
	bucketMeta              = []byte("meta")
	bucketFlows             = []byte("flows")
	bucketFlowsByName       = []byte("idx_flows_by_name")
	bucketFlowSources       = []byte("flow_sources")
	bucketDeployments       = []byte("deployments")
	bucketDeploymentsByName = []byte("idx_deployments_by_name")
	bucketRuns              = []byte("flow_runs")
	bucketRunsByState       = []byte("idx_runs_by_state")
	bucketRunsByCreated     = []byte("idx_runs_by_created")
	bucketRunsByDeployment  = []byte("idx_runs_by_deployment")
	bucketRunsByIdempotency = []byte("idx_runs_by_idempotency")
	bucketScheduledByDep    = []byte("idx_scheduled_by_deployment")
	bucketStates            = []byte("states")
	bucketLogs              = []byte("logs")
	bucketLogSeq            = []byte("log_seq")
	bucketLogSources        = []byte("log_sources")
	bucketTransitions       = []byte("transitions")
	bucketWorkQueues        = []byte("work_queues")
	bucketWorkQueuesByName  = []byte("idx_work_queues_by_name")
	bucketAgents            = []byte("agents")
	bucketTokens            = []byte("tokens")
	bucketRunCounts         = []byte("run_counts")
	bucketRunsByFlow        = []byte("idx_runs_by_flow")
	bucketRunsByQueue       = []byte("idx_runs_by_queue")
	bucketRunsByStateNew    = []byte("idx_runs_by_state_created")

	allBuckets = [][]byte{
		bucketMeta, bucketFlows, bucketFlowsByName, bucketFlowSources,
		bucketDeployments, bucketDeploymentsByName,
		bucketRuns, bucketRunsByState, bucketRunsByCreated, bucketRunsByDeployment, bucketRunsByIdempotency,
		bucketScheduledByDep, bucketStates, bucketLogs, bucketLogSeq, bucketTransitions,
		bucketWorkQueues, bucketWorkQueuesByName, bucketAgents, bucketTokens, bucketRunCounts,
		bucketRunsByFlow, bucketRunsByQueue, bucketRunsByStateNew, bucketLogSources,
	}
)

// Keys of the meta bucket.
var (
	keySchemaVersion = []byte("schema_version")
	keyModifyIndex   = []byte("modify_index")
	// keyDeploymentsVersion counts deployment writes (PutDeployment,
	// DeleteDeployment): Tx.DeploymentsVersion.
	keyDeploymentsVersion = []byte("deployments_version")
)

// upgrade brings the file to SchemaVersion in one transaction and returns
// the last committed modify index. A new file gets every bucket and the
// current version; an older one runs the migrations from its version on,
// in order; a newer version is refused so an old server cannot misread data
// written by a newer one.
func (s *Store) upgrade() (uint64, error) {
	var index uint64
	err := s.db.Update(func(btx *bolt.Tx) error {
		meta, err := btx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		version, ok := getUint64(meta, keySchemaVersion)
		switch {
		case !ok:
			s.logger.Info("initializing store", "path", s.path, "schema_version", SchemaVersion)
			for _, name := range allBuckets {
				if _, err := btx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
		case version > SchemaVersion:
			return fmt.Errorf("schema version %d is newer than this server supports (%d); upgrade orion", version, SchemaVersion)
		case version < SchemaVersion:
			s.logger.Info("upgrading store", "path", s.path, "from_version", version, "to_version", SchemaVersion)
			for v := version; v < SchemaVersion; v++ {
				if err := migrations[v-1](btx); err != nil {
					return fmt.Errorf("upgrade from schema version %d: %w", v, err)
				}
			}
		}
		if version != SchemaVersion {
			if err := putUint64(meta, keySchemaVersion, SchemaVersion); err != nil {
				return err
			}
		}
		index, _ = getUint64(meta, keyModifyIndex)
		return nil
	})
	return index, err
}

// migrations[v-1] takes a file from schema version v to v+1 inside the
// upgrade transaction.
var migrations = []func(btx *bolt.Tx) error{
	// 1 → 2: API tokens.
	func(btx *bolt.Tx) error {
		_, err := btx.CreateBucketIfNotExists(bucketTokens)
		return err
	},
	// 2 → 3: scheduled runs by deployment, built from the runs.
	func(btx *bolt.Tx) error {
		if _, err := btx.CreateBucketIfNotExists(bucketScheduledByDep); err != nil {
			return err
		}
		return buildScheduledByDeployment(btx)
	},
	// 3 → 4: run counters, and the by-state index with the NoLease key
	// for held runs without a lease, both computed from the runs afresh.
	func(btx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRunCounts, bucketRunsByState, bucketRunsByFlow, bucketRunsByQueue, bucketRunsByStateNew} {
			if err := btx.DeleteBucket(b); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
				return err
			}
			if _, err := btx.CreateBucket(b); err != nil {
				return err
			}
		}
		return buildCounts(&tx{btx: btx})
	},
	// 4 → 5: log sources; older lines carry none.
	func(btx *bolt.Tx) error {
		_, err := btx.CreateBucketIfNotExists(bucketLogSources)
		return err
	},
}

// schemaVersion reads the stored schema version.
func (s *Store) schemaVersion() (uint64, error) {
	var v uint64
	err := s.db.View(func(btx *bolt.Tx) error {
		v, _ = getUint64(btx.Bucket(bucketMeta), keySchemaVersion)
		return nil
	})
	return v, err
}

func getUint64(b *bolt.Bucket, key []byte) (uint64, bool) {
	v := b.Get(key)
	if len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

func putUint64(b *bolt.Bucket, key []byte, v uint64) error {
	return b.Put(key, binary.BigEndian.AppendUint64(nil, v))
}

// timeKey encodes t as 8 bytes whose byte order is time order: unix nanos
// with the sign bit flipped. The zero time and times before 1678 map to the
// smallest key, times after 2262 to the largest.
func timeKey(t time.Time) [8]byte {
	var n int64
	switch {
	case t.IsZero() || t.Before(minKeyTime):
		n = math.MinInt64
	case t.After(maxKeyTime):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(n)^(1<<63))
	return k
}

// keyTime decodes a timeKey; the zero-time key decodes to the zero time.
func keyTime(k []byte) time.Time {
	n := int64(binary.BigEndian.Uint64(k) ^ (1 << 63))
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// asTime converts ts, mapping nil to the zero time (AsTime would give 1970).
func asTime(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// join concatenates key parts into a fresh slice.
func join(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

var sep = []byte{0}

// seqKey is <id> 0x00 <seq:8>.
func seqKey(id string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(join([]byte(id), sep), seq)
}

// prefix is <id> 0x00, the common prefix of an id's composite keys.
func prefix(id string) []byte { return join([]byte(id), sep) }

// maxKeyPart bounds each id or name inside a key, so that every composite
// key (at most two parts and 9 fixed bytes) stays under bolt.MaxKeySize and
// a put cannot fail halfway through its index writes.
const maxKeyPart = 16<<10 - 16

// validKey checks an id or name used as (part of) a key.
func validKey(kind, field, v string) error {
	if v == "" {
		return fmt.Errorf("%s: empty %s: %w", kind, field, store.ErrInvalid)
	}
	return validKeyPart(kind, field, v)
}

// validKeyPart checks a possibly empty key part.
func validKeyPart(kind, field, v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("%s %q: %s contains a NUL byte: %w", kind, v, field, store.ErrInvalid)
	}
	if len(v) > maxKeyPart {
		return fmt.Errorf("%s: %s longer than %d bytes: %w", kind, field, maxKeyPart, store.ErrInvalid)
	}
	return nil
}

// forEachPrefix visits the keys of b that start with p, in order. The
// slices are valid only inside the callback's transaction; fn must not
// modify b.
func forEachPrefix(b *bolt.Bucket, p []byte, fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix deletes every key of bucket that starts with p.
func (t *tx) deletePrefix(bucket, p []byte) error {
	var keys [][]byte
	_ = forEachPrefix(t.bucket(bucket), p, func(k, _ []byte) error {
		keys = append(keys, bytes.Clone(k))
		return nil
	})
	for _, k := range keys {
		if err := t.del(bucket, k); err != nil {
			return err
		}
	}
	return nil
}
