package core

import "github.com/shardlab/shardlab/beacon/types"

// PreviousEpochParticipation is the share of the previous epoch's active
// balance (effective balances) whose attestations in st's
// previous_epoch_attestations name the previous epoch as their target,
// counting each validator once. It is an observation for the simulator's
// and the scenario runner's reports, not a spec function: the spec weighs
// matching-target attestations of unslashed validators in
// process_justification_and_finalization. 0 in epoch 0 or without an
// active balance.
func (t *Transition) PreviousEpochParticipation(st *types.BeaconState) float64 {
	cur := ComputeEpochOfSlot(t.cfg, st.Slot)
	if cur == 0 {
		return 0
	}
	prev := cur - 1
	var total, voted uint64
	for _, v := range st.Validators {
		if v.ActivationEpoch <= prev && prev < v.ExitEpoch {
			total += uint64(v.EffectiveBalance)
		}
	}
	attesters := make(map[types.ValidatorIndex]bool)
	for _, a := range st.PreviousEpochAttestations {
		if a.Data.Target.Epoch != prev {
			continue
		}
		idx, err := t.AttestingIndices(st, &a.Data, a.AggregationBits)
		if err != nil {
			continue
		}
		for _, v := range idx {
			attesters[v] = true
		}
	}
	for v := range attesters {
		voted += uint64(st.Validators[v].EffectiveBalance)
	}
	if total == 0 {
		return 0
	}
	return float64(voted) / float64(total)
}
