package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
)

// ProcessEpoch is process_epoch.
//
//	process_justification_and_finalization(state)
//	process_crosslinks(state)
//	process_rewards_and_penalties(state)
//	process_registry_updates(state)
//	process_slashings(state)
//	process_final_updates(state)
//
// One context is shared by the steps, so committees, attesting sets and
// balances are derived once per epoch transition.
func (t *Transition) ProcessEpoch(st *types.BeaconState) error {
	c := t.newCtx(st)
	steps := []struct {
		name string
		fn   func(*ctx) error
	}{
		{"justification and finalization", t.processJustificationAndFinalization},
		{"crosslinks", t.processCrosslinks},
		{"rewards and penalties", t.processRewardsAndPenalties},
		{"registry updates", t.processRegistryUpdates},
		{"slashings", t.processSlashings},
		{"final updates", t.processFinalUpdates},
	}
	for _, s := range steps {
		if err := s.fn(c); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// Each step is also exported on its own, as the spec's epoch-processing
// vectors run them one at a time.

// ProcessJustificationAndFinalization is process_justification_and_finalization.
func (t *Transition) ProcessJustificationAndFinalization(st *types.BeaconState) error {
	return t.processJustificationAndFinalization(t.newCtx(st))
}

// ProcessCrosslinks is process_crosslinks.
func (t *Transition) ProcessCrosslinks(st *types.BeaconState) error {
	return t.processCrosslinks(t.newCtx(st))
}

// ProcessRewardsAndPenalties is process_rewards_and_penalties.
func (t *Transition) ProcessRewardsAndPenalties(st *types.BeaconState) error {
	return t.processRewardsAndPenalties(t.newCtx(st))
}

// ProcessRegistryUpdates is process_registry_updates.
func (t *Transition) ProcessRegistryUpdates(st *types.BeaconState) error {
	return t.processRegistryUpdates(t.newCtx(st))
}

// ProcessSlashings is process_slashings.
func (t *Transition) ProcessSlashings(st *types.BeaconState) error {
	return t.processSlashings(t.newCtx(st))
}

// ProcessFinalUpdates is process_final_updates.
func (t *Transition) ProcessFinalUpdates(st *types.BeaconState) error {
	return t.processFinalUpdates(t.newCtx(st))
}

// epochAttestations holds the pending attestations of one epoch
// (get_matching_source_attestations) with their attesting indices.
type epochAttestations struct {
	atts    []types.PendingAttestation
	indices [][]types.ValidatorIndex
	byShard map[types.Shard][]int // positions of the attestations of each shard, in order
}

// sourceAttestations is get_matching_source_attestations plus the attesting
// indices of each attestation, memoised in the context.
func (c *ctx) sourceAttestations(epoch types.Epoch) (*epochAttestations, error) {
	if epoch != c.previous && epoch != c.current {
		return nil, fmt.Errorf("%w: matching attestations of epoch %d requested at epoch %d", ErrInvalidState, epoch, c.current)
	}
	if c.attCache == nil {
		c.attCache = make(map[types.Epoch]*epochAttestations, 2)
	}
	if ea, ok := c.attCache[epoch]; ok {
		return ea, nil
	}
	atts := c.st.PreviousEpochAttestations
	if epoch == c.current {
		atts = c.st.CurrentEpochAttestations
	}
	ea := &epochAttestations{atts: atts, indices: make([][]types.ValidatorIndex, len(atts)), byShard: make(map[types.Shard][]int)}
	for i := range atts {
		ea.byShard[atts[i].Data.Crosslink.Shard] = append(ea.byShard[atts[i].Data.Crosslink.Shard], i)
		idx, err := c.attestingIndices(&atts[i].Data, atts[i].AggregationBits)
		if err != nil {
			return nil, fmt.Errorf("pending attestation %d: %w", i, err)
		}
		ea.indices[i] = idx
	}
	c.attCache[epoch] = ea
	return ea, nil
}

// attesterSet is get_unslashed_attesting_indices over a selection of
// attestations, as a membership vector over the registry plus its balance.
type attesterSet struct {
	member  []bool
	balance types.Gwei // get_total_balance of the set (at least 1)
}

func (c *ctx) unslashedAttesters(ea *epochAttestations, keep func(i int) (bool, error)) (*attesterSet, error) {
	st := c.st
	s := &attesterSet{member: make([]bool, len(st.Validators))}
	var sum types.Gwei
	for i := range ea.atts {
		ok, err := keep(i)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		for _, v := range ea.indices[i] {
			if !s.member[v] && !st.Validators[v].Slashed {
				s.member[v] = true
				sum += st.Validators[v].EffectiveBalance
			}
		}
	}
	s.balance = max(sum, 1)
	return s, nil
}

// targetAttesters is the unslashed attesting set of
// get_matching_target_attestations(state, epoch).
func (c *ctx) targetAttesters(epoch types.Epoch) (*attesterSet, error) {
	if c.targetCache == nil {
		c.targetCache = make(map[types.Epoch]*attesterSet, 2)
	}
	if s, ok := c.targetCache[epoch]; ok {
		return s, nil
	}
	ea, err := c.sourceAttestations(epoch)
	if err != nil {
		return nil, err
	}
	root, err := c.t.BlockRoot(c.st, epoch)
	if err != nil {
		return nil, err
	}
	s, err := c.unslashedAttesters(ea, func(i int) (bool, error) { return ea.atts[i].Data.Target.Root == root, nil })
	if err != nil {
		return nil, err
	}
	c.targetCache[epoch] = s
	return s, nil
}
