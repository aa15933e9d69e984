package slasher

import (
	"errors"
	"fmt"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// OnProposal records the verified signed header of a block by proposer and
// returns a ProposerSlashing when the proposer signed a different header
// for the same slot before (nil when not, when the header was seen before,
// or when a slashing of the proposer was already built). Errors:
// ErrOutOfWindow, ErrUnknownValidator, storage failures.
//
// v0.8.3's process_proposer_slashing accepts two headers of one epoch, but
// a validator may be chosen to propose twice in an epoch and an honest one
// then signs two headers; the slasher reports only two headers of one slot
// (the rule later spec versions adopted), which is never honest.
func (s *Slasher) OnProposal(proposer types.ValidatorIndex, h *types.BeaconBlockHeader) (*types.ProposerSlashing, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil header", ErrMalformed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkEpoch("proposal", core.ComputeEpochOfSlot(s.pcfg, h.Slot)); err != nil {
		return nil, err
	}
	if uint64(proposer) >= s.validators {
		return nil, fmt.Errorf("%w: proposer %d of %d", ErrUnknownValidator, proposer, s.validators)
	}
	ps, err := s.onProposal(proposer, h)
	if err != nil {
		s.discardLocked()
		return nil, err
	}
	if err := s.flushLocked(); err != nil {
		return nil, err
	}
	return ps, nil
}

func (s *Slasher) onProposal(proposer types.ValidatorIndex, h *types.BeaconBlockHeader) (*types.ProposerSlashing, error) {
	key := u64Key(prefixProposal, uint64(h.Slot), uint64(proposer))
	raw, ok, err := s.get(key)
	if err != nil {
		return nil, fmt.Errorf("read proposal: %w", err)
	}
	if !ok {
		enc, err := h.MarshalSSZ()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		s.put(key, enc)
		return nil, nil
	}
	prev := new(types.BeaconBlockHeader)
	if err := types.Decode(prev, raw); err != nil {
		return nil, fmt.Errorf("read proposal: %w", errors.Join(errCorruptValue, err))
	}
	if prev.SigningRoot() == h.SigningRoot() {
		return nil, nil
	}
	done, err := s.reported(uint64(proposer))
	if err != nil || done {
		return nil, err
	}
	s.markReported(uint64(proposer))
	return &types.ProposerSlashing{ProposerIndex: proposer, Header1: *prev, Header2: *h}, nil
}
