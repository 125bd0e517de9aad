package bolt

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// marshal encodes records deterministically, so equal records are equal
// bytes (stable backups, cheap comparisons).
var marshal = proto.MarshalOptions{Deterministic: true}

// tx implements store.Tx over one bbolt transaction. Like the bbolt
// transaction it wraps, it must not be used from several goroutines or
// after the Update or View callback returns.
type tx struct {
	btx   *bolt.Tx
	index uint64
	now   time.Time
	// changes are the run state changes written so far, reported to the
	// Observer once the transaction commits.
	changes []StateChange
	// logUndo turns on the undo log: the group commit runs several
	// requests in one bbolt transaction and must be able to take back the
	// writes of one that fails without touching the others.
	logUndo bool
	undo    []undoEntry
	// stored holds, in a write transaction, the index and counter keys of
	// each run as it is stored now (recorded when the run is read or
	// written), so PutFlowRun need not decode the stored run again to move
	// its index entries.
	stored map[string]storedRun
}

// storedRun is what PutFlowRun needs of a run's stored version.
type storedRun struct {
	exists    bool
	keys      runKeys
	counts    [][]byte
	stateType orionv1.StateType
	stateID   string
}

func storedOf(r *orionv1.FlowRun) storedRun { return storedWith(r, keysOf(r)) }

// storedWith is storedOf for a run whose index keys are known.
func storedWith(r *orionv1.FlowRun, keys runKeys) storedRun {
	return storedRun{exists: true, keys: keys, counts: countKeys(r), stateType: r.GetState().GetType(), stateID: r.GetState().GetId()}
}

// undoEntry is how to reverse one write: the key's value before it (nil
// when the key did not exist).
type undoEntry struct {
	bucket, key, old []byte
}

var _ store.Tx = (*tx)(nil)

// newTx wraps a read transaction: it sees the last committed modify index.
// (Write transactions are built by the writer, Store.commit.)
func (s *Store) newTx(btx *bolt.Tx) *tx {
	index, _ := getUint64(btx.Bucket(bucketMeta), keyModifyIndex)
	return &tx{btx: btx, index: index, now: s.clock()}
}

// Index implements store.Tx.
func (t *tx) Index() uint64 { return t.index }

// Now implements store.Tx.
func (t *tx) Now() time.Time { return t.now }

// errReadOnly is returned by write methods called in View.
var errReadOnly = fmt.Errorf("write in a read-only transaction: %w", berrors.ErrTxNotWritable)

// checkWritable fails fast in a read transaction, before any work.
func (t *tx) checkWritable(op string) error {
	if !t.btx.Writable() {
		return fmt.Errorf("%s: %w", op, errReadOnly)
	}
	return nil
}

func (t *tx) bucket(name []byte) *bolt.Bucket { return t.btx.Bucket(name) }

// put writes key → val in bucket. Every write of a request goes through put
// and del, so the undo log sees all of them.
func (t *tx) put(bucket, key, val []byte) error {
	b := t.writeBucket(bucket)
	t.remember(b, bucket, key)
	return b.Put(key, val)
}

// writeBucket returns bucket for a write.
func (t *tx) writeBucket(bucket []byte) *bolt.Bucket {
	b := t.bucket(bucket)
	if appendMostly[string(bucket)] {
		// New keys of these buckets sort last (time-ordered ids, sequence
		// numbers, creation times): full pages instead of bbolt's half-full
		// splits mean fewer pages to write and to search.
		b.FillPercent = 0.9
	}
	return b
}

// appendMostly are the buckets whose new keys sort after the existing ones.
var appendMostly = map[string]bool{
	string(bucketRuns): true, string(bucketStates): true, string(bucketLogs): true,
	string(bucketRunsByCreated): true, string(bucketTransitions): true,
}

// del deletes key from bucket.
func (t *tx) del(bucket, key []byte) error {
	b := t.bucket(bucket)
	t.remember(b, bucket, key)
	return b.Delete(key)
}

// putFresh is put for a key that cannot exist yet (it embeds a new sequence
// number, or a run id with the run's new index position): the undo log
// records its absence without reading it first.
func (t *tx) putFresh(bucket, key, val []byte) error {
	t.logOld(bucket, key, nil)
	return t.writeBucket(bucket).Put(key, val)
}

// delKnown is del for a key whose stored value the caller knows (a run's
// own index entry): the undo log records it without reading it first.
func (t *tx) delKnown(bucket, key, old []byte) error {
	t.logOld(bucket, key, old)
	return t.bucket(bucket).Delete(key)
}

func (t *tx) remember(b *bolt.Bucket, bucket, key []byte) {
	if t.logUndo {
		t.logOld(bucket, key, b.Get(key))
	}
}

// logOld records in the undo log that key held old (nil: it was absent).
// bbolt's slices are only valid inside the transaction and may change with
// later writes: it keeps copies.
func (t *tx) logOld(bucket, key, old []byte) {
	if t.logUndo {
		t.undo = append(t.undo, undoEntry{bucket: bucket, key: bytes.Clone(key), old: bytes.Clone(old)})
	}
}

// rollback reverses every logged write, newest first, and forgets the
// request's state changes. Bucket sequences (state record numbers) are not
// reversed: a gap in them is harmless.
func (t *tx) rollback() error {
	for i := len(t.undo) - 1; i >= 0; i-- {
		e := t.undo[i]
		b := t.bucket(e.bucket)
		var err error
		if e.old == nil {
			err = b.Delete(e.key)
		} else {
			err = b.Put(e.key, e.old)
		}
		if err != nil {
			return fmt.Errorf("roll back a failed request: %w", err)
		}
	}
	t.undo, t.changes, t.stored = nil, nil, nil
	return nil
}

// get decodes the record at key into m; it reports false when there is none.
// proto.Unmarshal copies, so m never aliases bbolt memory.
func (t *tx) get(bucket []byte, key string, m proto.Message) (bool, error) {
	v := t.bucket(bucket).Get([]byte(key))
	if v == nil {
		return false, nil
	}
	if err := proto.Unmarshal(v, m); err != nil {
		return false, fmt.Errorf("decode %s %q: %w", bucket, key, err)
	}
	return true, nil
}

// encode marshals a record before anything is written, so that a record
// proto refuses (invalid UTF-8, say) leaves no partial write behind.
func encode(kind, key string, m proto.Message) ([]byte, error) {
	v, err := marshal.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s %q: %w: %w", kind, key, store.ErrInvalid, err)
	}
	return v, nil
}

// lookup resolves a name index entry to a record id ("" when absent).
func (t *tx) lookup(index []byte, key []byte) string {
	return string(t.bucket(index).Get(key))
}

// claimName checks that the unique index key is free or already held by id.
func (t *tx) claimName(index []byte, key []byte, id, kind, name string) error {
	if holder := t.lookup(index, key); holder != "" && holder != id {
		return fmt.Errorf("%s %q is held by %s: %w", kind, name, holder, store.ErrAlreadyExists)
	}
	return nil
}

// notFound builds the canonical not-found error for a record kind.
func notFound(kind, id string) error {
	return fmt.Errorf("%s %q: %w", kind, id, store.ErrNotFound)
}

// hasAll reports whether every tag in want is present in have.
func hasAll(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
	if len(want) == 1 {
		for _, h := range have {
			if h == want[0] {
				return true
			}
		}
		return false
	}
	set := make(map[string]struct{}, len(have))
	for _, h := range have {
		set[h] = struct{}{}
	}
	for _, w := range want {
		if _, ok := set[w]; !ok {
			return false
		}
	}
	return true
}
