package core

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/shardlab/shardlab/beacon/types"
)

// processRegistryUpdates is process_registry_updates.
//
//	for index, validator in enumerate(state.validators):
//	    if validator.activation_eligibility_epoch == FAR_FUTURE_EPOCH and validator.effective_balance == MAX_EFFECTIVE_BALANCE:
//	        validator.activation_eligibility_epoch = get_current_epoch(state)
//	    if is_active_validator(validator, get_current_epoch(state)) and validator.effective_balance <= EJECTION_BALANCE:
//	        initiate_validator_exit(state, ValidatorIndex(index))
//	activation_queue = sorted([index for index, validator in enumerate(state.validators)
//	    if validator.activation_eligibility_epoch != FAR_FUTURE_EPOCH
//	    and validator.activation_epoch >= compute_activation_exit_epoch(state.finalized_checkpoint.epoch)
//	], key=lambda index: state.validators[index].activation_eligibility_epoch)
//	for index in activation_queue[:get_validator_churn_limit(state)]:
//	    validator = state.validators[index]
//	    if validator.activation_epoch == FAR_FUTURE_EPOCH:
//	        validator.activation_epoch = compute_activation_exit_epoch(get_current_epoch(state))
func (t *Transition) processRegistryUpdates(c *ctx) error {
	st, cfg := c.st, t.cfg
	for i := range st.Validators {
		v := &st.Validators[i]
		if v.ActivationEligibilityEpoch == types.FarFutureEpoch && uint64(v.EffectiveBalance) == cfg.MaxEffectiveBalance {
			v.ActivationEligibilityEpoch = c.current
		}
		if IsActiveValidator(v, c.current) && uint64(v.EffectiveBalance) <= cfg.EjectionBalance {
			if err := t.initiateExit(c, types.ValidatorIndex(i)); err != nil {
				return err
			}
		}
	}
	threshold := ComputeActivationExitEpoch(cfg, st.FinalizedCheckpoint.Epoch)
	var queue []types.ValidatorIndex
	for i := range st.Validators {
		v := &st.Validators[i]
		if v.ActivationEligibilityEpoch != types.FarFutureEpoch && v.ActivationEpoch >= threshold {
			queue = append(queue, types.ValidatorIndex(i))
		}
	}
	slices.SortStableFunc(queue, func(a, b types.ValidatorIndex) int {
		ea, eb := st.Validators[a].ActivationEligibilityEpoch, st.Validators[b].ActivationEligibilityEpoch
		switch {
		case ea < eb:
			return -1
		case ea > eb:
			return 1
		}
		return 0
	})
	limit, err := c.churnLimit()
	if err != nil {
		return err
	}
	if uint64(len(queue)) > limit {
		queue = queue[:limit]
	}
	for _, i := range queue {
		v := &st.Validators[i]
		if v.ActivationEpoch == types.FarFutureEpoch {
			v.ActivationEpoch = ComputeActivationExitEpoch(cfg, c.current)
		}
	}
	return nil
}

// processSlashings is process_slashings.
//
//	epoch = get_current_epoch(state)
//	total_balance = get_total_active_balance(state)
//	for index, validator in enumerate(state.validators):
//	    if validator.slashed and epoch + EPOCHS_PER_SLASHINGS_VECTOR // 2 == validator.withdrawable_epoch:
//	        increment = EFFECTIVE_BALANCE_INCREMENT
//	        penalty_numerator = validator.effective_balance // increment * min(sum(state.slashings) * 3, total_balance)
//	        penalty = penalty_numerator // total_balance * increment
//	        decrease_balance(state, ValidatorIndex(index), penalty)
func (t *Transition) processSlashings(c *ctx) error {
	st, cfg := c.st, t.cfg
	total := uint64(c.totalActiveBalance())
	var sum uint64
	overflow := false
	for _, s := range st.Slashings {
		var ok bool
		sum, ok = safeAdd(sum, uint64(s))
		overflow = overflow || !ok
	}
	capped := total
	if !overflow {
		if hi, lo := bits.Mul64(sum, 3); hi == 0 && lo < total {
			capped = lo
		}
	}
	inc := cfg.EffectiveBalanceIncrement
	target := uint64(c.current) + cfg.EpochsPerSlashingsVector/2
	for i := range st.Validators {
		v := &st.Validators[i]
		if v.Slashed && target == uint64(v.WithdrawableEpoch) {
			penalty := mulDiv(uint64(v.EffectiveBalance)/inc, capped, total) * inc
			if err := DecreaseBalance(st, types.ValidatorIndex(i), types.Gwei(penalty)); err != nil {
				return err
			}
		}
	}
	return nil
}

// processFinalUpdates is process_final_updates.
//
//	if (state.slot + 1) % SLOTS_PER_ETH1_VOTING_PERIOD == 0: state.eth1_data_votes = []
//	for index, validator in enumerate(state.validators):   # effective balances with hysteresis
//	    balance = state.balances[index]
//	    HALF_INCREMENT = EFFECTIVE_BALANCE_INCREMENT // 2
//	    if balance < validator.effective_balance or validator.effective_balance + 3 * HALF_INCREMENT < balance:
//	        validator.effective_balance = min(balance - balance % EFFECTIVE_BALANCE_INCREMENT, MAX_EFFECTIVE_BALANCE)
//	index_epoch = Epoch(next_epoch + ACTIVATION_EXIT_DELAY)
//	state.active_index_roots[index_epoch % EPOCHS_PER_HISTORICAL_VECTOR] = hash_tree_root(List[ValidatorIndex, VALIDATOR_REGISTRY_LIMIT](get_active_validator_indices(state, index_epoch)))
//	state.compact_committees_roots[next_epoch % EPOCHS_PER_HISTORICAL_VECTOR] = get_compact_committees_root(state, next_epoch)
//	state.slashings[next_epoch % EPOCHS_PER_SLASHINGS_VECTOR] = Gwei(0)
//	state.randao_mixes[next_epoch % EPOCHS_PER_HISTORICAL_VECTOR] = get_randao_mix(state, current_epoch)
//	if next_epoch % (SLOTS_PER_HISTORICAL_ROOT // SLOTS_PER_EPOCH) == 0:
//	    state.historical_roots.append(hash_tree_root(HistoricalBatch(block_roots=state.block_roots, state_roots=state.state_roots)))
//	state.start_shard = Shard((state.start_shard + get_shard_delta(state, current_epoch)) % SHARD_COUNT)
//	state.previous_epoch_attestations = state.current_epoch_attestations
//	state.current_epoch_attestations = []
func (t *Transition) processFinalUpdates(c *ctx) error {
	st, cfg := c.st, t.cfg
	cur := c.current
	next := cur + 1
	if (uint64(st.Slot)+1)%cfg.SlotsPerEth1VotingPeriod == 0 {
		st.Eth1DataVotes = nil
	}
	inc := types.Gwei(cfg.EffectiveBalanceIncrement)
	half := inc / 2
	for i := range st.Validators {
		v := &st.Validators[i]
		b := st.Balances[i]
		if b < v.EffectiveBalance || uint64(v.EffectiveBalance)+3*uint64(half) < uint64(b) {
			v.EffectiveBalance = min(b-b%inc, types.Gwei(cfg.MaxEffectiveBalance))
		}
	}
	ephv := cfg.EpochsPerHistoricalVector
	indexEpoch := next + types.Epoch(cfg.ActivationExitDelay)
	st.ActiveIndexRoots[uint64(indexEpoch)%ephv] = t.activeIndexRoot(ActiveValidatorIndices(st, indexEpoch))
	// The effective balances just changed; the compact committees must see them.
	root, err := t.compactCommitteesRoot(c, next)
	if err != nil {
		return err
	}
	st.CompactCommitteesRoots[uint64(next)%ephv] = root
	st.Slashings[uint64(next)%cfg.EpochsPerSlashingsVector] = 0
	st.RandaoMixes[uint64(next)%ephv] = t.RandaoMix(st, cur)
	if uint64(next)%(cfg.SlotsPerHistoricalRoot/cfg.SlotsPerEpoch) == 0 {
		batch := types.HistoricalBatch{BlockRoots: st.BlockRoots, StateRoots: st.StateRoots}
		r, err := batch.HashTreeRoot()
		if err != nil {
			return err
		}
		if uint64(len(st.HistoricalRoots)) >= cfg.HistoricalRootsLimit {
			return fmt.Errorf("%w: historical_roots is full", ErrInvalidState)
		}
		st.HistoricalRoots = append(st.HistoricalRoots, r)
	}
	st.StartShard = types.Shard((uint64(st.StartShard) + c.shardDelta(cur)) % cfg.ShardCount)
	st.PreviousEpochAttestations = st.CurrentEpochAttestations
	st.CurrentEpochAttestations = nil
	return nil
}

// activeIndexRoot is hash_tree_root(List[ValidatorIndex, VALIDATOR_REGISTRY_LIMIT](indices)).
func (t *Transition) activeIndexRoot(indices []types.ValidatorIndex) types.Root {
	chunks := make([]types.Root, (len(indices)+3)/4)
	for i, v := range indices {
		binary.LittleEndian.PutUint64(chunks[i/4][8*(i%4):], uint64(v))
	}
	limit := (t.cfg.ValidatorRegistryLimit*8 + 31) / 32
	return mixInLength(merkleize(chunks, limit), uint64(len(indices)))
}

// compactCommitteesRoot is get_compact_committees_root.
//
//	committees = [CompactCommittee() for _ in range(SHARD_COUNT)]
//	start_shard = get_start_shard(state, epoch)
//	for committee_number in range(get_committee_count(state, epoch)):
//	    shard = Shard((start_shard + committee_number) % SHARD_COUNT)
//	    for index in get_crosslink_committee(state, epoch, shard):
//	        validator = state.validators[index]
//	        committees[shard].pubkeys.append(validator.pubkey)
//	        compact_balance = validator.effective_balance // EFFECTIVE_BALANCE_INCREMENT
//	        compact_validator = uint64((index << 16) + (validator.slashed << 15) + compact_balance)
//	        committees[shard].compact_validators.append(compact_validator)
//	return hash_tree_root(Vector[CompactCommittee, SHARD_COUNT](committees))
func (t *Transition) compactCommitteesRoot(c *ctx, epoch types.Epoch) (types.Root, error) {
	cfg := t.cfg
	st := c.st
	committees := make([]types.CompactCommittee, cfg.ShardCount)
	start, err := c.startShard(epoch)
	if err != nil {
		return types.Root{}, err
	}
	count := c.epoch(epoch).count
	for n := uint64(0); n < count; n++ {
		shard := (uint64(start) + n) % cfg.ShardCount
		members, err := c.committee(epoch, types.Shard(shard))
		if err != nil {
			return types.Root{}, err
		}
		cc := &committees[shard]
		for _, i := range members {
			v := &st.Validators[i]
			cc.Pubkeys = append(cc.Pubkeys, v.Pubkey)
			compact := uint64(i)<<16 + uint64(v.EffectiveBalance)/cfg.EffectiveBalanceIncrement
			if v.Slashed {
				compact += 1 << 15
			}
			cc.CompactValidators = append(cc.CompactValidators, compact)
		}
	}
	roots := make([]types.Root, len(committees))
	for i := range committees {
		r, err := compactCommitteeRoot(&committees[i])
		if err != nil {
			return types.Root{}, err
		}
		roots[i] = r
	}
	return merkleize(roots, uint64(len(roots))), nil
}

// compactCommitteeRoot hashes a CompactCommittee. An empty one (most shards
// when there are few validators) has a fixed root, computed once.
func compactCommitteeRoot(cc *types.CompactCommittee) (types.Root, error) {
	if len(cc.Pubkeys) == 0 && len(cc.CompactValidators) == 0 {
		return emptyCompactCommitteeRoot, nil
	}
	r, err := cc.HashTreeRoot()
	return types.Root(r), err
}

var emptyCompactCommitteeRoot = func() types.Root {
	var cc types.CompactCommittee
	r, err := cc.HashTreeRoot()
	if err != nil {
		panic(err)
	}
	return r
}()
