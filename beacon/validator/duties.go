package validator

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// SlotCommittee is one crosslink committee attesting at a slot.
type SlotCommittee struct {
	Shard     types.Shard
	Committee []types.ValidatorIndex
}

// SlotCommittees returns the committees that attest at slot, in shard order
// of the epoch (get_start_shard onwards), as get_committee_assignment scans
// them. The epoch of slot must be at most the one after st's.
//
//	committees_per_slot = get_committee_count(state, epoch) // SLOTS_PER_EPOCH
//	for offset in range(committees_per_slot):
//	    shard = (committees_per_slot * (slot % SLOTS_PER_EPOCH) + offset + get_start_shard(state, epoch)) % SHARD_COUNT
//	    committee = get_crosslink_committee(state, epoch, shard)
func SlotCommittees(tr *core.Transition, st *types.BeaconState, slot types.Slot) ([]SlotCommittee, error) {
	cfg := tr.Config()
	epoch := core.ComputeEpochOfSlot(cfg, slot)
	start, err := tr.StartShard(st, epoch)
	if err != nil {
		return nil, fmt.Errorf("list committees of slot %d: %w", slot, err)
	}
	perSlot := tr.CommitteeCount(st, epoch) / cfg.SlotsPerEpoch
	out := make([]SlotCommittee, 0, perSlot)
	for i := range perSlot {
		shard := types.Shard((uint64(start) + perSlot*(uint64(slot)%cfg.SlotsPerEpoch) + i) % cfg.ShardCount)
		com, err := tr.CrosslinkCommittee(st, epoch, shard)
		if err != nil {
			return nil, fmt.Errorf("list committees of slot %d: %w", slot, err)
		}
		out = append(out, SlotCommittee{Shard: shard, Committee: com})
	}
	return out, nil
}
