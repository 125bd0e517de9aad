// Package orchestration holds Orion's run-state machine: the state types, the
// ordered orchestration rules that decide on a proposed transition, and the
// bookkeeping applied to a run on every accepted transition. Evaluate and
// Apply are pure (no I/O, no clock): the caller passes the time and writes
// the outcome inside its own store transaction.
package orchestration

import (
	"strings"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// Short names for the state types.
const (
	Scheduled  = orionv1.StateType_STATE_TYPE_SCHEDULED
	Pending    = orionv1.StateType_STATE_TYPE_PENDING
	Running    = orionv1.StateType_STATE_TYPE_RUNNING
	Completed  = orionv1.StateType_STATE_TYPE_COMPLETED
	Failed     = orionv1.StateType_STATE_TYPE_FAILED
	Cancelled  = orionv1.StateType_STATE_TYPE_CANCELLED
	Crashed    = orionv1.StateType_STATE_TYPE_CRASHED
	Paused     = orionv1.StateType_STATE_TYPE_PAUSED
	Cancelling = orionv1.StateType_STATE_TYPE_CANCELLING
)

// Sub-state names.
const (
	NameLate          = "Late"
	NameAwaitingRetry = "AwaitingRetry"
	NameRetrying      = "Retrying"
	NameRerunning     = "Rerunning"
)

// IsTerminal reports whether a run in a state of type t can no longer move.
func IsTerminal(t orionv1.StateType) bool {
	switch t {
	case Completed, Failed, Cancelled, Crashed:
		return true
	}
	return false
}

// IsHeld reports whether a run in a state of type t is owned by an agent
// (it has, or is about to have, infrastructure).
func IsHeld(t orionv1.StateType) bool { return store.IsHeld(t) }

// DefaultName returns the display name of a state type: "Scheduled",
// "Running", ...
func DefaultName(t orionv1.StateType) string {
	s := strings.TrimPrefix(t.String(), "STATE_TYPE_")
	if s == "" || t == orionv1.StateType_STATE_TYPE_UNSPECIFIED {
		return "Unknown"
	}
	return s[:1] + strings.ToLower(s[1:])
}

// ParseStateType accepts "running", "RUNNING" or "STATE_TYPE_RUNNING".
func ParseStateType(s string) (orionv1.StateType, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "STATE_TYPE_") {
		u = "STATE_TYPE_" + u
	}
	v, ok := orionv1.StateType_value[u]
	if !ok || v == 0 {
		return 0, false
	}
	return orionv1.StateType(v), true
}
