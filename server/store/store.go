// Package store defines Orion's persistence contract: a transactional store
// of flows, deployments, flow runs (with state history and logs), work
// queues and agents. Records are the public protobuf messages of orion.v1.
//
// Every read-check-write happens inside one Update call; the change is
// acknowledged only after the transaction commits. The store knows nothing
// about orchestration rules.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// Sentinel errors. The rpc layer maps them to gRPC codes in one place.
var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a record with the same unique key exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid means a record is malformed (missing id or key).
	ErrInvalid = errors.New("invalid record")
	// ErrConflict means the request conflicts with the record's current
	// state (e.g. cancelling a run that already finished).
	ErrConflict = errors.New("conflict")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
)

// Store is a transactional store. Implementations: store/bolt.
type Store interface {
	// Update runs fn in one read-write transaction and commits it when fn
	// returns nil; any error rolls the whole transaction back. Watchers are
	// notified after the commit. fn must not retain the Tx.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction. Write methods on its Tx fail.
	View(ctx context.Context, fn func(Tx) error) error
	// Changed returns a channel that is closed after the next commit of a
	// write transaction, and the modify index current at the time of the call.
	// Callers re-read state and call Changed again (a blocking-query loop).
	Changed() (<-chan struct{}, uint64)
	// Backup writes a consistent copy of the store to w while it stays online.
	Backup(w io.Writer) (int64, error)
	// Close closes the store. Pending Update and View calls fail with ErrClosed.
	Close() error
}

// Tx is one transaction. Records returned are fresh copies owned by the
// caller; records passed to Put* are stored as they are (the caller must not
// modify them afterwards in the same transaction expecting effect).
type Tx interface {
	// Index is this write transaction's modify index (increases by one per
	// committed write transaction); in a read transaction it is the index of
	// the last commit.
	Index() uint64
	// Now is the time the transaction started, from the store's clock.
	Now() time.Time

	// Flows: unique by name.
	Flow(id string) (*orionv1.Flow, error)
	FlowByName(name string) (*orionv1.Flow, error)
	// PutFlow inserts or replaces a flow; ErrAlreadyExists when another flow
	// id holds the name.
	PutFlow(f *orionv1.Flow) error
	// ListFlows lists flows sorted by name, starting after the name afterName.
	ListFlows(afterName string, limit int) ([]*orionv1.Flow, error)

	// Flow sources: content-addressed script texts.
	PutFlowSource(src *FlowSource) error
	FlowSource(digest string) (*FlowSource, error)

	// Deployments: unique by (flow_name, name).
	Deployment(id string) (*orionv1.Deployment, error)
	DeploymentByName(flowName, name string) (*orionv1.Deployment, error)
	// PutDeployment inserts or replaces a deployment (and its name index);
	// ErrAlreadyExists when another id holds (flow_name, name).
	PutDeployment(d *orionv1.Deployment) error
	DeleteDeployment(id string) error
	// DeploymentsVersion moves with every deployment written or deleted;
	// two equal values mean no deployment changed in between.
	DeploymentsVersion() uint64
	// ListDeployments lists deployments sorted by (flow_name, name).
	ListDeployments(f DeploymentFilter) ([]*orionv1.Deployment, error)

	// Flow runs.
	FlowRun(id string) (*orionv1.FlowRun, error)
	// PutFlowRun inserts or replaces a run and keeps every run index in step
	// (by state, by creation, by deployment, by idempotency key). It stamps
	// ModifyIndex with Index(). ErrAlreadyExists when the idempotency key is
	// held by another run of the same flow.
	PutFlowRun(r *orionv1.FlowRun) error
	// DeleteFlowRun deletes a run with its states, logs and index entries.
	DeleteFlowRun(id string) error
	// FlowRunByIdempotencyKey finds a run of a flow by its idempotency key.
	FlowRunByIdempotencyKey(flowID, key string) (*orionv1.FlowRun, error)
	// ListFlowRuns lists runs newest first (by create_time, then id).
	ListFlowRuns(f FlowRunFilter) (runs []*orionv1.FlowRun, next string, err error)
	// RunsByState visits runs whose current state has type t, ordered by
	// their state time key (see StateTimeKey), while key <= before, until fn
	// returns false.
	RunsByState(t orionv1.StateType, before time.Time, fn func(*orionv1.FlowRun) bool) error
	// RunIDsByState is RunsByState without decoding the runs: it visits the
	// ids and state time keys of the index alone. fn must not write.
	RunIDsByState(t orionv1.StateType, before time.Time, fn func(id string, at time.Time) bool) error
	// RunCount is the number of runs whose current state has type t.
	RunCount(t orionv1.StateType) (int, error)
	// HeldCount is the number of held runs (IsHeld: PENDING, RUNNING,
	// CANCELLING) of a work queue (by name), deployment or agent (by id).
	// Both counts are kept in step by PutFlowRun and DeleteFlowRun, so
	// reading one costs no scan.
	HeldCount(by HeldBy, key string) (int, error)
	// ScheduledRuns returns the SCHEDULED runs of a deployment whose next
	// scheduled start is strictly after after, earliest first: at most limit
	// of them, and how many there are in all. The cost is proportional to
	// that count (an index range, no run decoded beyond limit).
	ScheduledRuns(deploymentID string, after time.Time, limit int) (runs []*orionv1.FlowRun, total int, err error)
	// RunsCreatedBetween visits the runs created in [start, end), oldest
	// first (of one deployment when deploymentID is set), until fn returns
	// false. fn must not write.
	RunsCreatedBetween(deploymentID string, start, end time.Time, fn func(*orionv1.FlowRun) bool) error

	// State history, oldest first.
	AppendState(runID string, s *orionv1.State) error
	States(runID string) ([]*orionv1.State, error)

	// Logs: AppendLogs assigns increasing seq numbers per run and returns the
	// last one. A line with a source is dropped (its seq stays 0) when the
	// run already has a line of that source at or past its position.
	AppendLogs(runID string, logs []*orionv1.Log) (uint64, error)
	// Logs returns up to limit lines with seq > afterSeq and level >= minLevel.
	Logs(runID string, afterSeq uint64, minLevel int32, limit int) ([]*orionv1.Log, error)
	// LastLogSeq is the highest seq stored for the run (0 when none).
	LastLogSeq(runID string) (uint64, error)

	// Idempotent transitions: the stored answer to (run, transition id).
	Transition(runID, transitionID string) (*orionv1.OrchestrationResult, error)
	PutTransition(runID, transitionID string, res *orionv1.OrchestrationResult) error

	// Work queues: unique by name.
	WorkQueue(id string) (*orionv1.WorkQueue, error)
	WorkQueueByName(name string) (*orionv1.WorkQueue, error)
	PutWorkQueue(q *orionv1.WorkQueue) error
	DeleteWorkQueue(id string) error
	ListWorkQueues() ([]*orionv1.WorkQueue, error)

	// Agents.
	Agent(id string) (*orionv1.Agent, error)
	PutAgent(a *orionv1.Agent) error
	DeleteAgent(id string) error
	ListAgents() ([]*orionv1.Agent, error)

	// API tokens, keyed by their public id. Only a hash of the secret is kept.
	Token(id string) (*Token, error)
	PutToken(t *Token) error
	DeleteToken(id string) error
	ListTokens() ([]*Token, error)
}

// Token is a stored API token: its description and the SHA-256 of its
// secret (never the secret itself).
type Token struct {
	Meta       *orionv1.ApiToken
	SecretHash []byte
}

// FlowSource is a stored flow script.
type FlowSource struct {
	Digest   string // "sha256:<hex>"
	FileName string
	Text     string
}

// DeploymentFilter selects deployments.
type DeploymentFilter struct {
	FlowName string   // exact match, empty for all
	Tags     []string // all must be present
	// After is a cursor: (flow_name, name) strictly after it, as returned by
	// DeploymentCursor.
	After string
	Limit int // 0 for no limit
}

// FlowRunFilter selects flow runs.
type FlowRunFilter struct {
	FlowName        string
	DeploymentID    string
	StateTypes      []orionv1.StateType
	Tags            []string
	WorkQueueName   string
	ScheduledBefore time.Time // zero for no bound
	// After is an opaque cursor returned as next by ListFlowRuns.
	After string
	Limit int // 0 for no limit
}

// DeploymentCursor returns the cursor that resumes a listing after d.
func DeploymentCursor(d *orionv1.Deployment) string {
	return d.GetFlowName() + "\x00" + d.GetName()
}

// NoLease is the state time key of a held run that has no lease.
var NoLease = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// HeldBy says what a HeldCount counts by.
type HeldBy int

// The dimensions of HeldCount.
const (
	HeldByQueue HeldBy = iota + 1
	HeldByDeployment
	HeldByAgent
)

// IsHeld reports whether runs in state type t hold a slot of their work
// queue, deployment and agent: PENDING, RUNNING and CANCELLING (claimed by
// an agent and not finished).
func IsHeld(t orionv1.StateType) bool {
	switch t {
	case orionv1.StateType_STATE_TYPE_PENDING, orionv1.StateType_STATE_TYPE_RUNNING, orionv1.StateType_STATE_TYPE_CANCELLING:
		return true
	}
	return false
}

// StateTimeKey is the time a run is ordered by in the by-state index: the
// next scheduled start for SCHEDULED runs, the lease expiry for runs held by
// an agent (PENDING, RUNNING, CANCELLING; NoLease for a held run without
// one), and the last update otherwise.
func StateTimeKey(r *orionv1.FlowRun) time.Time {
	switch r.GetState().GetType() {
	case orionv1.StateType_STATE_TYPE_SCHEDULED:
		if t := r.GetNextScheduledStartTime(); t != nil {
			return t.AsTime()
		}
	case orionv1.StateType_STATE_TYPE_PENDING, orionv1.StateType_STATE_TYPE_RUNNING, orionv1.StateType_STATE_TYPE_CANCELLING:
		if t := r.GetLeaseExpireTime(); t != nil {
			return t.AsTime()
		}
		// A held run without a lease (run in the foreground, or a tracked
		// Python call) never expires: it sorts after every leased one.
		return NoLease
	}
	if t := r.GetUpdateTime(); t != nil {
		return t.AsTime()
	}
	return time.Time{}
}
