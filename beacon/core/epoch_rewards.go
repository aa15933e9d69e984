package core

import (
	"fmt"
	"math/bits"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// mulDiv is a*b//c with a 128-bit product, as the spec's unbounded integers
// compute it (c > 0). The quotient fits whenever the spec's result is a valid
// uint64; it is capped otherwise and the balance update then fails.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// deltas accumulates rewards and penalties per validator.
type deltas struct {
	rewards, penalties []uint64
	overflow           bool
}

func newDeltas(n int) *deltas {
	return &deltas{rewards: make([]uint64, n), penalties: make([]uint64, n)}
}

func (d *deltas) reward(i types.ValidatorIndex, v uint64) {
	s, ok := safeAdd(d.rewards[i], v)
	d.overflow = d.overflow || !ok
	d.rewards[i] = s
}

func (d *deltas) penalize(i types.ValidatorIndex, v uint64) {
	s, ok := safeAdd(d.penalties[i], v)
	d.overflow = d.overflow || !ok
	d.penalties[i] = s
}

// baseRewards is get_base_reward for every validator:
//
//	effective_balance * BASE_REWARD_FACTOR // integer_squareroot(total_balance) // BASE_REWARDS_PER_EPOCH
func (c *ctx) baseRewards() []uint64 {
	cfg := c.t.cfg
	sqrt := IntegerSquareroot(uint64(c.totalActiveBalance()))
	out := make([]uint64, len(c.st.Validators))
	for i := range c.st.Validators {
		out[i] = mulDiv(uint64(c.st.Validators[i].EffectiveBalance), cfg.BaseRewardFactor, sqrt) / params.BaseRewardsPerEpoch
	}
	return out
}

// attestationDeltas is get_attestation_deltas.
func (t *Transition) attestationDeltas(c *ctx, base []uint64, d *deltas) error {
	st, cfg := c.st, t.cfg
	prev := c.previous
	total := uint64(c.totalActiveBalance())
	eligible := make([]bool, len(st.Validators))
	for i := range st.Validators {
		v := &st.Validators[i]
		eligible[i] = IsActiveValidator(v, prev) || (v.Slashed && uint64(prev)+1 < uint64(v.WithdrawableEpoch))
	}
	ea, err := c.sourceAttestations(prev)
	if err != nil {
		return err
	}
	source, err := c.unslashedAttesters(ea, func(int) (bool, error) { return true, nil })
	if err != nil {
		return err
	}
	target, err := c.targetAttesters(prev)
	if err != nil {
		return err
	}
	head, err := c.unslashedAttesters(ea, func(i int) (bool, error) {
		slot, err := c.attestationDataSlot(&ea.atts[i].Data)
		if err != nil {
			return false, err
		}
		root, err := t.BlockRootAtSlot(st, slot)
		if err != nil {
			return false, err
		}
		return ea.atts[i].Data.BeaconBlockRoot == root, nil
	})
	if err != nil {
		return err
	}
	// Micro-incentives for matching FFG source, FFG target, and head.
	for _, set := range []*attesterSet{source, target, head} {
		for i := range st.Validators {
			if !eligible[i] {
				continue
			}
			if set.member[i] {
				d.reward(types.ValidatorIndex(i), mulDiv(base[i], uint64(set.balance), total))
			} else {
				d.penalize(types.ValidatorIndex(i), base[i])
			}
		}
	}
	// Proposer and inclusion delay micro-rewards: for each unslashed source
	// attester, the first attestation (in list order) with the smallest delay.
	type inclusion struct {
		delay    types.Slot
		proposer types.ValidatorIndex
		set      bool
	}
	best := make([]inclusion, len(st.Validators))
	for j := range ea.atts {
		a := &ea.atts[j]
		for _, v := range ea.indices[j] {
			if !source.member[v] {
				continue
			}
			if b := &best[v]; !b.set || a.InclusionDelay < b.delay {
				*b = inclusion{delay: a.InclusionDelay, proposer: a.ProposerIndex, set: true}
			}
		}
	}
	for i := range best {
		b := best[i]
		if !b.set {
			continue
		}
		if uint64(b.proposer) >= uint64(len(st.Validators)) {
			return fmt.Errorf("%w: pending attestation names proposer %d out of range", ErrInvalidState, b.proposer)
		}
		if uint64(b.delay) > cfg.SlotsPerEpoch+cfg.MinAttestationInclusionDelay {
			return fmt.Errorf("%w: inclusion delay %d is too large", ErrInvalidState, b.delay)
		}
		pr := base[i] / cfg.ProposerRewardQuotient
		d.reward(b.proposer, pr)
		maxAttester := base[i] - pr
		d.reward(types.ValidatorIndex(i), mulDiv(maxAttester, cfg.SlotsPerEpoch+cfg.MinAttestationInclusionDelay-uint64(b.delay), cfg.SlotsPerEpoch))
	}
	// Inactivity penalty.
	finalized := st.FinalizedCheckpoint.Epoch
	if prev > finalized && uint64(prev-finalized) > cfg.MinEpochsToInactivityPenalty {
		delay := uint64(prev - finalized)
		for i := range st.Validators {
			if !eligible[i] {
				continue
			}
			d.penalize(types.ValidatorIndex(i), params.BaseRewardsPerEpoch*base[i])
			if !target.member[i] {
				d.penalize(types.ValidatorIndex(i), mulDiv(uint64(st.Validators[i].EffectiveBalance), delay, cfg.InactivityPenaltyQuotient))
			}
		}
	}
	return nil
}

// crosslinkDeltas is get_crosslink_deltas.
//
//	epoch = get_previous_epoch(state)
//	for offset in range(get_committee_count(state, epoch)):
//	    shard = Shard((get_start_shard(state, epoch) + offset) % SHARD_COUNT)
//	    crosslink_committee = set(get_crosslink_committee(state, epoch, shard))
//	    winning_crosslink, attesting_indices = get_winning_crosslink_and_attesting_indices(state, epoch, shard)
//	    attesting_balance = get_total_balance(state, attesting_indices)
//	    committee_balance = get_total_balance(state, crosslink_committee)
//	    for index in crosslink_committee:
//	        base_reward = get_base_reward(state, index)
//	        if index in attesting_indices: rewards[index] += base_reward * attesting_balance // committee_balance
//	        else: penalties[index] += base_reward
func (t *Transition) crosslinkDeltas(c *ctx, base []uint64, d *deltas) error {
	st := c.st
	epoch := c.previous
	start, err := c.startShard(epoch)
	if err != nil {
		return err
	}
	count := c.epoch(epoch).count
	attesting := make(map[types.ValidatorIndex]bool)
	for off := uint64(0); off < count; off++ {
		shard := types.Shard((uint64(start) + off) % t.cfg.ShardCount)
		committee, err := c.committee(epoch, shard)
		if err != nil {
			return err
		}
		_, winners, attBal, err := c.winningCrosslink(epoch, shard)
		if err != nil {
			return err
		}
		comBal := uint64(TotalBalance(st, committee))
		clear(attesting)
		for _, v := range winners {
			attesting[v] = true
		}
		for _, v := range committee {
			if attesting[v] {
				d.reward(v, mulDiv(base[v], uint64(attBal), comBal))
			} else {
				d.penalize(v, base[v])
			}
		}
	}
	return nil
}

// processRewardsAndPenalties is process_rewards_and_penalties.
//
//	if get_current_epoch(state) == GENESIS_EPOCH: return
//	rewards1, penalties1 = get_attestation_deltas(state)
//	rewards2, penalties2 = get_crosslink_deltas(state)
//	for index in range(len(state.validators)):
//	    increase_balance(state, ValidatorIndex(index), rewards1[index] + rewards2[index])
//	    decrease_balance(state, ValidatorIndex(index), penalties1[index] + penalties2[index])
func (t *Transition) processRewardsAndPenalties(c *ctx) error {
	st := c.st
	if uint64(c.current) == t.cfg.GenesisEpoch() {
		return nil
	}
	base := c.baseRewards()
	d := newDeltas(len(st.Validators))
	if err := t.attestationDeltas(c, base, d); err != nil {
		return err
	}
	if err := t.crosslinkDeltas(c, base, d); err != nil {
		return err
	}
	if d.overflow {
		return fmt.Errorf("%w: rewards overflow uint64", ErrInvalidState)
	}
	for i := range st.Validators {
		if err := IncreaseBalance(st, types.ValidatorIndex(i), types.Gwei(d.rewards[i])); err != nil {
			return err
		}
		if err := DecreaseBalance(st, types.ValidatorIndex(i), types.Gwei(d.penalties[i])); err != nil {
			return err
		}
	}
	return nil
}
