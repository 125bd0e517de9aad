package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// AppendState implements store.Tx. The sequence comes from the states
// bucket's NextSequence: global and increasing, hence ordered per run. The
// run itself is not required to exist yet (the caller usually writes both
// in the same transaction).
func (t *tx) AppendState(runID string, s *orionv1.State) error {
	if err := t.checkWritable("append state"); err != nil {
		return err
	}
	if err := validKey("state", "flow run id", runID); err != nil {
		return err
	}
	v, err := encode("state of flow run", runID, s)
	if err != nil {
		return err
	}
	b := t.bucket(bucketStates)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return t.putFresh(bucketStates, seqKey(runID, seq), v) // a new sequence number
}

// States implements store.Tx.
func (t *tx) States(runID string) ([]*orionv1.State, error) {
	var out []*orionv1.State
	err := forEachPrefix(t.bucket(bucketStates), prefix(runID), func(_, v []byte) error {
		s := new(orionv1.State)
		if err := proto.Unmarshal(v, s); err != nil {
			return fmt.Errorf("decode state of flow run %q: %w", runID, err)
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// AppendLogs implements store.Tx. It sets Seq and FlowRunId on the given
// messages, so the caller can publish them as stored.
func (t *tx) AppendLogs(runID string, logs []*orionv1.Log) (uint64, error) {
	if err := t.checkWritable("append logs"); err != nil {
		return 0, err
	}
	if err := validKey("logs", "flow run id", runID); err != nil {
		return 0, err
	}
	counters := t.bucket(bucketLogSeq)
	seq, _ := getUint64(counters, []byte(runID))
	if len(logs) == 0 {
		return seq, nil
	}
	// Encode every line before the first write: a line proto refuses
	// must not leave earlier lines stored past the counter.
	vals := make([][]byte, 0, len(logs))
	marks := map[string]uint64{} // source → highest position, as updated
	for _, l := range logs {
		if src := l.GetSource(); src != "" {
			mark, ok := marks[src]
			if !ok {
				mark, _ = getUint64(t.bucket(bucketLogSources), join(prefix(runID), []byte(src)))
			}
			if l.GetSourcePosition() <= mark {
				marks[src] = mark
				continue // stored before: a resent line
			}
			marks[src] = l.GetSourcePosition()
		}
		l.Seq = seq + uint64(len(vals)) + 1
		l.FlowRunId = runID
		v, err := encode("log of flow run", runID, l)
		if err != nil {
			return 0, err
		}
		vals = append(vals, v)
	}
	for _, v := range vals {
		seq++
		if err := t.putFresh(bucketLogs, seqKey(runID, seq), v); err != nil { // past the run's counter
			return 0, err
		}
	}
	for src, mark := range marks {
		if err := t.put(bucketLogSources, join(prefix(runID), []byte(src)), binary.BigEndian.AppendUint64(nil, mark)); err != nil {
			return 0, err
		}
	}
	return seq, t.put(bucketLogSeq, []byte(runID), binary.BigEndian.AppendUint64(nil, seq))
}

// Logs implements store.Tx. limit <= 0 means no limit.
func (t *tx) Logs(runID string, afterSeq uint64, minLevel int32, limit int) ([]*orionv1.Log, error) {
	var out []*orionv1.Log
	if afterSeq == ^uint64(0) {
		return nil, nil
	}
	pfx := prefix(runID)
	c := t.bucket(bucketLogs).Cursor()
	for k, v := c.Seek(seqKey(runID, afterSeq+1)); k != nil && bytes.HasPrefix(k, pfx); k, v = c.Next() {
		if limit > 0 && len(out) >= limit {
			break
		}
		l := new(orionv1.Log)
		if err := proto.Unmarshal(v, l); err != nil {
			return nil, fmt.Errorf("decode log %d of flow run %q: %w", binary.BigEndian.Uint64(k[len(pfx):]), runID, err)
		}
		if l.GetLevel() < minLevel {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// LastLogSeq implements store.Tx.
func (t *tx) LastLogSeq(runID string) (uint64, error) {
	seq, _ := getUint64(t.bucket(bucketLogSeq), []byte(runID))
	return seq, nil
}

// transitionKey is <run_id> 0x00 <transition_id>.
func transitionKey(runID, transitionID string) []byte {
	return join(prefix(runID), []byte(transitionID))
}

// Transition implements store.Tx.
func (t *tx) Transition(runID, transitionID string) (*orionv1.OrchestrationResult, error) {
	v := t.bucket(bucketTransitions).Get(transitionKey(runID, transitionID))
	if v == nil {
		return nil, notFound("transition", runID+"/"+transitionID)
	}
	res := new(orionv1.OrchestrationResult)
	if err := proto.Unmarshal(v, res); err != nil {
		return nil, fmt.Errorf("decode transition %q of flow run %q: %w", transitionID, runID, err)
	}
	return res, nil
}

// PutTransition implements store.Tx.
func (t *tx) PutTransition(runID, transitionID string, res *orionv1.OrchestrationResult) error {
	if err := t.checkWritable("put transition"); err != nil {
		return err
	}
	if err := validKey("transition", "flow run id", runID); err != nil {
		return err
	}
	if transitionID == "" || res == nil || len(transitionID) > maxKeyPart {
		return fmt.Errorf("transition %q of flow run %q: empty or oversized transition id, or no result: %w", transitionID, runID, store.ErrInvalid)
	}
	v, err := encode("transition of flow run", runID, res)
	if err != nil {
		return err
	}
	return t.put(bucketTransitions, transitionKey(runID, transitionID), v)
}
