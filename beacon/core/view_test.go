package core

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// TestStateViewMatchesTransition checks that a StateView, reused for
// every committee of two epochs, answers as the Transition's one-call
// functions do, errors included.
func TestStateViewMatchesTransition(t *testing.T) {
	cfg := params.Minimal()
	tr := New(cfg)
	st := types.NewBeaconState(cfg)
	for range 100 {
		st.Validators = append(st.Validators, types.Validator{EffectiveBalance: 32e9, ExitEpoch: types.FarFutureEpoch, WithdrawableEpoch: types.FarFutureEpoch})
		st.Balances = append(st.Balances, 32e9)
	}
	st.Validators[3].ExitEpoch = 0 // inactive
	st.Slot = 17
	view := tr.NewStateView(st)
	if view.State() != st {
		t.Fatal("view of another state")
	}
	checked := 0
	for _, e := range []types.Epoch{1, 2} {
		ec, err := tr.Committees(st, e)
		if err != nil {
			t.Fatal(err)
		}
		for k, com := range ec.Committees {
			d := types.AttestationData{Target: types.Checkpoint{Epoch: e}, Crosslink: types.Crosslink{Shard: ec.Shards[k]}}
			bits := make([]byte, len(com)/8+1)
			bits[len(com)/8] |= 1 << (len(com) % 8) // the length bit
			for i := 0; i < len(com); i += 2 {
				bits[i/8] |= 1 << (i % 8)
			}
			a := &types.Attestation{AggregationBits: bits, Data: d, CustodyBits: make([]byte, len(bits))}
			a.CustodyBits[len(com)/8] = bits[len(com)/8] & (1 << (len(com) % 8))

			wantSlot, wantErr := tr.AttestationDataSlot(st, &d)
			gotSlot, gotErr := view.AttestationDataSlot(&d)
			if wantSlot != gotSlot || (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("epoch %d shard %d: slot %d, %v; view %d, %v", e, d.Crosslink.Shard, wantSlot, wantErr, gotSlot, gotErr)
			}
			want, wantErr := tr.IndexedAttestation(st, a)
			got, gotErr := view.IndexedAttestation(a)
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("epoch %d shard %d: %v; view %v", e, d.Crosslink.Shard, wantErr, gotErr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("epoch %d shard %d: indexed attestation differs (-transition +view):\n%s", e, d.Crosslink.Shard, diff)
			}
			if want != nil {
				checked++
				werr := tr.IsValidIndexedAttestation(st, want, SkipSigs)
				gerr := view.IsValidIndexedAttestation(got, SkipSigs)
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("epoch %d shard %d: valid %v; view %v", e, d.Crosslink.Shard, werr, gerr)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no attestation was indexed")
	}
}
