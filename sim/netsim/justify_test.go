package netsim

import (
	"testing"

	"github.com/shardlab/shardlab/beacon/types"
)

// TestGenesisSlotAttested checks that the validators attest at slot 0 as a
// real node does (beacon/node's slot loop runs slot 0's duties): once node
// 0's head is in epoch 1, the previous-epoch attestations of its state
// cover every validator, slot 0's committee included.
func TestGenesisSlotAttested(t *testing.T) {
	t.Parallel()
	s := newSim(t, testConfig(1, 2))
	s.RunSlots(9)
	st, _ := s.Status(0)
	if st.HeadSlot < 8 {
		t.Fatalf("head slot %d, want one in epoch 1", st.HeadSlot)
	}
	if st.Participation != 1 {
		t.Fatalf("epoch 0 target participation %.3f, want 1 (every validator attested, slot 0 too)", st.Participation)
	}
}

// TestJustificationQuarterOffline pins down the justification lag with a
// quarter of the stake offline (node 3 held from genesis; see
// docs/simulator.md, "Justification with a quarter offline"). Every online
// validator's vote reaches the state: at the end of each epoch e the
// previous-epoch attestations hold all 48 online validators. The current
// epoch's hold at most the first 7 slots' votes (the last slot's are
// included from the next slot on, after the transition), 42 or fewer, below
// the 43 of 64 needed, so the transition at the first block of epoch e
// justifies e-1 (by the previous-epoch votes), never e.
func TestJustificationQuarterOffline(t *testing.T) {
	t.Parallel()
	s := newSim(t, testConfig(1, 6))
	if err := s.Hold(3); err != nil {
		t.Fatal(err)
	}
	spe := types.Slot(s.pcfg.SlotsPerEpoch)
	for epoch := types.Epoch(2); epoch <= 5; epoch++ {
		s.RunSlots(types.Slot(epoch)*spe + spe - 1)
		st, _ := s.Status(0)
		hs, _ := s.HeadState(0)
		prev, cur := votes(t, s, hs, hs.PreviousEpochAttestations), votes(t, s, hs, hs.CurrentEpochAttestations)
		if prev != 48 || cur > 42 {
			t.Errorf("end of epoch %d: %d votes of epoch %d and %d of epoch %d in the state, want 48 and at most 42", epoch, prev, epoch-1, cur, epoch)
		}
		if st.Justified != epoch-2 {
			t.Errorf("end of epoch %d: justified %d, want %d", epoch, st.Justified, epoch-2)
		}
	}
}

// votes counts the validators attesting in atts.
func votes(t *testing.T, s *Sim, st *types.BeaconState, atts []types.PendingAttestation) int {
	t.Helper()
	seen := make(map[types.ValidatorIndex]bool)
	for _, a := range atts {
		idx, err := s.tr.AttestingIndices(st, &a.Data, a.AggregationBits)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range idx {
			seen[v] = true
		}
	}
	return len(seen)
}
