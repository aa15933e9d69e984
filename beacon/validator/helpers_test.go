package validator

import (
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// testChain is a minimal-preset interop genesis with every key.
type testChain struct {
	tr      *core.Transition
	keys    *Keys
	genesis *types.BeaconState
}

func newTestChain(t testing.TB, n uint64) *testChain {
	t.Helper()
	cfg := params.Minimal()
	tr := core.New(cfg)
	keys, err := NewInteropKeys(0, n)
	if err != nil {
		t.Fatal(err)
	}
	st, err := InteropGenesis(tr, n, cfg.MinGenesisTime, WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	return &testChain{tr: tr, keys: keys, genesis: st}
}

// apply runs the full state transition with every signature checked on a
// copy of pre and returns the result, failing the test on error.
func (c *testChain) apply(t testing.TB, pre *types.BeaconState, b *types.BeaconBlock) *types.BeaconState {
	t.Helper()
	st := pre.Copy()
	if err := c.tr.StateTransition(st, b, core.VerifySigs, true); err != nil {
		t.Fatalf("state transition of block at slot %d: %v", b.Slot, err)
	}
	return st
}

// attestAll returns one full-committee aggregate per committee of st's slot,
// following the head whose post-state is st.
func (c *testChain) attestAll(t testing.TB, st *types.BeaconState) []*types.Attestation {
	t.Helper()
	head, err := LatestBlockRoot(st)
	if err != nil {
		t.Fatal(err)
	}
	coms, err := SlotCommittees(c.tr, st, st.Slot)
	if err != nil {
		t.Fatal(err)
	}
	var out []*types.Attestation
	for _, sc := range coms {
		data, err := ProduceAttestationData(c.tr, st, head, st.Slot, sc.Shard)
		if err != nil {
			t.Fatal(err)
		}
		a, err := AggregateCommittee(c.tr, st, data, sc.Committee, sc.Committee, c.keys)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}
