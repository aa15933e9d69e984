package core

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	bcore "github.com/shardlab/shardlab/beacon/core"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
)

// Shard committees and proposers (docs/protocol.md §3). shardlab simplifies
// the v0.8.3 phase 1 draft's persistent committees: a shard's committee is
// fixed for SHARD_COMMITTEE_PERIOD epochs and drawn like a crosslink
// committee, from the period's first epoch,
//
//	get_shard_committee(state, shard, epoch):
//	    period_start = epoch - epoch % SHARD_COMMITTEE_PERIOD
//	    return compute_committee(get_active_validator_indices(state, period_start),
//	                             get_seed(state, period_start), shard, SHARD_COUNT)
//
// and the proposer of a slot is sampled from it, weighted by effective
// balance like the beacon proposer:
//
//	get_shard_proposer_index(state, shard, slot):
//	    committee = get_shard_committee(state, shard, compute_epoch_of_slot(slot))
//	    seed = hash(get_seed(state, period_start) + int_to_bytes(slot, 8) + int_to_bytes(shard, 8))
//	    i = 0
//	    while True:
//	        candidate = committee[(bytes_to_int(seed[0:8]) + i) % len(committee)]
//	        random_byte = hash(seed + int_to_bytes(i // 32, length=8))[i % 32]
//	        if (not state.validators[candidate].slashed and
//	                state.validators[candidate].effective_balance * 255 >= MAX_EFFECTIVE_BALANCE * random_byte):
//	            return candidate
//	        i += 1
//
// Unlike the beacon proposer (whose slashed proposers simply miss their
// slot), slashed members are skipped: a shard committee is fixed for a whole
// period and small, and a slashed proposer could otherwise stall its shard.
//
// The beacon state is the one the shard block references, whose epoch is the
// block's epoch or the one before, so the period's seed is always known.

// ShardCommittee is get_shard_committee.
func ShardCommittee(tr *bcore.Transition, s *bt.BeaconState, shard bt.Shard, epoch bt.Epoch) ([]bt.ValidatorIndex, error) {
	cfg := tr.Config()
	if uint64(shard) >= cfg.ShardCount {
		return nil, invalid("shard %d out of range", shard)
	}
	if uint64(epoch) > uint64(tr.CurrentEpoch(s))+1 {
		return nil, invalid("shard committee of epoch %d is beyond the beacon state's next epoch", epoch)
	}
	start := periodStart(cfg.Shard.CommitteePeriod, epoch)
	active := bcore.ActiveValidatorIndices(s, start)
	shuffled := tr.ShuffledIndices(active, tr.Seed(s, start))
	return bcore.ComputeCommittee(shuffled, uint64(shard), cfg.ShardCount)
}

func periodStart(period uint64, e bt.Epoch) bt.Epoch { return e - bt.Epoch(uint64(e)%period) }

// ShardProposerIndex is get_shard_proposer_index.
func ShardProposerIndex(tr *bcore.Transition, s *bt.BeaconState, shard bt.Shard, slot bt.Slot) (bt.ValidatorIndex, error) {
	cfg := tr.Config()
	epoch := bcore.ComputeEpochOfSlot(cfg, slot)
	committee, err := ShardCommittee(tr, s, shard, epoch)
	if err != nil {
		return 0, err
	}
	if len(committee) == 0 {
		return 0, invalid("shard %d has an empty committee in epoch %d (fewer active validators than shards)", shard, epoch)
	}
	base := tr.Seed(s, periodStart(cfg.Shard.CommitteePeriod, epoch))
	var buf [48]byte
	copy(buf[:32], base[:])
	binary.LittleEndian.PutUint64(buf[32:], uint64(slot))
	binary.LittleEndian.PutUint64(buf[40:], uint64(shard))
	seed := hash.Hash(buf[:])
	r := binary.LittleEndian.Uint64(seed[:8])
	var sb [40]byte
	copy(sb[:32], seed[:])
	var rnd [32]byte
	for i := uint64(0); i < 1<<24; i++ {
		if i%32 == 0 {
			binary.LittleEndian.PutUint64(sb[32:], i/32)
			rnd = hash.Hash(sb[:])
		}
		candidate := committee[(r%uint64(len(committee))+i)%uint64(len(committee))]
		if s.Validators[candidate].Slashed {
			continue
		}
		hi1, lo1 := bits.Mul64(uint64(s.Validators[candidate].EffectiveBalance), 255)
		hi2, lo2 := bits.Mul64(cfg.MaxEffectiveBalance, uint64(rnd[i%32]))
		if hi1 > hi2 || (hi1 == hi2 && lo1 >= lo2) {
			return candidate, nil
		}
	}
	return 0, fmt.Errorf("%w: no shard proposer found for shard %d slot %d", bcore.ErrInvalidState, shard, slot)
}
