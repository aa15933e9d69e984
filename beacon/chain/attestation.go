package chain

import (
	"errors"
	"fmt"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/forkchoice"
	"github.com/shardlab/shardlab/beacon/types"
)

// OnAttestation validates an attestation (from gossip or a local attester)
// and, if valid, adds it to the attestation pool for inclusion in blocks and
// to the fork choice as votes. Validation is the fork choice's (target block
// known, committee membership, aggregate signature, on the target checkpoint
// state), done here so that an attestation of the current slot, which the
// fork choice only counts once the slot is over, is checked at once and kept
// as pending until then. The target epoch must be the current or the
// previous epoch of the chain's clock.
//
// Errors: ErrDuplicate (already seen), ErrUnknownTarget, ErrFuture, ErrTooOld
// (none of them wrap core.ErrInvalid), and rejections wrapping
// core.ErrInvalid.
func (s *Service) OnAttestation(a *types.Attestation) error {
	_, err := s.OnAttestationIndexed(a)
	return err
}

// OnAttestationIndexed is OnAttestation that also returns the attestation's
// IndexedAttestation, whose aggregate signature it verified (for the
// slasher). It is nil on error; a copy added concurrently by another caller
// still returns it.
func (s *Service) OnAttestationIndexed(a *types.Attestation) (*types.IndexedAttestation, error) {
	if a == nil {
		return nil, fmt.Errorf("add attestation: %w: nil attestation", core.ErrInvalidOperation)
	}
	root, err := a.HashTreeRoot()
	if err != nil {
		return nil, fmt.Errorf("add attestation: %w: %v", core.ErrInvalidOperation, err)
	}
	target := a.Data.Target

	s.mu.Lock()
	if s.pool.seen(root) {
		s.mu.Unlock()
		return nil, fmt.Errorf("add attestation %x: %w", root[:4], ErrDuplicate)
	}
	nowSlot := s.currentSlotLocked()
	cur := core.ComputeEpochOfSlot(s.pcfg, nowSlot)
	switch {
	case target.Epoch > cur+1:
		s.mu.Unlock()
		return nil, fmt.Errorf("add attestation: %w: target epoch %d, current epoch %d", ErrFuture, target.Epoch, cur)
	case target.Epoch+1 < cur:
		s.mu.Unlock()
		return nil, fmt.Errorf("add attestation: %w: target epoch %d, current epoch %d", ErrTooOld, target.Epoch, cur)
	}
	cpState, base, err := s.checkpointBaseLocked(target)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if cpState == nil {
		if cpState, err = s.computeCheckpointState(target, base); err != nil {
			return nil, err
		}
	}

	// One derivation of the committees for the three checks; chains
	// sharing a state cache (simulated nodes) share one per checkpoint.
	view := s.cfg.StateCache.View(s.tr, cpState)
	attSlot, err := view.AttestationDataSlot(&a.Data)
	if err != nil {
		return nil, fmt.Errorf("add attestation: %w", err)
	}
	if attSlot > nowSlot+1 {
		return nil, fmt.Errorf("add attestation: %w: slot %d, current slot %d", ErrFuture, attSlot, nowSlot)
	}
	ia, err := view.IndexedAttestation(a)
	if err != nil {
		return nil, fmt.Errorf("add attestation: %w", err)
	}
	if err := view.IsValidIndexedAttestation(ia, s.verifySigs()); err != nil {
		return nil, fmt.Errorf("add attestation: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool.seen(root) {
		return ia, nil // a concurrent copy got there first
	}
	err = s.fc.OnAttestation(a, core.SkipSigs)
	switch {
	case err == nil:
		s.dirty = true
	case errors.Is(err, forkchoice.ErrFutureAttestation):
		s.addPendingLocked(a)
	case errors.Is(err, forkchoice.ErrUnknownTarget):
		return nil, fmt.Errorf("add attestation: %w: %s (pruned)", ErrUnknownTarget, target.Root)
	default:
		return nil, fmt.Errorf("add attestation: %w", err)
	}
	s.pool.add(root, a, attSlot)
	s.m.poolAttestations.Set(float64(s.pool.len()))
	return ia, nil
}

// checkpointBaseLocked returns the cached state of target, or else a copy
// of the target block's post-state to advance. s.mu must be held.
func (s *Service) checkpointBaseLocked(target types.Checkpoint) (cp, base *types.BeaconState, err error) {
	if st, ok := s.cpStates[target]; ok {
		return st, nil, nil
	}
	if st, ok := s.fc.SharedCheckpointState(target); ok {
		return st, nil, nil // a chain sharing the state cache computed it
	}
	if st, ok := s.fc.CheckpointState(target); ok {
		return nil, st.Copy(), nil // already at the epoch start: computeCheckpointState only caches it
	}
	st, ok := s.fc.State(target.Root)
	if !ok {
		return nil, nil, fmt.Errorf("add attestation: %w %s", ErrUnknownTarget, target.Root)
	}
	return nil, st.Copy(), nil
}

// computeCheckpointState advances base (a private copy) to the start of
// target's epoch and caches it. The lock is not held while processing slots.
func (s *Service) computeCheckpointState(target types.Checkpoint, base *types.BeaconState) (*types.BeaconState, error) {
	start := core.ComputeStartSlotOfEpoch(s.pcfg, target.Epoch)
	if base.Slot > start {
		return nil, fmt.Errorf("add attestation: %w: target block state at slot %d is after the start slot %d of epoch %d",
			core.ErrInvalidOperation, base.Slot, start, target.Epoch)
	}
	if err := s.tr.ProcessSlots(base, start); err != nil {
		return nil, fmt.Errorf("add attestation: checkpoint state: %w", err)
	}
	// Hash now, under no lock, so that readers of the cached state never
	// race on its hash cache.
	if _, err := base.HashTreeRoot(); err != nil {
		return nil, fmt.Errorf("add attestation: checkpoint state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.cpStates[target]; ok {
		return st, nil
	}
	base = s.fc.ShareCheckpointState(target, base)
	s.cpStates[target] = base
	s.cpOrder = append(s.cpOrder, target)
	for len(s.cpOrder) > s.cfg.CheckpointStates {
		delete(s.cpStates, s.cpOrder[0])
		s.cpOrder = s.cpOrder[1:]
	}
	return base, nil
}

// pruneCheckpointStatesLocked drops cached checkpoint states older than the
// finalized epoch. s.mu must be held.
func (s *Service) pruneCheckpointStatesLocked() {
	keep := s.cpOrder[:0]
	for _, cp := range s.cpOrder {
		if cp.Epoch < s.finalized.Epoch {
			delete(s.cpStates, cp)
			continue
		}
		keep = append(keep, cp)
	}
	s.cpOrder = keep
}

// addPendingLocked keeps a valid attestation until the fork choice can
// count it. s.mu must be held.
func (s *Service) addPendingLocked(a *types.Attestation) {
	s.pending = append(s.pending, a)
	if over := len(s.pending) - s.cfg.MaxPendingAttestations; over > 0 {
		s.pending = append(s.pending[:0], s.pending[over:]...)
	}
}

// retryPendingLocked hands the pending attestations to the fork choice,
// keeping those still from the future. s.mu must be held.
func (s *Service) retryPendingLocked() {
	keep := s.pending[:0]
	for _, a := range s.pending {
		err := s.fc.OnAttestation(a, core.SkipSigs)
		switch {
		case err == nil:
			s.dirty = true
		case errors.Is(err, forkchoice.ErrFutureAttestation):
			keep = append(keep, a)
		}
	}
	clear(s.pending[len(keep):])
	s.pending = keep
}

// AttestationsForBlock returns the pooled attestations that a block at slot
// may include (MIN_ATTESTATION_INCLUSION_DELAY <= slot - attestation slot <=
// SLOTS_PER_EPOCH), newest first. They are shared: callers must not modify
// them. The block producer aggregates and filters them.
func (s *Service) AttestationsForBlock(slot types.Slot) []*types.Attestation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pool.forBlock(slot, s.pcfg)
}
