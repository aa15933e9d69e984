package forkchoice

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// OnBlock is on_block:
//
//	assert block.parent_root in store.block_states
//	pre_state = store.block_states[block.parent_root].copy()
//	assert store.time >= pre_state.genesis_time + block.slot * SECONDS_PER_SLOT
//	store.blocks[signing_root(block)] = block
//	assert get_ancestor(store, signing_root(block), store.blocks[store.finalized_checkpoint.root].slot) ==
//	    store.finalized_checkpoint.root
//	assert block.slot > compute_start_slot_of_epoch(store.finalized_checkpoint.epoch)
//	state = state_transition(pre_state, block)
//	store.block_states[signing_root(block)] = state
//	if state.current_justified_checkpoint.epoch > store.justified_checkpoint.epoch:
//	    store.justified_checkpoint = state.current_justified_checkpoint
//	if state.finalized_checkpoint.epoch > store.finalized_checkpoint.epoch:
//	    store.finalized_checkpoint = state.finalized_checkpoint
//
// The state transition validates the state root and checks signatures as
// sigs says. On error the store is unchanged; rejections wrap core.ErrInvalid
// and, where the spec's assert is the fork choice's own, one of
// ErrUnknownParent, ErrFutureBlock, ErrNotDescendantOfFinalized,
// ErrFinalizedSlot or ErrMalformed. A block already in the store is accepted
// again as a no-op. The store keeps b: callers must not modify it afterwards.
func (s *Store) OnBlock(b types.AnyBlock, sigs core.Sigs) error {
	if err := checkBlockShape(b); err != nil {
		return fmt.Errorf("add block: %w", err)
	}
	root, err := b.SigningRoot()
	if err != nil {
		return fmt.Errorf("add block: %w: %v", ErrMalformed, err)
	}
	if _, ok := s.nodes[root]; ok {
		return nil
	}
	slot, parentRoot := b.GetSlot(), b.GetParentRoot()
	finalizedStart := core.ComputeStartSlotOfEpoch(s.cfg, s.finalized.Epoch)
	if slot <= finalizedStart {
		return fmt.Errorf("add block %s: %w: slot %d, finalized epoch %d starts at slot %d",
			root, ErrFinalizedSlot, slot, s.finalized.Epoch, finalizedStart)
	}
	parent, ok := s.nodes[parentRoot]
	if !ok {
		return fmt.Errorf("add block %s: %w %s", root, ErrUnknownParent, parentRoot)
	}
	pre := parent.state
	if !s.reached(pre.GenesisTime, uint64(slot)) {
		return fmt.Errorf("add block %s: %w: slot %d has not started at time %d", root, ErrFutureBlock, slot, s.time)
	}
	if slot <= parent.slot {
		// The state transition rejects this too (the parent's header would
		// not match); checking it here keeps the tree's slots increasing.
		return fmt.Errorf("add block %s: %w: slot %d is not after its parent's slot %d", root, core.ErrInvalidBlock, slot, parent.slot)
	}
	fin, ok := s.nodes[s.finalized.Root]
	if !ok {
		return fmt.Errorf("add block %s: %w: finalized block %s", root, ErrMissingState, s.finalized.Root)
	}
	// get_ancestor(store, root, fin.slot) with the block not yet stored.
	// Normally slot > finalizedStart >= fin.slot and the walk goes on
	// from the parent.
	var anc types.Root
	known := true
	switch {
	case slot > fin.slot:
		anc, known = ancestor(parent, fin.slot)
	case slot == fin.slot:
		anc = root
	}
	if !known || anc != fin.root {
		return fmt.Errorf("add block %s: %w %s", root, ErrNotDescendantOfFinalized, fin.root)
	}

	st, err := s.postState(root, b, parent, sigs)
	if err != nil {
		return err
	}
	n := &node{root: root, slot: slot, block: b, state: st, parent: parent}

	justified, finalized := s.justified, s.finalized
	if st.CurrentJustifiedCheckpoint.Epoch > justified.Epoch {
		justified = st.CurrentJustifiedCheckpoint
	}
	if st.FinalizedCheckpoint.Epoch > finalized.Epoch {
		finalized = st.FinalizedCheckpoint
	}
	// get_head needs checkpoint_states[justified]; compute it now if no
	// attestation has (see the package doc).
	var justifiedState *types.BeaconState
	if justified != s.justified {
		cs, computed, err := s.checkpointState(justified, n)
		if err != nil {
			return fmt.Errorf("add block %s: adopt justified checkpoint: %w", root, err)
		}
		if computed {
			justifiedState = cs
		}
	}

	s.nodes[root] = n
	parent.children = append(parent.children, n)
	s.justified, s.finalized = justified, finalized
	if justifiedState != nil {
		s.checkpointStates[justified] = justifiedState
	}
	return nil
}

// postState runs the state transition of b (root) on a copy of parent's
// post-state, or, with a state cache, takes the state another store computed
// from the same block and pre-state. Only transitions that check every
// signature at once share: a block imported with skipped or batched
// signatures (an own proposal) neither reads nor fills the cache, so a hit
// always stands for a full validation (unless the cache was told to share
// unverified states, for runs that verify no signature at all).
func (s *Store) postState(root types.Root, b types.AnyBlock, parent *node, sigs core.Sigs) (*types.BeaconState, error) {
	share := s.states.shares(sigs)
	var key StateKey
	if share {
		var err error
		if key, err = stateKeyOf(b, parent.block.GetStateRoot()); err != nil {
			return nil, fmt.Errorf("add block %s: %w: %v", root, ErrMalformed, err)
		}
		if st, ok := s.states.get(key); ok {
			return st, nil
		}
	}
	st := parent.state.Copy()
	if err := s.tr.StateTransitionAny(st, b, sigs, true); err != nil {
		return nil, fmt.Errorf("apply block %s: %w", root, err)
	}
	if share {
		st = s.states.add(key, st)
	}
	return st, nil
}

// checkBlockShape rejects what hashing or the transition could not handle:
// a nil block or nil operations.
func checkBlockShape(blk types.AnyBlock) error {
	var body *types.BeaconBlockBody
	switch b := blk.(type) {
	case *types.BeaconBlock:
		if b == nil {
			return fmt.Errorf("%w: nil block", ErrMalformed)
		}
		body = &b.Body
	case *types.ShardBeaconBlock:
		if b == nil {
			return fmt.Errorf("%w: nil block", ErrMalformed)
		}
		body = b.Body.Phase0()
	default:
		return fmt.Errorf("%w: block of type %T", ErrMalformed, blk)
	}
	for i, op := range body.ProposerSlashings {
		if op == nil {
			return fmt.Errorf("%w: nil proposer slashing %d", ErrMalformed, i)
		}
	}
	for i, op := range body.AttesterSlashings {
		if op == nil {
			return fmt.Errorf("%w: nil attester slashing %d", ErrMalformed, i)
		}
	}
	for i, op := range body.Attestations {
		if op == nil {
			return fmt.Errorf("%w: nil attestation %d", ErrMalformed, i)
		}
	}
	for i, op := range body.Deposits {
		if op == nil {
			return fmt.Errorf("%w: nil deposit %d", ErrMalformed, i)
		}
	}
	for i, op := range body.VoluntaryExits {
		if op == nil {
			return fmt.Errorf("%w: nil voluntary exit %d", ErrMalformed, i)
		}
	}
	for i, op := range body.Transfers {
		if op == nil {
			return fmt.Errorf("%w: nil transfer %d", ErrMalformed, i)
		}
	}
	return nil
}
