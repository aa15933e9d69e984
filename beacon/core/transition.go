package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// Transition runs the state transition for one config. It owns value caches
// that are valid across states and forks because they are keyed by their exact
// inputs: shufflings (by seed and active set) and decompressed public keys.
// A Transition is safe for concurrent use; the states it is given are not.
type Transition struct {
	cfg        *params.Config
	shufflings *shufflingCache
	pubkeys    *bls.PubkeyCache
	shardFork  ShardFork // nil: fraud proofs cannot be verified
}

// New returns a Transition for cfg, which must be valid and is not modified.
func New(cfg *params.Config) *Transition {
	return &Transition{
		cfg:        cfg,
		shufflings: newShufflingCache(16),
		pubkeys:    bls.NewPubkeyCache(),
	}
}

// Config returns the transition's config.
func (t *Transition) Config() *params.Config { return t.cfg }

// Pubkeys returns the transition's public-key cache, for callers that verify
// signatures themselves with the same keys.
func (t *Transition) Pubkeys() *bls.PubkeyCache { return t.pubkeys }

// StateTransition is the spec's state_transition: process_slots to the
// block's slot, process_block, and, when validateStateRoot is set, the check
// that block.state_root is the root of the result. st is modified in place; on
// error it must be discarded.
func (t *Transition) StateTransition(st *types.BeaconState, b *types.BeaconBlock, sigs Sigs, validateStateRoot bool) error {
	return t.stateTransition(st, b, validateStateRoot, func() error { return t.ProcessBlock(st, b, sigs) })
}

// stateTransition is state_transition with process_block given.
func (t *Transition) stateTransition(st *types.BeaconState, b types.AnyBlock, validateStateRoot bool, processBlock func() error) error {
	if err := t.ProcessSlots(st, b.GetSlot()); err != nil {
		return err
	}
	if err := processBlock(); err != nil {
		return err
	}
	if validateStateRoot {
		root, err := st.HashTreeRoot()
		if err != nil {
			return fmt.Errorf("hash post-state: %w", err)
		}
		if root != b.GetStateRoot() {
			return fmt.Errorf("%w: state root %s, block says %s", ErrInvalidBlock, root, b.GetStateRoot())
		}
	}
	return nil
}

// ProcessSlots is process_slots: advance st to slot, running process_slot for
// every slot and process_epoch at the last slot of every epoch.
func (t *Transition) ProcessSlots(st *types.BeaconState, slot types.Slot) error {
	if st.Slot > slot {
		return fmt.Errorf("%w: cannot process slots backwards from %d to %d", ErrInvalidSlot, st.Slot, slot)
	}
	for st.Slot < slot {
		if err := t.ProcessSlot(st); err != nil {
			return err
		}
		if (uint64(st.Slot)+1)%t.cfg.SlotsPerEpoch == 0 {
			if err := t.ProcessEpoch(st); err != nil {
				return fmt.Errorf("process epoch %d: %w", t.currentEpoch(st), err)
			}
		}
		st.Slot++
		if s := t.cfg.Shard; s.Enabled() && s.ForkEpoch > t.cfg.GenesisEpoch() &&
			uint64(st.Slot) == s.ForkEpoch*t.cfg.SlotsPerEpoch {
			t.UpgradeToShardFork(st)
		}
	}
	return nil
}

// ProcessSlot is process_slot: cache the previous state and block roots.
func (t *Transition) ProcessSlot(st *types.BeaconState) error {
	prevStateRoot, err := st.HashTreeRoot()
	if err != nil {
		return fmt.Errorf("hash state: %w", err)
	}
	i := uint64(st.Slot) % t.cfg.SlotsPerHistoricalRoot
	st.StateRoots[i] = prevStateRoot
	if st.LatestBlockHeader.StateRoot == (types.Root{}) {
		st.LatestBlockHeader.StateRoot = prevStateRoot
	}
	st.BlockRoots[i] = st.LatestBlockHeader.SigningRoot()
	return nil
}

// ProcessBlock is process_block: header, RANDAO, eth1 vote, operations.
// From SHARD_FORK_EPOCH on, blocks are ShardBeaconBlocks
// (ProcessShardBeaconBlock).
func (t *Transition) ProcessBlock(st *types.BeaconState, b *types.BeaconBlock, sigs Sigs) error {
	if t.ShardForkActive(st) {
		return fmt.Errorf("%w: a phase 0 block at slot %d, after SHARD_FORK_EPOCH", ErrInvalidBlock, b.Slot)
	}
	c := t.newCtx(st)
	if err := t.processBlockHeader(c, b, sigs); err != nil {
		return err
	}
	if err := t.processRandao(c, &b.Body, sigs); err != nil {
		return err
	}
	t.ProcessEth1Data(st, &b.Body)
	return t.processOperations(c, &b.Body, sigs)
}
