// Package bolt implements store.Store on a single bbolt file.
//
// Bucket layout (all integers are big-endian; "time" is an 8-byte unix-nano
// value with its sign bit flipped, so that byte order is time order even
// before 1970; see timeKey):
//
//	meta
//	  schema_version                     → uint64 (SchemaVersion)
//	  modify_index                       → uint64, +1 per committed Update
//
//	flows                     <flow_id>  → orion.v1.Flow
//	idx_flows_by_name         <name>     → flow_id
//	flow_sources              <digest>   → flowSource wire record (digest=1, file_name=2, text=3)
//
//	deployments               <deployment_id>        → orion.v1.Deployment
//	idx_deployments_by_name   <flow_name> 0x00 <name> → deployment_id
//
//	flow_runs                 <run_id>   → orion.v1.FlowRun
//	idx_runs_by_state         <state_type:1> <time(StateTimeKey)> <run_id>            → empty
//	idx_runs_by_created       <time(create_time)> <run_id>                             → empty
//	idx_runs_by_deployment    <deployment_id> 0x00 <time(create_time)> <run_id>        → empty
//	idx_runs_by_idempotency   <flow_id> 0x00 <idempotency_key>                          → run_id
//	idx_scheduled_by_deployment <deployment_id> 0x00 <time(next_scheduled_start_time)> <run_id> → empty
//	                          (SCHEDULED runs of a deployment only; since schema version 2)
//
//	states                    <run_id> 0x00 <seq:8>  → orion.v1.State (seq: the bucket's NextSequence)
//	logs                      <run_id> 0x00 <seq:8>  → orion.v1.Log   (seq: per run, from log_seq)
//	log_seq                   <run_id>               → uint64, last log seq of the run
//	log_sources               <run_id> 0x00 <source> → uint64, highest position stored of the source
//	transitions               <run_id> 0x00 <transition_id> → orion.v1.OrchestrationResult
//
//	work_queues               <queue_id> → orion.v1.WorkQueue
//	idx_work_queues_by_name   <name>     → queue_id
//	agents                    <agent_id> → orion.v1.Agent
//	tokens                    <token_id> → sha256(secret) (32 bytes) ‖ orion.v1.ApiToken
//
// Records are deterministic proto encodings. Every index entry is written in
// the same transaction as its record, and computed from the previously stored
// record when it is replaced. Ids and names that appear inside composite keys
// must not contain 0x00 (ErrInvalid otherwise).
package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// ErrLocked means another process holds the store file's lock.
var ErrLocked = errors.New("store is in use by another process")

// lockedError carries the path of a locked store file and unwraps to
// ErrLocked.
type lockedError struct{ path string }

func (e *lockedError) Error() string {
	return fmt.Sprintf("store %s is in use by another process (is another orion server running on it?)", e.path)
}

func (e *lockedError) Unwrap() error { return ErrLocked }

// Options configure Open. The zero value is usable.
type Options struct {
	// Timeout is how long Open waits for the file lock (default 1s).
	Timeout time.Duration
	// Clock is the source of Tx.Now (default time.Now).
	Clock func() time.Time
	// Logger receives lifecycle messages (default: a null logger).
	Logger hclog.Logger
	// NoSync skips fsync after each commit. Only for tests and benchmarks:
	// a crash may lose or corrupt committed data.
	NoSync bool
	// Observer, when set, is told about every committed write transaction
	// (for metrics). It must not block.
	Observer Observer
}

// StateChange is a flow run entering a state (From is unspecified for a
// new run).
type StateChange struct {
	From, To orionv1.StateType
}

// Observer receives what committed write transactions did.
type Observer interface {
	// Committed is called after each committed write transaction with the
	// time it took (waiting for the writer lock included) and the run state
	// changes it wrote.
	Committed(d time.Duration, changes []StateChange)
}

// Store is a store.Store backed by bbolt. It is safe for concurrent use.
type Store struct {
	db       *bolt.DB
	path     string
	clock    func() time.Time
	logger   hclog.Logger
	observer Observer
	closed   atomic.Bool

	// writes queues Updates for the writer goroutine; wmu lets Close stop
	// new ones before closing the queue.
	writes     chan *writeReq
	wmu        sync.RWMutex
	writerDone chan struct{}

	// mu guards the change notifier.
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced after each commit
	index    uint64        // last committed modify index
	shutdown bool          // changed is closed for good
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store file at path, and its parent
// directory with mode 0700. It fails with an error wrapping ErrLocked when
// another process holds the file for longer than opts.Timeout.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &lockedError{path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		path:     path,
		clock:    opts.Clock,
		logger:   opts.Logger,
		observer: opts.Observer,
		changed:  make(chan struct{}),
	}
	index, err := s.upgrade()
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.index = index
	s.writes = make(chan *writeReq, maxGroup)
	s.writerDone = make(chan struct{})
	go s.writer()
	s.logger.Debug("store opened", "path", path, "schema_version", SchemaVersion, "modify_index", index)
	return s, nil
}

// Update implements store.Store. Every committed Update, even one that
// writes nothing, advances the modify index by one and wakes watchers.
//
// Updates are group-committed: one writer goroutine runs every request that
// queued while the previous commit was in flight, in arrival order, in one
// bbolt transaction with one fsync (no fixed delay, unlike bbolt's Batch).
// Each request still sees the writes of the ones before it and gets its own
// modify index; a request whose fn fails is rolled back alone (undo log),
// so the others commit as if it never ran.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{ctx: ctx, fn: fn, queued: time.Now(), done: make(chan struct{})}
	s.wmu.RLock()
	if s.closed.Load() {
		s.wmu.RUnlock()
		return store.ErrClosed
	}
	s.writes <- req
	s.wmu.RUnlock()
	<-req.done
	return req.err
}

// writeReq is one queued Update.
type writeReq struct {
	ctx    context.Context
	fn     func(store.Tx) error
	queued time.Time
	done   chan struct{}
	// Set by the writer before done is closed.
	err     error
	changes []StateChange
}

// maxGroup bounds the requests committed together, so one commit's latency
// stays bounded under a flood of writes (a group of 500 run steps takes
// about 40 ms to run and commit on the reference machine). Below a flood a
// group is whatever queued during the previous commit. At 256 (until
// 2026-12-07) groups were full at every commit under `orion bench`'s full
// load, and each commit's own work (spilling, page writes, two fdatasyncs)
// was a third of the writer's time; at 1,024 they settle near 500 and
// throughput rose about 15%.
const maxGroup = 1024

// writer commits queued updates until the queue is closed.
func (s *Store) writer() {
	defer close(s.writerDone)
	group := make([]*writeReq, 0, maxGroup)
	for req := range s.writes {
		group = append(group[:0], req)
	drain:
		for len(group) < maxGroup {
			select {
			case r, ok := <-s.writes:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		s.commit(group)
	}
}

// commit runs a group of requests in one bbolt transaction.
func (s *Store) commit(group []*writeReq) {
	var last uint64
	err := s.db.Update(func(btx *bolt.Tx) error {
		index, _ := getUint64(btx.Bucket(bucketMeta), keyModifyIndex)
		for _, req := range group {
			req.err, req.changes = nil, nil
			// The caller may have given up while waiting for the writer.
			if err := req.ctx.Err(); err != nil {
				req.err = err
				continue
			}
			t := &tx{btx: btx, index: index + 1, now: s.clock(), logUndo: len(group) > 1}
			if err := runFn(req.fn, t); err != nil {
				if len(group) == 1 {
					return err // the whole transaction is this request: bbolt rolls it back
				}
				if rerr := t.rollback(); rerr != nil {
					return rerr
				}
				req.err = err
				continue
			}
			index = t.index
			req.changes = t.changes
		}
		last = index
		return putUint64(btx.Bucket(bucketMeta), keyModifyIndex, index)
	})
	if err != nil {
		// Nothing of the group was committed.
		for _, req := range group {
			if req.err == nil {
				req.err = mapErr(err)
			}
		}
	} else {
		s.notify(last)
	}
	for _, req := range group {
		if s.observer != nil && req.err == nil {
			s.observer.Committed(time.Since(req.queued), req.changes)
		}
		close(req.done)
	}
}

// runFn calls fn, turning a panic into an error so that one bad request
// cannot take the writer (and every other request) down with it.
func runFn(fn func(store.Tx) error, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store update panicked: %v", p)
		}
	}()
	return fn(t)
}

// Size returns the store file's size in bytes.
func (s *Store) Size() int64 {
	var size int64
	s.db.View(func(btx *bolt.Tx) error { //nolint:errcheck // Size never fails
		size = btx.Size()
		return nil
	})
	return size
}

// View implements store.Store.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	return mapErr(s.db.View(func(btx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(s.newTx(btx))
	}))
}

// Changed implements store.Store. After Close it returns a closed channel,
// so that blocked watchers wake up and see ErrClosed on their next read.
func (s *Store) Changed() (<-chan struct{}, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed, s.index
}

// notify publishes a committed modify index (the one writer commits in
// order; the index never moves back).
func (s *Store) notify(index uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return
	}
	if index > s.index {
		s.index = index
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// Backup implements store.Store: it writes a consistent snapshot of the
// whole file from a read transaction, so writers are not blocked.
func (s *Store) Backup(w io.Writer) (int64, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	var n int64
	err := s.db.View(func(btx *bolt.Tx) error {
		var err error
		n, err = btx.WriteTo(w)
		return err
	})
	return n, mapErr(err)
}

// Close implements store.Store. It waits for running transactions, and wakes
// every watcher. Closing twice is a no-op.
func (s *Store) Close() error {
	s.wmu.Lock()
	if !s.closed.CompareAndSwap(false, true) {
		s.wmu.Unlock()
		return nil
	}
	// No Update can enqueue any more; the writer finishes what is queued.
	close(s.writes)
	s.wmu.Unlock()
	<-s.writerDone
	err := s.db.Close()
	s.mu.Lock()
	s.shutdown = true
	close(s.changed)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	s.logger.Debug("store closed", "path", s.path)
	return nil
}

// mapErr turns bbolt's closed-database error into store.ErrClosed.
func mapErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}
