package bolt

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// WorkQueue implements store.Tx.
func (t *tx) WorkQueue(id string) (*orionv1.WorkQueue, error) {
	q := new(orionv1.WorkQueue)
	ok, err := t.get(bucketWorkQueues, id, q)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("work queue", id)
	}
	return q, nil
}

// WorkQueueByName implements store.Tx.
func (t *tx) WorkQueueByName(name string) (*orionv1.WorkQueue, error) {
	id := t.lookup(bucketWorkQueuesByName, []byte(name))
	if id == "" {
		return nil, notFound("work queue", name)
	}
	return t.WorkQueue(id)
}

// PutWorkQueue implements store.Tx: ErrAlreadyExists when another queue id
// holds the name.
func (t *tx) PutWorkQueue(q *orionv1.WorkQueue) error {
	if err := t.checkWritable("put work queue"); err != nil {
		return err
	}
	if err := validKey("work queue", "id", q.GetId()); err != nil {
		return err
	}
	if err := validKey("work queue", "name", q.GetName()); err != nil {
		return err
	}
	name := []byte(q.GetName())
	if err := t.claimName(bucketWorkQueuesByName, name, q.GetId(), "work queue", q.GetName()); err != nil {
		return err
	}
	v, err := encode("work queue", q.GetId(), q)
	if err != nil {
		return err
	}
	old := new(orionv1.WorkQueue)
	ok, err := t.get(bucketWorkQueues, q.GetId(), old)
	if err != nil {
		return err
	}
	if ok && old.GetName() != q.GetName() {
		if err := t.del(bucketWorkQueuesByName, []byte(old.GetName())); err != nil {
			return err
		}
	}
	if err := t.put(bucketWorkQueuesByName, name, []byte(q.GetId())); err != nil {
		return err
	}
	return t.put(bucketWorkQueues, []byte(q.GetId()), v)
}

// DeleteWorkQueue implements store.Tx.
func (t *tx) DeleteWorkQueue(id string) error {
	if err := t.checkWritable("delete work queue"); err != nil {
		return err
	}
	q, err := t.WorkQueue(id)
	if err != nil {
		return err
	}
	if err := t.del(bucketWorkQueuesByName, []byte(q.GetName())); err != nil {
		return err
	}
	return t.del(bucketWorkQueues, []byte(id))
}

// ListWorkQueues implements store.Tx, sorted by name.
func (t *tx) ListWorkQueues() ([]*orionv1.WorkQueue, error) {
	var out []*orionv1.WorkQueue
	err := t.bucket(bucketWorkQueuesByName).ForEach(func(k, v []byte) error {
		q, err := t.WorkQueue(string(v))
		if err != nil {
			return fmt.Errorf("work queue name index %q: %w", k, err)
		}
		out = append(out, q)
		return nil
	})
	return out, err
}

// Agent implements store.Tx.
func (t *tx) Agent(id string) (*orionv1.Agent, error) {
	a := new(orionv1.Agent)
	ok, err := t.get(bucketAgents, id, a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("agent", id)
	}
	return a, nil
}

// PutAgent implements store.Tx.
func (t *tx) PutAgent(a *orionv1.Agent) error {
	if err := t.checkWritable("put agent"); err != nil {
		return err
	}
	if err := validKey("agent", "id", a.GetId()); err != nil {
		return err
	}
	v, err := encode("agent", a.GetId(), a)
	if err != nil {
		return err
	}
	return t.put(bucketAgents, []byte(a.GetId()), v)
}

// DeleteAgent implements store.Tx.
func (t *tx) DeleteAgent(id string) error {
	if err := t.checkWritable("delete agent"); err != nil {
		return err
	}
	b := t.bucket(bucketAgents)
	if b.Get([]byte(id)) == nil {
		return notFound("agent", id)
	}
	return t.del(bucketAgents, []byte(id))
}

// ListAgents implements store.Tx, sorted by id.
func (t *tx) ListAgents() ([]*orionv1.Agent, error) {
	var out []*orionv1.Agent
	err := t.bucket(bucketAgents).ForEach(func(k, v []byte) error {
		a := new(orionv1.Agent)
		if err := proto.Unmarshal(v, a); err != nil {
			return fmt.Errorf("decode agent %q: %w", k, err)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}
