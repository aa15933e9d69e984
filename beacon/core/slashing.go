package core

import (
	"fmt"
	"slices"

	"github.com/shardlab/shardlab/beacon/types"
)

// ProcessProposerSlashing is process_proposer_slashing.
//
//	proposer = state.validators[proposer_slashing.proposer_index]
//	assert compute_epoch_of_slot(header_1.slot) == compute_epoch_of_slot(header_2.slot)
//	assert proposer_slashing.header_1 != proposer_slashing.header_2
//	assert is_slashable_validator(proposer, get_current_epoch(state))
//	for header in (header_1, header_2):
//	    domain = get_domain(state, DOMAIN_BEACON_PROPOSER, compute_epoch_of_slot(header.slot))
//	    assert bls_verify(proposer.pubkey, signing_root(header), header.signature, domain)
//	slash_validator(state, proposer_slashing.proposer_index)
func (t *Transition) ProcessProposerSlashing(st *types.BeaconState, ps *types.ProposerSlashing, sigs Sigs) error {
	return t.processProposerSlashing(t.newCtx(st), ps, sigs)
}

func (t *Transition) processProposerSlashing(c *ctx, ps *types.ProposerSlashing, sigs Sigs) error {
	st, cfg := c.st, t.cfg
	if uint64(ps.ProposerIndex) >= uint64(len(st.Validators)) {
		return fmt.Errorf("%w: proposer index %d out of range", ErrInvalidOperation, ps.ProposerIndex)
	}
	proposer := &st.Validators[ps.ProposerIndex]
	e1, e2 := ComputeEpochOfSlot(cfg, ps.Header1.Slot), ComputeEpochOfSlot(cfg, ps.Header2.Slot)
	if e1 != e2 {
		return fmt.Errorf("%w: headers are from epochs %d and %d", ErrInvalidOperation, e1, e2)
	}
	if ps.Header1 == ps.Header2 {
		return fmt.Errorf("%w: headers are identical", ErrInvalidOperation)
	}
	if !IsSlashableValidator(proposer, c.current) {
		return fmt.Errorf("%w: validator %d is not slashable", ErrInvalidOperation, ps.ProposerIndex)
	}
	for i, h := range []*types.BeaconBlockHeader{&ps.Header1, &ps.Header2} {
		domain := t.Domain(st, cfg.DomainBeaconProposer, ComputeEpochOfSlot(cfg, h.Slot))
		if err := t.verify(sigs, proposer.Pubkey, h.SigningRoot(), h.Signature, domain, fmt.Sprintf("header %d", i+1)); err != nil {
			return err
		}
	}
	return t.slashValidator(c, ps.ProposerIndex, nil)
}

// ProcessAttesterSlashing is process_attester_slashing.
//
//	assert is_slashable_attestation_data(attestation_1.data, attestation_2.data)
//	assert is_valid_indexed_attestation(state, attestation_1)
//	assert is_valid_indexed_attestation(state, attestation_2)
//	slashed_any = False
//	for index in sorted(set(indices_1).intersection(indices_2)):
//	    if is_slashable_validator(state.validators[index], get_current_epoch(state)):
//	        slash_validator(state, index); slashed_any = True
//	assert slashed_any
func (t *Transition) ProcessAttesterSlashing(st *types.BeaconState, as *types.AttesterSlashing, sigs Sigs) error {
	return t.processAttesterSlashing(t.newCtx(st), as, sigs)
}

func (t *Transition) processAttesterSlashing(c *ctx, as *types.AttesterSlashing, sigs Sigs) error {
	st := c.st
	a1, a2 := &as.Attestation1, &as.Attestation2
	if !IsSlashableAttestationData(&a1.Data, &a2.Data) {
		return fmt.Errorf("%w: attestations are neither a double nor a surround vote", ErrInvalidOperation)
	}
	if err := t.isValidIndexedAttestation(c, a1, sigs); err != nil {
		return fmt.Errorf("attestation 1: %w", err)
	}
	if err := t.isValidIndexedAttestation(c, a2, sigs); err != nil {
		return fmt.Errorf("attestation 2: %w", err)
	}
	set2 := make(map[uint64]bool, len(a2.CustodyBit0Indices)+len(a2.CustodyBit1Indices))
	for _, i := range a2.CustodyBit0Indices {
		set2[i] = true
	}
	for _, i := range a2.CustodyBit1Indices {
		set2[i] = true
	}
	var both []uint64
	for _, l := range [][]uint64{a1.CustodyBit0Indices, a1.CustodyBit1Indices} {
		for _, i := range l {
			if set2[i] {
				both = append(both, i)
			}
		}
	}
	slices.Sort(both)
	both = slices.Compact(both)
	slashed := false
	for _, i := range both {
		if IsSlashableValidator(&st.Validators[i], c.current) {
			if err := t.slashValidator(c, types.ValidatorIndex(i), nil); err != nil {
				return err
			}
			slashed = true
		}
	}
	if !slashed {
		return fmt.Errorf("%w: no validator in both attestations is slashable", ErrInvalidOperation)
	}
	return nil
}
