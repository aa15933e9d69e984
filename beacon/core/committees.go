package core

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sync"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// shuffling is the whole shuffled active set of one epoch:
// shuffled[i] = active[compute_shuffled_index(i, len(active), seed)].
type shuffling struct {
	seed     types.Root
	active   []types.ValidatorIndex
	shuffled []types.ValidatorIndex
}

// shufflingCache remembers recent shufflings, keyed by seed and checked against
// the exact active set, so a hit is always the spec's answer.
type shufflingCache struct {
	mu      sync.Mutex
	size    int
	entries []*shuffling // most recent last
}

func newShufflingCache(size int) *shufflingCache { return &shufflingCache{size: size} }

func (c *shufflingCache) get(seed types.Root, active []types.ValidatorIndex, rounds uint64) *shuffling {
	c.mu.Lock()
	for i := len(c.entries) - 1; i >= 0; i-- {
		e := c.entries[i]
		if e.seed == seed && slices.Equal(e.active, active) {
			c.mu.Unlock()
			return e
		}
	}
	c.mu.Unlock()
	perm := ShufflePositions(uint32(len(active)), seed, rounds)
	s := &shuffling{seed: seed, active: active, shuffled: make([]types.ValidatorIndex, len(active))}
	for i, p := range perm {
		s.shuffled[i] = active[p]
	}
	c.mu.Lock()
	c.entries = append(c.entries, s)
	if len(c.entries) > c.size {
		c.entries = slices.Delete(c.entries, 0, len(c.entries)-c.size)
	}
	c.mu.Unlock()
	return s
}

// ctx memoises what one call into the transition (a block, an epoch
// transition, a single operation) derives from the state: per-epoch active
// sets, seeds, committee counts and shufflings, the proposer, the total active
// balance. Within one such call the memoised values cannot change: exits and
// activations only take effect ACTIVATION_EXIT_DELAY epochs later, seeds lag
// the RANDAO mix by MIN_SEED_LOOKAHEAD, and effective balances change only in
// the final updates of an epoch, after their last use. A ctx must not outlive
// the call that made it.
type ctx struct {
	t                 *Transition
	st                *types.BeaconState
	current, previous types.Epoch
	epochs            map[types.Epoch]*epochInfo
	proposer          *types.ValidatorIndex
	totalActive       types.Gwei
	pubkeyIndex       map[types.BLSPubkey]types.ValidatorIndex
	attCache          map[types.Epoch]*epochAttestations
	targetCache       map[types.Epoch]*attesterSet
}

type epochInfo struct {
	active    []types.ValidatorIndex
	count     uint64 // get_committee_count
	seed      *types.Root
	shuffling *shuffling
}

func (t *Transition) newCtx(st *types.BeaconState) *ctx {
	return &ctx{
		t:        t,
		st:       st,
		current:  t.currentEpoch(st),
		previous: t.PreviousEpoch(st),
		epochs:   make(map[types.Epoch]*epochInfo, 3),
	}
}

func (c *ctx) epoch(e types.Epoch) *epochInfo {
	if info, ok := c.epochs[e]; ok {
		return info
	}
	cfg := c.t.cfg
	active := ActiveValidatorIndices(c.st, e)
	perSlot := max(1, min(cfg.ShardCount/cfg.SlotsPerEpoch, uint64(len(active))/cfg.SlotsPerEpoch/cfg.TargetCommitteeSize))
	info := &epochInfo{active: active, count: perSlot * cfg.SlotsPerEpoch}
	c.epochs[e] = info
	return info
}

// seed is get_seed.
//
//	mix = get_randao_mix(state, Epoch(epoch + EPOCHS_PER_HISTORICAL_VECTOR - MIN_SEED_LOOKAHEAD - 1))
//	active_index_root = get_active_index_root(state, epoch)
//	return hash(mix + active_index_root + int_to_bytes(epoch, length=32))
func (c *ctx) seed(e types.Epoch) types.Root {
	info := c.epoch(e)
	if info.seed == nil {
		s := c.t.seed(c.st, e)
		info.seed = &s
	}
	return *info.seed
}

func (t *Transition) seed(st *types.BeaconState, e types.Epoch) types.Root {
	cfg := t.cfg
	ephv := cfg.EpochsPerHistoricalVector
	mixEpoch := (uint64(e)%ephv + ephv - cfg.MinSeedLookahead - 1) % ephv
	var buf [96]byte
	copy(buf[:32], st.RandaoMixes[mixEpoch][:])
	copy(buf[32:64], st.ActiveIndexRoots[uint64(e)%ephv][:])
	binary.LittleEndian.PutUint64(buf[64:], uint64(e))
	return hash(buf[:])
}

func (c *ctx) shufflingOf(e types.Epoch) *shuffling {
	info := c.epoch(e)
	if info.shuffling == nil {
		info.shuffling = c.t.shufflings.get(c.seed(e), info.active, c.t.cfg.ShuffleRoundCount)
	}
	return info.shuffling
}

// shardDelta is get_shard_delta.
func (c *ctx) shardDelta(e types.Epoch) uint64 {
	cfg := c.t.cfg
	return min(c.epoch(e).count, cfg.ShardCount-cfg.ShardCount/cfg.SlotsPerEpoch)
}

// startShard is get_start_shard.
//
//	assert epoch <= get_current_epoch(state) + 1
//	check_epoch = Epoch(get_current_epoch(state) + 1)
//	shard = Shard((state.start_shard + get_shard_delta(state, get_current_epoch(state))) % SHARD_COUNT)
//	while check_epoch > epoch:
//	    check_epoch -= Epoch(1)
//	    shard = Shard((shard + SHARD_COUNT - get_shard_delta(state, check_epoch)) % SHARD_COUNT)
//	return shard
func (c *ctx) startShard(e types.Epoch) (types.Shard, error) {
	sc := c.t.cfg.ShardCount
	if e > c.current+1 {
		return 0, fmt.Errorf("%w: start shard of epoch %d is beyond the next epoch %d", ErrInvalidState, e, c.current+1)
	}
	check := c.current + 1
	shard := (uint64(c.st.StartShard) + c.shardDelta(c.current)) % sc
	for check > e {
		check--
		shard = (shard + sc - c.shardDelta(check)) % sc
	}
	return types.Shard(shard), nil
}

// committee is get_crosslink_committee.
func (c *ctx) committee(e types.Epoch, shard types.Shard) ([]types.ValidatorIndex, error) {
	sc := c.t.cfg.ShardCount
	if uint64(shard) >= sc {
		return nil, fmt.Errorf("%w: shard %d >= SHARD_COUNT %d", ErrInvalidState, shard, sc)
	}
	start, err := c.startShard(e)
	if err != nil {
		return nil, err
	}
	index := (uint64(shard) + sc - uint64(start)) % sc
	return ComputeCommittee(c.shufflingOf(e).shuffled, index, c.epoch(e).count)
}

// proposerIndex is get_beacon_proposer_index.
//
//	epoch = get_current_epoch(state)
//	committees_per_slot = get_committee_count(state, epoch) // SLOTS_PER_EPOCH
//	offset = committees_per_slot * (state.slot % SLOTS_PER_EPOCH)
//	shard = Shard((get_start_shard(state, epoch) + offset) % SHARD_COUNT)
//	first_committee = get_crosslink_committee(state, epoch, shard)
//	MAX_RANDOM_BYTE = 2**8 - 1
//	seed = get_seed(state, epoch)
//	i = 0
//	while True:
//	    candidate_index = first_committee[(epoch + i) % len(first_committee)]
//	    random_byte = hash(seed + int_to_bytes(i // 32, length=8))[i % 32]
//	    effective_balance = state.validators[candidate_index].effective_balance
//	    if effective_balance * MAX_RANDOM_BYTE >= MAX_EFFECTIVE_BALANCE * random_byte:
//	        return ValidatorIndex(candidate_index)
//	    i += 1
func (c *ctx) proposerIndex() (types.ValidatorIndex, error) {
	if c.proposer != nil {
		return *c.proposer, nil
	}
	cfg := c.t.cfg
	e := c.current
	perSlot := c.epoch(e).count / cfg.SlotsPerEpoch
	offset := perSlot * (uint64(c.st.Slot) % cfg.SlotsPerEpoch)
	start, err := c.startShard(e)
	if err != nil {
		return 0, err
	}
	first, err := c.committee(e, types.Shard((uint64(start)+offset)%cfg.ShardCount))
	if err != nil {
		return 0, err
	}
	if len(first) == 0 {
		return 0, fmt.Errorf("%w: no proposer: the first committee of slot %d is empty", ErrInvalidState, c.st.Slot)
	}
	seed := c.seed(e)
	var buf [40]byte
	copy(buf[:32], seed[:])
	var h types.Root
	const maxRandomByte = 255
	// The loop ends as soon as a random byte is small enough; with every
	// candidate at zero effective balance that takes a zero byte, which occurs
	// once in 256 bytes on average. The bound only guards hostile states.
	for i := uint64(0); i < 1<<24; i++ {
		if i%32 == 0 {
			binary.LittleEndian.PutUint64(buf[32:], i/32)
			h = hash(buf[:])
		}
		candidate := first[(uint64(e)+i)%uint64(len(first))]
		eff := uint64(c.st.Validators[candidate].EffectiveBalance)
		hi1, lo1 := bits.Mul64(eff, maxRandomByte)
		hi2, lo2 := bits.Mul64(cfg.MaxEffectiveBalance, uint64(h[i%32]))
		if hi1 > hi2 || (hi1 == hi2 && lo1 >= lo2) {
			c.proposer = &candidate
			return candidate, nil
		}
	}
	return 0, fmt.Errorf("%w: no proposer found for slot %d", ErrInvalidState, c.st.Slot)
}

// totalActiveBalance is get_total_active_balance.
func (c *ctx) totalActiveBalance() types.Gwei {
	if c.totalActive == 0 {
		c.totalActive = TotalBalance(c.st, c.epoch(c.current).active)
	}
	return c.totalActive
}

func (c *ctx) churnLimit() (uint64, error) {
	return c.t.churnLimit(uint64(len(c.epoch(c.current).active))), nil
}

// attestationDataSlot is get_attestation_data_slot.
//
//	committee_count = get_committee_count(state, data.target.epoch)
//	offset = (data.crosslink.shard + SHARD_COUNT - get_start_shard(state, data.target.epoch)) % SHARD_COUNT
//	return Slot(compute_start_slot_of_epoch(data.target.epoch) + offset // (committee_count // SLOTS_PER_EPOCH))
func (c *ctx) attestationDataSlot(d *types.AttestationData) (types.Slot, error) {
	cfg := c.t.cfg
	e := d.Target.Epoch
	start, err := c.startShard(e)
	if err != nil {
		return 0, err
	}
	sc := cfg.ShardCount
	offset := (uint64(d.Crosslink.Shard)%sc + sc - uint64(start)) % sc
	perSlot := c.epoch(e).count / cfg.SlotsPerEpoch
	return ComputeStartSlotOfEpoch(cfg, e) + types.Slot(offset/perSlot), nil
}

// attestingIndices is get_attesting_indices (in committee order, which is
// what the callers need; the spec returns a set).
func (c *ctx) attestingIndices(d *types.AttestationData, bits []byte) ([]types.ValidatorIndex, error) {
	committee, err := c.committee(d.Target.Epoch, d.Crosslink.Shard)
	if err != nil {
		return nil, err
	}
	if bitlistLen(bits) < len(committee) {
		return nil, fmt.Errorf("%w: bitlist of %d bits for a committee of %d", ErrInvalidOperation, bitlistLen(bits), len(committee))
	}
	out := make([]types.ValidatorIndex, 0, len(committee))
	for i, v := range committee {
		if bits[i/8]>>(i%8)&1 == 1 {
			out = append(out, v)
		}
	}
	return out, nil
}

// Exported forms of the committee helpers, for validators, the fork choice,
// the simulator and the spec tests. Each builds a fresh context.

// CommitteeCount is get_committee_count.
func (t *Transition) CommitteeCount(st *types.BeaconState, epoch types.Epoch) uint64 {
	return t.newCtx(st).epoch(epoch).count
}

// ShardDelta is get_shard_delta.
func (t *Transition) ShardDelta(st *types.BeaconState, epoch types.Epoch) uint64 {
	return t.newCtx(st).shardDelta(epoch)
}

// StartShard is get_start_shard.
func (t *Transition) StartShard(st *types.BeaconState, epoch types.Epoch) (types.Shard, error) {
	return t.newCtx(st).startShard(epoch)
}

// Seed is get_seed.
func (t *Transition) Seed(st *types.BeaconState, epoch types.Epoch) types.Root {
	return t.seed(st, epoch)
}

// CrosslinkCommittee is get_crosslink_committee.
func (t *Transition) CrosslinkCommittee(st *types.BeaconState, epoch types.Epoch, shard types.Shard) ([]types.ValidatorIndex, error) {
	return t.newCtx(st).committee(epoch, shard)
}

// BeaconProposerIndex is get_beacon_proposer_index for st.Slot.
func (t *Transition) BeaconProposerIndex(st *types.BeaconState) (types.ValidatorIndex, error) {
	return t.newCtx(st).proposerIndex()
}

// AttestationDataSlot is get_attestation_data_slot.
func (t *Transition) AttestationDataSlot(st *types.BeaconState, d *types.AttestationData) (types.Slot, error) {
	return t.newCtx(st).attestationDataSlot(d)
}

// AttestingIndices is get_attesting_indices, in committee order.
func (t *Transition) AttestingIndices(st *types.BeaconState, d *types.AttestationData, bits []byte) ([]types.ValidatorIndex, error) {
	return t.newCtx(st).attestingIndices(d, bits)
}

// TotalActiveBalance is get_total_active_balance.
func (t *Transition) TotalActiveBalance(st *types.BeaconState) types.Gwei {
	return t.newCtx(st).totalActiveBalance()
}

// CommitteeAssignment is get_committee_assignment of the validator guide:
// the committee, shard and slot at which validator attests in epoch (which
// must be at most the next epoch), or ok == false if it has none.
func (t *Transition) CommitteeAssignment(st *types.BeaconState, epoch types.Epoch, validator types.ValidatorIndex) (committee []types.ValidatorIndex, shard types.Shard, slot types.Slot, ok bool, err error) {
	c := t.newCtx(st)
	if epoch > c.current+1 {
		return nil, 0, 0, false, fmt.Errorf("%w: assignment of epoch %d is beyond the next epoch", ErrInvalidState, epoch)
	}
	cfg := t.cfg
	perSlot := c.epoch(epoch).count / cfg.SlotsPerEpoch
	start, err := c.startShard(epoch)
	if err != nil {
		return nil, 0, 0, false, err
	}
	first := ComputeStartSlotOfEpoch(cfg, epoch)
	for s := uint64(0); s < cfg.SlotsPerEpoch; s++ {
		for i := uint64(0); i < perSlot; i++ {
			sh := types.Shard((uint64(start) + perSlot*s + i) % cfg.ShardCount)
			com, err := c.committee(epoch, sh)
			if err != nil {
				return nil, 0, 0, false, err
			}
			if slices.Contains(com, validator) {
				return com, sh, first + types.Slot(s), true, nil
			}
		}
	}
	return nil, 0, 0, false, nil
}

// EpochCommittees are all the crosslink committees of one epoch, computed
// with one pass over the registry (CrosslinkCommittee scans it on every call).
type EpochCommittees struct {
	Epoch      types.Epoch
	StartShard types.Shard
	// Count is get_committee_count: committees in the epoch, PerSlot of them per slot.
	Count, PerSlot uint64
	// Shards[k] is the shard of committee k; committee k attests at slot
	// start_slot(epoch) + k / PerSlot.
	Shards     []types.Shard
	Committees [][]types.ValidatorIndex
}

// Committees returns the committees of epoch (at most the next epoch).
func (t *Transition) Committees(st *types.BeaconState, epoch types.Epoch) (*EpochCommittees, error) {
	c := t.newCtx(st)
	start, err := c.startShard(epoch)
	if err != nil {
		return nil, err
	}
	info := c.epoch(epoch)
	ec := &EpochCommittees{Epoch: epoch, StartShard: start, Count: info.count, PerSlot: info.count / t.cfg.SlotsPerEpoch}
	for k := uint64(0); k < info.count; k++ {
		shard := types.Shard((uint64(start) + k) % t.cfg.ShardCount)
		com, err := c.committee(epoch, shard)
		if err != nil {
			return nil, err
		}
		ec.Shards = append(ec.Shards, shard)
		ec.Committees = append(ec.Committees, com)
	}
	return ec, nil
}

// Slot returns the slot at which committee k attests.
func (ec *EpochCommittees) Slot(cfg *params.Config, k int) types.Slot {
	return ComputeStartSlotOfEpoch(cfg, ec.Epoch) + types.Slot(uint64(k)/ec.PerSlot)
}

// ShuffledIndices returns active shuffled with seed (shuffled[i] =
// active[compute_shuffled_index(i, len(active), seed)]), through the
// transition's cache. The result must not be modified.
func (t *Transition) ShuffledIndices(active []types.ValidatorIndex, seed types.Root) []types.ValidatorIndex {
	return t.shufflings.get(seed, active, t.cfg.ShuffleRoundCount).shuffled
}
