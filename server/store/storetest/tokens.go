package storetest

import (
	"bytes"
	"crypto/sha256"
	"testing"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

func testTokens(t *testing.T, s store.Store) {
	hash := sha256.Sum256([]byte("orion_t1_secret"))
	tok := &store.Token{Meta: &orionv1.ApiToken{Id: "t1", Name: "ci", Scope: orionv1.TokenScope_TOKEN_SCOPE_RUN, CreateTime: ts(0)}, SecretHash: hash[:]}
	update(t, s, func(tx store.Tx) error {
		must(t, tx.PutToken(tok))
		must(t, tx.PutToken(&store.Token{Meta: &orionv1.ApiToken{Id: "t0", Name: "agent"}, SecretHash: hash[:]}))
		wantErr(t, tx.PutToken(&store.Token{Meta: &orionv1.ApiToken{Id: "t2"}, SecretHash: []byte("short")}), store.ErrInvalid)
		wantErr(t, tx.PutToken(&store.Token{Meta: &orionv1.ApiToken{}, SecretHash: hash[:]}), store.ErrInvalid)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Token("t1")
		must(t, err)
		wantEqual(t, got.Meta, tok.Meta)
		if !bytes.Equal(got.SecretHash, hash[:]) {
			t.Fatalf("secret hash = %x", got.SecretHash)
		}
		_, err = tx.Token("nope")
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.ListTokens()
		must(t, err)
		if len(all) != 2 || all[0].Meta.GetName() != "agent" || all[1].Meta.GetName() != "ci" {
			t.Fatalf("ListTokens not sorted by name: %v", all)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		must(t, tx.DeleteToken("t1"))
		wantErr(t, tx.DeleteToken("t1"), store.ErrNotFound)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Token("t1")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}
