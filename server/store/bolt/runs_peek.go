package bolt

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// Field numbers of orion.v1.FlowRun and orion.v1.State read by mayMatch.
const (
	runFieldTags  protowire.Number = 9
	runFieldState protowire.Number = 11
	stateType     protowire.Number = 2
)

// mayMatch reads the state type and the tags of an encoded FlowRun
// without decoding it, and reports whether the run may pass the filter's
// state and tag predicates: a list page walking one deployment's runs for
// its FAILED ones decodes only those, not the nine in ten others. It is a
// pre-filter (matchRun decides): anything it cannot read may match, and so
// may any run when the filter names more than 64 tags.
func mayMatch(v []byte, f *store.FlowRunFilter) bool {
	if len(f.StateTypes) == 0 && len(f.Tags) == 0 || len(f.Tags) > 64 {
		return true
	}
	var (
		typ  orionv1.StateType
		seen uint64 // bit i: the run has f.Tags[i]
	)
	for len(v) > 0 {
		num, wt, n := protowire.ConsumeTag(v)
		if n < 0 {
			return true
		}
		v = v[n:]
		if wt == protowire.BytesType && (num == runFieldState || num == runFieldTags) {
			b, n := protowire.ConsumeBytes(v)
			if n < 0 {
				return true
			}
			v = v[n:]
			if num == runFieldTags {
				for i, want := range f.Tags {
					if string(b) == want {
						seen |= 1 << i
					}
				}
			} else if t, ok := stateTypeOf(b); !ok {
				return true
			} else if t != 0 {
				typ = t // merged occurrences: the last type set wins
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, wt, v)
		if n < 0 {
			return true
		}
		v = v[n:]
	}
	if len(f.StateTypes) > 0 && !slices.Contains(f.StateTypes, typ) {
		return false
	}
	return seen == 1<<len(f.Tags)-1
}

// stateTypeOf reads State.type from an encoded State (0 when unset).
func stateTypeOf(b []byte) (orionv1.StateType, bool) {
	var typ orionv1.StateType
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, false
		}
		b = b[n:]
		if num == stateType && wt == protowire.VarintType {
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, false
			}
			b = b[n:]
			typ = orionv1.StateType(int32(x))
			continue
		}
		n = protowire.ConsumeFieldValue(num, wt, b)
		if n < 0 {
			return 0, false
		}
		b = b[n:]
	}
	return typ, true
}
