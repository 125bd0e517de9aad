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

// heldCounts is the number of runs occupying a slot, by work queue name and
// by deployment id.
type heldCounts struct {
	byQueue      map[string]int32
	byDeployment map[string]int32
}

// countHeld counts the held runs (PENDING, RUNNING, CANCELLING) inside tx.
// Held runs are few (bounded by what agents run at once), so a scan of the
// by-state index is cheap and needs no extra index.
func countHeld(tx store.Tx) (heldCounts, error) {
	c := heldCounts{byQueue: map[string]int32{}, byDeployment: map[string]int32{}}
	for _, t := range heldTypes {
		err := tx.RunsByState(t, farFuture, func(r *orionv1.FlowRun) bool {
			c.byQueue[r.GetWorkQueueName()]++
			if r.GetDeploymentId() != "" {
				c.byDeployment[r.GetDeploymentId()]++
			}
			return true
		})
		if err != nil {
			return c, err
		}
	}
	return c, nil
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
// the deployment's concurrency limit is reached given counts.
func (a admission) refuse(run *orionv1.FlowRun, counts heldCounts) string {
	if q := a.queue; q != nil {
		if q.GetIsPaused() {
			return fmt.Sprintf("Work queue '%s' is paused.", q.GetName())
		}
		for _, tag := range q.GetTags() {
			if !slices.Contains(run.GetTags(), tag) {
				return fmt.Sprintf("Work queue '%s' only takes runs tagged %q; this run lacks %q.", q.GetName(), q.GetTags(), tag)
			}
		}
		if q.ConcurrencyLimit != nil && counts.byQueue[q.GetName()] >= q.GetConcurrencyLimit() {
			return fmt.Sprintf("Work queue '%s' has reached its concurrency limit of %d.", q.GetName(), q.GetConcurrencyLimit())
		}
	}
	if a.depLimit != nil && counts.byDeployment[run.GetDeploymentId()] >= *a.depLimit {
		return fmt.Sprintf("Deployment '%s' has reached its concurrency limit of %d.", run.GetDeploymentName(), *a.depLimit)
	}
	return ""
}

// admit checks, inside the claim's transaction, that run may be claimed now.
// Because the count and the claim's write share one bbolt write transaction
// (writers are serialized), a limit can never be exceeded by racing claims.
func admit(tx store.Tx, run *orionv1.FlowRun) (string, error) {
	a, err := loadAdmission(tx, run)
	if err != nil {
		return "", err
	}
	if a.queue == nil && a.depLimit == nil {
		return "", nil
	}
	counts, err := countHeld(tx)
	if err != nil {
		return "", err
	}
	return a.refuse(run, counts), nil
}

// agentFull returns why agent may not claim another run ("" when it may):
// it already holds its --limit of runs.
func agentFull(tx store.Tx, agent *orionv1.Agent) (string, error) {
	if agent.GetLimit() <= 0 {
		return "", nil
	}
	var held int32
	for _, t := range heldTypes {
		err := tx.RunsByState(t, farFuture, func(r *orionv1.FlowRun) bool {
			if r.GetAgentId() == agent.GetId() {
				held++
			}
			return true
		})
		if err != nil {
			return "", err
		}
	}
	if held >= agent.GetLimit() {
		return fmt.Sprintf("Agent '%s' already holds %d runs, its limit.", agent.GetName(), held), nil
	}
	return "", nil
}
