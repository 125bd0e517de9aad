package dispatch

import (
	"errors"
	"fmt"
	"slices"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/orchestration"
	"github.com/orion-run/orion/server/store"
)

// heldTypes are the state types of runs that occupy a concurrency slot.
var heldTypes = []orionv1.StateType{orchestration.Pending, orchestration.Running, orchestration.Cancelling}

// slots reads, for one pass or one claim, how many slots each work queue
// and deployment has taken: the store's held counters (no scan), plus the
// offers this pass made, so one pass does not offer more runs than a limit
// can take (the claim enforces the limit anyway).
type slots struct {
	tx           store.Tx
	byQueue      map[string]int32
	byDeployment map[string]int32
}

func newSlots(tx store.Tx) *slots {
	return &slots{tx: tx, byQueue: map[string]int32{}, byDeployment: map[string]int32{}}
}

func (s *slots) get(m map[string]int32, by store.HeldBy, key string) (int32, error) {
	if n, ok := m[key]; ok {
		return n, nil
	}
	n, err := s.tx.HeldCount(by, key)
	if err != nil {
		return 0, err
	}
	m[key] = int32(n)
	return int32(n), nil
}

func (s *slots) queue(name string) (int32, error) { return s.get(s.byQueue, store.HeldByQueue, name) }

func (s *slots) deployment(id string) (int32, error) {
	return s.get(s.byDeployment, store.HeldByDeployment, id)
}

// admission is what limits the dispatch of one run: its work queue (nil
// when the queue record does not exist) and its deployment's limit.
type admission struct {
	queue    *orionv1.WorkQueue
	depLimit *int32
}

// loadAdmission reads the queue and deployment limits of run inside tx.
func loadAdmission(tx store.Tx, run *orionv1.FlowRun) (admission, error) {
	var a admission
	q, err := tx.WorkQueueByName(run.GetWorkQueueName())
	switch {
	case err == nil:
		a.queue = q
	case !errors.Is(err, store.ErrNotFound):
		return a, err
	}
	if run.GetDeploymentId() != "" {
		dep, err := tx.Deployment(run.GetDeploymentId())
		switch {
		case err == nil:
			a.depLimit = dep.ConcurrencyLimit
		case !errors.Is(err, store.ErrNotFound):
			return a, err
		}
	}
	return a, nil
}

// refuse returns why run may not be dispatched now ("" when it may): its
// queue is paused, the run lacks one of the queue's tags, or the queue's or
// the deployment's concurrency limit is reached given the taken slots.
func (a admission) refuse(run *orionv1.FlowRun, taken *slots) (string, error) {
	if q := a.queue; q != nil {
		if q.GetIsPaused() {
			return fmt.Sprintf("Work queue '%s' is paused.", q.GetName()), nil
		}
		for _, tag := range q.GetTags() {
			if !slices.Contains(run.GetTags(), tag) {
				return fmt.Sprintf("Work queue '%s' only takes runs tagged %q; this run lacks %q.", q.GetName(), q.GetTags(), tag), nil
			}
		}
		if q.ConcurrencyLimit != nil {
			n, err := taken.queue(q.GetName())
			if err != nil {
				return "", err
			}
			if n >= q.GetConcurrencyLimit() {
				return fmt.Sprintf("Work queue '%s' has reached its concurrency limit of %d.", q.GetName(), q.GetConcurrencyLimit()), nil
			}
		}
	}
	if a.depLimit != nil {
		n, err := taken.deployment(run.GetDeploymentId())
		if err != nil {
			return "", err
		}
		if n >= *a.depLimit {
			return fmt.Sprintf("Deployment '%s' has reached its concurrency limit of %d.", run.GetDeploymentName(), *a.depLimit), nil
		}
	}
	return "", nil
}

// take counts run as holding a slot (an offer made) under the limits that
// apply to it. A queue or deployment without a limit is not counted: refuse
// never reads its count, so the pass does not read it from the store.
func (a admission) take(run *orionv1.FlowRun, s *slots) error {
	if q := a.queue; q != nil && q.ConcurrencyLimit != nil {
		if _, err := s.queue(q.GetName()); err != nil {
			return err
		}
		s.byQueue[q.GetName()]++
	}
	if a.depLimit != nil {
		id := run.GetDeploymentId()
		if _, err := s.deployment(id); err != nil {
			return err
		}
		s.byDeployment[id]++
	}
	return nil
}

// admit checks, inside the claim's transaction, that run may be claimed now.
// Because the count and the claim's write share one bbolt write transaction
// (writers are serialized), a limit can never be exceeded by racing claims.
func admit(tx store.Tx, run *orionv1.FlowRun) (string, error) {
	a, err := loadAdmission(tx, run)
	if err != nil {
		return "", err
	}
	return a.refuse(run, newSlots(tx))
}

// agentFull returns why agent may not claim another run ("" when it may):
// it already holds its --limit of runs.
func agentFull(tx store.Tx, agent *orionv1.Agent) (string, error) {
	if agent.GetLimit() <= 0 {
		return "", nil
	}
	held, err := tx.HeldCount(store.HeldByAgent, agent.GetId())
	if err != nil {
		return "", err
	}
	if int32(held) >= agent.GetLimit() {
		return fmt.Sprintf("Agent '%s' already holds %d runs, its limit.", agent.GetName(), held), nil
	}
	return "", nil
}
