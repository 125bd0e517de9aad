// Package localstate is the agent's own small database: the runs it holds
// and how to find their infrastructure again, so that an agent restarted
// after a crash can deal with what its previous process left running (as
// Nomad's client/state does for allocations). It also keeps the agent's
// registration id so a restarted agent resumes it.
//
// The file is a bbolt database at <home>/agent/<agent-name>/state.db:
//
//	meta/
//	  schema_version -> "1"
//	  agent_id       -> the server-assigned agent id
//	runs/
//	  <flow_run_id>  -> JSON Run record
//
// bbolt allows one process per file, so two agents with the same name on one
// machine cannot share (and corrupt) it: the second one gets ErrLocked.
package localstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version written to meta/schema_version.
const SchemaVersion = "1"

var (
	bucketMeta = []byte("meta")
	bucketRuns = []byte("runs")

	keySchema  = []byte("schema_version")
	keyAgentID = []byte("agent_id")
)

// ErrLocked means another process has the state file open (most likely an
// agent with the same name on this machine).
var ErrLocked = errors.New("state file is in use by another process")

// DefaultOpenTimeout is how long Open waits for the file lock.
const DefaultOpenTimeout = time.Second

// Run is one flow run held by the agent, as recorded on disk.
type Run struct {
	FlowRunID string `json:"flow_run_id"`
	// Epoch is the lease epoch the run was claimed with: the fencing token
	// for any state reported about it later.
	Epoch int64 `json:"epoch"`
	// PID is the infrastructure id (a pid for subprocesses); empty until the
	// infrastructure started.
	PID string `json:"pid,omitempty"`
	// Workdir is the run's working directory, removed when the run ends.
	Workdir string    `json:"workdir"`
	Started time.Time `json:"started"`
	// InfrastructureType, HandleID and HandleData are the runner handle
	// (runner.Handle) needed to find the infrastructure again.
	InfrastructureType string `json:"infrastructure_type,omitempty"`
	HandleID           string `json:"handle_id,omitempty"`
	HandleData         []byte `json:"handle_data,omitempty"`
	// PendingState is a final state the agent could not deliver before it
	// stopped; the next agent process reports it instead of CRASHED.
	PendingState *PendingState `json:"pending_state,omitempty"`
}

// PendingState is an undelivered final state.
type PendingState struct {
	// Type is the orion.v1.StateType name, e.g. "STATE_TYPE_COMPLETED".
	Type     string `json:"type"`
	Message  string `json:"message,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
}

// Store is an open state file. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// Path returns where the state file of the named agent lives under home.
func Path(home, agentName string) string {
	return filepath.Join(home, "agent", agentName, "state.db")
}

// Open opens (creating if needed) the state file at path, waiting at most
// timeout (DefaultOpenTimeout when zero) for the lock; a file held by
// another process gives an error wrapping ErrLocked.
func Open(path string, timeout time.Duration) (*Store, error) {
	if timeout <= 0 {
		timeout = DefaultOpenTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Runs starting together commit their records together, waiting at
	// most 2 ms for company (bbolt's default is 10 ms).
	db.MaxBatchDelay = 2 * time.Millisecond
	s := &Store{db: db}
	if err := s.upgrade(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// upgrade creates the buckets and checks the schema version. Future layout
// changes migrate here, inside the same transaction.
func (s *Store) upgrade() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketRuns); err != nil {
			return err
		}
		switch v := string(meta.Get(keySchema)); v {
		case "":
			return meta.Put(keySchema, []byte(SchemaVersion))
		case SchemaVersion:
			return nil
		default:
			return fmt.Errorf("state file schema version %q is not supported (want %s)", v, SchemaVersion)
		}
	})
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// AgentID returns the stored registration id ("" if none).
func (s *Store) AgentID() (string, error) {
	var id string
	err := s.db.View(func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bucketMeta).Get(keyAgentID))
		return nil
	})
	return id, err
}

// SetAgentID stores the registration id.
func (s *Store) SetAgentID(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyAgentID, []byte(id))
	})
}

// PutRun writes (or replaces) a run's record.
func (s *Store) PutRun(r Run) error {
	if r.FlowRunID == "" {
		return errors.New("run record without flow run id")
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	// Batch: the records of runs started at once share one commit (the
	// write is idempotent, as Batch requires).
	return s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).Put([]byte(r.FlowRunID), b)
	})
}

// GetRun returns a run's record; ok is false when there is none.
func (s *Store) GetRun(flowRunID string) (r Run, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRuns).Get([]byte(flowRunID))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &r)
	})
	return r, ok, err
}

// DeleteRun removes a run's record; deleting a missing record is a no-op.
func (s *Store) DeleteRun(flowRunID string) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).Delete([]byte(flowRunID))
	})
}

// Runs returns every run record, oldest first. A record that cannot be
// decoded is returned with only its FlowRunID set, so the caller can still
// report and remove it.
func (s *Store) Runs() ([]Run, error) {
	var out []Run
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				r = Run{}
			}
			r.FlowRunID = string(k)
			out = append(out, r)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, err
}
