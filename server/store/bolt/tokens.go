package bolt

import (
	"crypto/sha256"
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// Token implements store.Tx.
func (t *tx) Token(id string) (*store.Token, error) {
	v := t.bucket(bucketTokens).Get([]byte(id))
	if v == nil {
		return nil, notFound("token", id)
	}
	return decodeToken(id, v)
}

// PutToken implements store.Tx.
func (t *tx) PutToken(tok *store.Token) error {
	if err := t.checkWritable("put token"); err != nil {
		return err
	}
	id := tok.Meta.GetId()
	if err := validKey("token", "id", id); err != nil {
		return err
	}
	if len(tok.SecretHash) != sha256.Size {
		return fmt.Errorf("token %q: secret hash must be %d bytes: %w", id, sha256.Size, store.ErrInvalid)
	}
	meta, err := encode("token", id, tok.Meta)
	if err != nil {
		return err
	}
	v := append(append(make([]byte, 0, sha256.Size+len(meta)), tok.SecretHash...), meta...)
	return t.put(bucketTokens, []byte(id), v)
}

// DeleteToken implements store.Tx.
func (t *tx) DeleteToken(id string) error {
	if err := t.checkWritable("delete token"); err != nil {
		return err
	}
	b := t.bucket(bucketTokens)
	if b.Get([]byte(id)) == nil {
		return notFound("token", id)
	}
	return t.del(bucketTokens, []byte(id))
}

// ListTokens implements store.Tx, sorted by name.
func (t *tx) ListTokens() ([]*store.Token, error) {
	var out []*store.Token
	err := t.bucket(bucketTokens).ForEach(func(k, v []byte) error {
		tok, err := decodeToken(string(k), v)
		if err != nil {
			return err
		}
		out = append(out, tok)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Meta.GetName() < out[j].Meta.GetName() })
	return out, err
}

func decodeToken(id string, v []byte) (*store.Token, error) {
	if len(v) < sha256.Size {
		return nil, fmt.Errorf("decode token %q: record too short", id)
	}
	meta := new(orionv1.ApiToken)
	if err := proto.Unmarshal(v[sha256.Size:], meta); err != nil {
		return nil, fmt.Errorf("decode token %q: %w", id, err)
	}
	return &store.Token{Meta: meta, SecretHash: append([]byte(nil), v[:sha256.Size]...)}, nil
}
