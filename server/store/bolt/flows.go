package bolt

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// Flow implements store.Tx.
func (t *tx) Flow(id string) (*orionv1.Flow, error) {
	f := new(orionv1.Flow)
	ok, err := t.get(bucketFlows, id, f)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("flow", id)
	}
	return f, nil
}

// FlowByName implements store.Tx.
func (t *tx) FlowByName(name string) (*orionv1.Flow, error) {
	id := t.lookup(bucketFlowsByName, []byte(name))
	if id == "" {
		return nil, notFound("flow", name)
	}
	return t.Flow(id)
}

// PutFlow implements store.Tx.
func (t *tx) PutFlow(f *orionv1.Flow) error {
	if err := t.checkWritable("put flow"); err != nil {
		return err
	}
	if err := validKey("flow", "id", f.GetId()); err != nil {
		return err
	}
	if err := validKey("flow", "name", f.GetName()); err != nil {
		return err
	}
	name := []byte(f.GetName())
	if err := t.claimName(bucketFlowsByName, name, f.GetId(), "flow name", f.GetName()); err != nil {
		return err
	}
	v, err := encode("flow", f.GetId(), f)
	if err != nil {
		return err
	}
	old := new(orionv1.Flow)
	ok, err := t.get(bucketFlows, f.GetId(), old)
	if err != nil {
		return err
	}
	if ok && old.GetName() != f.GetName() {
		if err := t.del(bucketFlowsByName, []byte(old.GetName())); err != nil {
			return err
		}
	}
	if err := t.put(bucketFlowsByName, name, []byte(f.GetId())); err != nil {
		return err
	}
	return t.put(bucketFlows, []byte(f.GetId()), v)
}

// ListFlows implements store.Tx.
func (t *tx) ListFlows(afterName string, limit int) ([]*orionv1.Flow, error) {
	var out []*orionv1.Flow
	c := t.bucket(bucketFlowsByName).Cursor()
	k, v := c.Seek([]byte(afterName))
	if k != nil && afterName != "" && string(k) == afterName {
		k, v = c.Next()
	}
	for ; k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
		f, err := t.Flow(string(v))
		if err != nil {
			return nil, fmt.Errorf("flow name index %q: %w", k, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// PutFlowSource implements store.Tx. Sources are content-addressed: putting
// the same text again is a no-op (the first file name is kept); a different
// text under a stored digest is ErrAlreadyExists.
func (t *tx) PutFlowSource(src *store.FlowSource) error {
	if err := t.checkWritable("put flow source"); err != nil {
		return err
	}
	if src == nil || src.Digest == "" || len(src.Digest) > maxKeyPart {
		return fmt.Errorf("flow source: empty or oversized digest: %w", store.ErrInvalid)
	}
	b := t.bucket(bucketFlowSources)
	if v := b.Get([]byte(src.Digest)); v != nil {
		old, err := decodeSource(v)
		if err != nil {
			return err
		}
		if old.Text != src.Text {
			return fmt.Errorf("flow source %q: different text under the same digest: %w", src.Digest, store.ErrAlreadyExists)
		}
		return nil
	}
	return t.put(bucketFlowSources, []byte(src.Digest), encodeSource(src))
}

// FlowSource implements store.Tx.
func (t *tx) FlowSource(digest string) (*store.FlowSource, error) {
	v := t.bucket(bucketFlowSources).Get([]byte(digest))
	if v == nil {
		return nil, notFound("flow source", digest)
	}
	return decodeSource(v)
}

// Flow sources are encoded as proto wire fields (digest=1, file_name=2,
// text=3), so a future FlowSource message can read them unchanged.
const (
	sourceDigest   protowire.Number = 1
	sourceFileName protowire.Number = 2
	sourceText     protowire.Number = 3
)

func encodeSource(s *store.FlowSource) []byte {
	b := make([]byte, 0, len(s.Digest)+len(s.FileName)+len(s.Text)+16)
	for _, f := range []struct {
		num protowire.Number
		val string
	}{{sourceDigest, s.Digest}, {sourceFileName, s.FileName}, {sourceText, s.Text}} {
		if f.val == "" {
			continue
		}
		b = protowire.AppendTag(b, f.num, protowire.BytesType)
		b = protowire.AppendString(b, f.val)
	}
	return b
}

func decodeSource(b []byte) (*store.FlowSource, error) {
	s := new(store.FlowSource)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("decode flow source: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, fmt.Errorf("decode flow source: %w", protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeString(b)
		if n < 0 {
			return nil, fmt.Errorf("decode flow source: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch num {
		case sourceDigest:
			s.Digest = v
		case sourceFileName:
			s.FileName = v
		case sourceText:
			s.Text = v
		}
	}
	return s, nil
}
