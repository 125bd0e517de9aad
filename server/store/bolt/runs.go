package bolt

import (
	"bytes"
	"fmt"
	"math"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// runKeys are the index keys of one stored run. A nil key means the run has
// no entry in that index.
type runKeys struct {
	state       []byte // <state_type:1> <time(StateTimeKey)> <run_id>
	created     []byte // <time(create_time)> <run_id>
	deployment  []byte // <deployment_id> 0x00 <created>
	idempotency []byte // <flow_id> 0x00 <idempotency_key>
	scheduled   []byte // <deployment_id> 0x00 <time(next_scheduled_start_time)> <run_id>, SCHEDULED runs only
	flow        []byte // <flow_name> 0x00 <created>
	queue       []byte // <work_queue_name> 0x00 <created>, runs of a queue only
	stateNew    []byte // <state_type:1> <created>
}

// indexEntry is one index entry of a run: key in bucket, holding val.
type indexEntry struct{ bucket, key, val []byte }

// entries lists a run's entry in every run index, in a fixed order (a nil
// key where the run has none); idx_runs_by_idempotency holds the run id.
func (k runKeys) entries(id string) [8]indexEntry {
	return [8]indexEntry{
		{bucketRunsByState, k.state, nil},
		{bucketRunsByCreated, k.created, nil},
		{bucketRunsByDeployment, k.deployment, nil},
		{bucketRunsByIdempotency, k.idempotency, []byte(id)},
		{bucketScheduledByDep, k.scheduled, nil},
		{bucketRunsByFlow, k.flow, nil},
		{bucketRunsByQueue, k.queue, nil},
		{bucketRunsByStateNew, k.stateNew, nil},
	}
}

// createdKey is a run's key in idx_runs_by_created, and the suffix of its
// key in idx_runs_by_deployment.
func createdKey(r *orionv1.FlowRun) []byte {
	tk := timeKey(asTime(r.GetCreateTime()))
	return join(tk[:], []byte(r.GetId()))
}

// stateKey is a run's key in idx_runs_by_state.
func stateKey(r *orionv1.FlowRun) []byte {
	tk := timeKey(store.StateTimeKey(r))
	return join([]byte{byte(r.GetState().GetType())}, tk[:], []byte(r.GetId()))
}

func keysOf(r *orionv1.FlowRun) runKeys {
	k := runKeys{state: stateKey(r), created: createdKey(r)}
	if r.GetDeploymentId() != "" {
		k.deployment = join(prefix(r.GetDeploymentId()), k.created)
	}
	if r.GetIdempotencyKey() != "" {
		k.idempotency = join(prefix(r.GetFlowId()), []byte(r.GetIdempotencyKey()))
	}
	k.flow = join(prefix(r.GetFlowName()), k.created)
	if q := r.GetWorkQueueName(); q != "" {
		k.queue = join(prefix(q), k.created)
	}
	k.stateNew = join([]byte{byte(r.GetState().GetType())}, k.created)
	if r.GetDeploymentId() != "" && r.GetState().GetType() == orionv1.StateType_STATE_TYPE_SCHEDULED {
		tk := timeKey(asTime(r.GetNextScheduledStartTime()))
		k.scheduled = join(prefix(r.GetDeploymentId()), tk[:], []byte(r.GetId()))
	}
	return k
}

// FlowRun implements store.Tx.
func (t *tx) FlowRun(id string) (*orionv1.FlowRun, error) {
	r := new(orionv1.FlowRun)
	ok, err := t.get(bucketRuns, id, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("flow run", id)
	}
	if t.btx.Writable() {
		// A run read in a write transaction is nearly always written back.
		t.rememberRun(id, r)
	}
	return r, nil
}

// rememberRun records the keys of run id as stored now (r; nil forgets).
func (t *tx) rememberRun(id string, r *orionv1.FlowRun) {
	if r == nil {
		delete(t.stored, id)
		return
	}
	t.keepStored(id, storedOf(r))
}

// keepStored records s as run id's stored keys.
func (t *tx) keepStored(id string, s storedRun) {
	if t.stored == nil {
		t.stored = map[string]storedRun{}
	}
	t.stored[id] = s
}

// PutFlowRun implements store.Tx. All checks happen before the first write,
// so a failed put changes nothing even if the caller goes on to commit.
func (t *tx) PutFlowRun(r *orionv1.FlowRun) error {
	if err := t.checkWritable("put flow run"); err != nil {
		return err
	}
	if err := validKey("flow run", "id", r.GetId()); err != nil {
		return err
	}
	if err := validKeyPart("flow run", "deployment id", r.GetDeploymentId()); err != nil {
		return err
	}
	if err := validKeyPart("flow run", "flow id", r.GetFlowId()); err != nil {
		return err
	}
	if err := validKeyPart("flow run", "flow name", r.GetFlowName()); err != nil {
		return err
	}
	if err := validKeyPart("flow run", "work queue name", r.GetWorkQueueName()); err != nil {
		return err
	}
	if len(r.GetIdempotencyKey()) > maxKeyPart {
		return fmt.Errorf("flow run %q: idempotency key longer than %d bytes: %w", r.GetId(), maxKeyPart, store.ErrInvalid)
	}
	if st := r.GetState().GetType(); st < 0 || st > math.MaxUint8 {
		return fmt.Errorf("flow run %q: state type %d out of range: %w", r.GetId(), st, store.ErrInvalid)
	}
	keys := keysOf(r)
	if keys.idempotency != nil {
		if holder := t.lookup(bucketRunsByIdempotency, keys.idempotency); holder != "" && holder != r.GetId() {
			return fmt.Errorf("flow run idempotency key %q of flow %q is held by run %s: %w",
				r.GetIdempotencyKey(), r.GetFlowId(), holder, store.ErrAlreadyExists)
		}
	}
	prev := r.ModifyIndex
	r.ModifyIndex = t.index
	v, err := encode("flow run", r.GetId(), r)
	if err != nil {
		r.ModifyIndex = prev
		return err
	}
	prevStored, known := t.stored[r.GetId()]
	if !known {
		old := new(orionv1.FlowRun)
		exists, err := t.get(bucketRuns, r.GetId(), old)
		if err != nil {
			return err
		}
		if exists {
			prevStored = storedOf(old)
		}
	}
	if err := t.updateRunIndex(prevStored.keys, keys, r.GetId()); err != nil {
		return err
	}
	if err := t.put(bucketRuns, []byte(r.GetId()), v); err != nil {
		return err
	}
	now := storedWith(r, keys)
	if err := t.recountKeys(prevStored.counts, now.counts); err != nil {
		return err
	}
	if !prevStored.exists || prevStored.stateType != now.stateType || prevStored.stateID != now.stateID {
		t.changes = append(t.changes, StateChange{From: prevStored.stateType, To: now.stateType})
	}
	t.keepStored(r.GetId(), now)
	return nil
}

// updateRunIndex moves a run's index entries from old to cur: entries that
// differ are deleted and written, equal ones are left alone. A zero old
// inserts, a zero cur deletes.
//
// Entries whose key embeds the run id (all but the idempotency key) belong
// to this run alone: the old one holds the value this run put there, and
// the new one cannot exist yet, so the undo log needs no reads for them.
func (t *tx) updateRunIndex(old, cur runKeys, id string) error {
	olds, curs := old.entries(id), cur.entries(id)
	for i, e := range curs {
		was := olds[i].key
		if bytes.Equal(was, e.key) {
			continue
		}
		own := !bytes.Equal(e.bucket, bucketRunsByIdempotency)
		val := e.val
		if val == nil {
			val = []byte{}
		}
		if was != nil {
			var err error
			if own {
				wasVal := olds[i].val
				if wasVal == nil {
					wasVal = []byte{}
				}
				err = t.delKnown(e.bucket, was, wasVal)
			} else {
				err = t.del(e.bucket, was)
			}
			if err != nil {
				return fmt.Errorf("delete %s entry: %w", e.bucket, err)
			}
		}
		if e.key != nil {
			var err error
			if own {
				err = t.putFresh(e.bucket, e.key, val)
			} else {
				err = t.put(e.bucket, e.key, val)
			}
			if err != nil {
				return fmt.Errorf("put %s entry: %w", e.bucket, err)
			}
		}
	}
	return nil
}

// DeleteFlowRun implements store.Tx: the run, its index entries, states,
// logs with their counter, and stored transitions.
func (t *tx) DeleteFlowRun(id string) error {
	if err := t.checkWritable("delete flow run"); err != nil {
		return err
	}
	if _, err := t.FlowRun(id); err != nil { // records its stored keys
		return err
	}
	prev := t.stored[id]
	if err := t.updateRunIndex(prev.keys, runKeys{}, id); err != nil {
		return err
	}
	if err := t.recountKeys(prev.counts, nil); err != nil {
		return err
	}
	t.rememberRun(id, nil)
	for _, b := range [][]byte{bucketStates, bucketLogs, bucketLogSources, bucketTransitions} {
		if err := t.deletePrefix(b, prefix(id)); err != nil {
			return fmt.Errorf("delete flow run %q %s: %w", id, b, err)
		}
	}
	if err := t.del(bucketLogSeq, []byte(id)); err != nil {
		return err
	}
	return t.del(bucketRuns, []byte(id))
}

// FlowRunByIdempotencyKey implements store.Tx.
func (t *tx) FlowRunByIdempotencyKey(flowID, key string) (*orionv1.FlowRun, error) {
	if key == "" {
		return nil, notFound("flow run idempotency key", key)
	}
	id := t.lookup(bucketRunsByIdempotency, join(prefix(flowID), []byte(key)))
	if id == "" {
		return nil, notFound("flow run idempotency key", key)
	}
	return t.FlowRun(id)
}
