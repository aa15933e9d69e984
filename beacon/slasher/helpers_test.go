package slasher

import (
	"sync"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

const testValidators = 64

// testEpoch is the current epoch of the test slashers.
const testEpoch = 20

var testGenesis = sync.OnceValues(func() (*types.BeaconState, error) {
	tr := core.New(params.Minimal())
	return validator.InteropGenesis(tr, testValidators, params.Minimal().MinGenesisTime, validator.SkipDepositSignatures())
})

// newTestSlasher opens a slasher with a window of history epochs on db (a
// fresh in-memory Pebble database when nil), at testEpoch.
func newTestSlasher(t testing.TB, db kv.DB, history uint64) *Slasher {
	t.Helper()
	if db == nil {
		var err error
		if db, err = kv.OpenPebbleMem(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
	}
	cfg := DefaultConfig()
	cfg.HistoryEpochs = history
	s, err := New(db, params.Minimal(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Advance(testEpoch, testValidators); err != nil {
		t.Fatal(err)
	}
	return s
}

// att builds an unsigned indexed attestation of validators for (src, tgt)
// with block root {root}.
func att(src, tgt types.Epoch, root byte, validators ...uint64) *types.IndexedAttestation {
	return &types.IndexedAttestation{
		CustodyBit0Indices: validators,
		Data: types.AttestationData{
			BeaconBlockRoot: types.Root{root},
			Source:          types.Checkpoint{Epoch: src, Root: types.Root{byte(src)}},
			Target:          types.Checkpoint{Epoch: tgt, Root: types.Root{byte(tgt)}},
		},
	}
}

// checkAttesterSlashing checks as with the spec's process_attester_slashing
// (signatures skipped: the test attestations are unsigned) on the genesis
// state, and that it slashes exactly want.
func checkAttesterSlashing(t testing.TB, as *types.AttesterSlashing, want []uint64) {
	t.Helper()
	g, err := testGenesis()
	if err != nil {
		t.Fatal(err)
	}
	st := g.Copy()
	if err := core.New(params.Minimal()).ProcessAttesterSlashing(st, as, core.SkipSigs); err != nil {
		t.Fatalf("evidence rejected by process_attester_slashing: %v", err)
	}
	got := SlashedIndices(as)
	if len(got) != len(want) {
		t.Fatalf("slashes %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] || !st.Validators[got[i]].Slashed {
			t.Fatalf("slashes %v, want %v", got, want)
		}
	}
}
