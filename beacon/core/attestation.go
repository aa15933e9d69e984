package core

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// bitlistLen is the number of bits of an SSZ bitlist (its delimiter excluded),
// or -1 if it has no delimiter.
func bitlistLen(b []byte) int {
	if len(b) == 0 || b[len(b)-1] == 0 {
		return -1
	}
	return 8*(len(b)-1) + bits.Len8(b[len(b)-1]) - 1
}

// ProcessAttestation is process_attestation.
//
//	data = attestation.data
//	assert data.crosslink.shard < SHARD_COUNT
//	assert data.target.epoch in (get_previous_epoch(state), get_current_epoch(state))
//	attestation_slot = get_attestation_data_slot(state, data)
//	assert attestation_slot + MIN_ATTESTATION_INCLUSION_DELAY <= state.slot <= attestation_slot + SLOTS_PER_EPOCH
//	committee = get_crosslink_committee(state, data.target.epoch, data.crosslink.shard)
//	assert len(attestation.aggregation_bits) == len(attestation.custody_bits) == len(committee)
//	pending_attestation = PendingAttestation(data=data, aggregation_bits=attestation.aggregation_bits,
//	    inclusion_delay=state.slot - attestation_slot, proposer_index=get_beacon_proposer_index(state))
//	if data.target.epoch == get_current_epoch(state):
//	    assert data.source == state.current_justified_checkpoint
//	    parent_crosslink = state.current_crosslinks[data.crosslink.shard]
//	    state.current_epoch_attestations.append(pending_attestation)
//	else:
//	    assert data.source == state.previous_justified_checkpoint
//	    parent_crosslink = state.previous_crosslinks[data.crosslink.shard]
//	    state.previous_epoch_attestations.append(pending_attestation)
//	assert data.crosslink.parent_root == hash_tree_root(parent_crosslink)
//	assert data.crosslink.start_epoch == parent_crosslink.end_epoch
//	assert data.crosslink.end_epoch == min(data.target.epoch, parent_crosslink.end_epoch + MAX_EPOCHS_PER_CROSSLINK)
//	assert data.crosslink.data_root == Bytes32()  # [to be removed in phase 1: lifted by the shard fork]
//	assert is_valid_indexed_attestation(state, get_indexed_attestation(state, attestation))
func (t *Transition) ProcessAttestation(st *types.BeaconState, a *types.Attestation, sigs Sigs) error {
	return t.processAttestation(t.newCtx(st), a, sigs)
}

func (t *Transition) processAttestation(c *ctx, a *types.Attestation, sigs Sigs) error {
	st, cfg := c.st, t.cfg
	d := &a.Data
	if uint64(d.Crosslink.Shard) >= cfg.ShardCount {
		return fmt.Errorf("%w: shard %d >= SHARD_COUNT", ErrInvalidOperation, d.Crosslink.Shard)
	}
	if d.Target.Epoch != c.previous && d.Target.Epoch != c.current {
		return fmt.Errorf("%w: target epoch %d is neither the previous nor the current epoch", ErrInvalidOperation, d.Target.Epoch)
	}
	attSlot, err := c.attestationDataSlot(d)
	if err != nil {
		return err
	}
	if !(uint64(attSlot)+cfg.MinAttestationInclusionDelay <= uint64(st.Slot) && uint64(st.Slot) <= uint64(attSlot)+cfg.SlotsPerEpoch) {
		return fmt.Errorf("%w: attestation slot %d cannot be included at slot %d", ErrInvalidOperation, attSlot, st.Slot)
	}
	committee, err := c.committee(d.Target.Epoch, d.Crosslink.Shard)
	if err != nil {
		return err
	}
	if bitlistLen(a.AggregationBits) != len(committee) || bitlistLen(a.CustodyBits) != len(committee) {
		return fmt.Errorf("%w: bitlists of %d and %d bits for a committee of %d", ErrInvalidOperation,
			bitlistLen(a.AggregationBits), bitlistLen(a.CustodyBits), len(committee))
	}
	proposer, err := c.proposerIndex()
	if err != nil {
		return err
	}
	pending := types.PendingAttestation{
		AggregationBits: slices.Clone(a.AggregationBits),
		Data:            *d,
		InclusionDelay:  st.Slot - attSlot,
		ProposerIndex:   proposer,
	}
	var parent *types.Crosslink
	if d.Target.Epoch == c.current {
		if d.Source != st.CurrentJustifiedCheckpoint {
			return fmt.Errorf("%w: source %d/%s is not the current justified checkpoint", ErrInvalidOperation, d.Source.Epoch, d.Source.Root)
		}
		parent = &st.CurrentCrosslinks[d.Crosslink.Shard]
	} else {
		if d.Source != st.PreviousJustifiedCheckpoint {
			return fmt.Errorf("%w: source %d/%s is not the previous justified checkpoint", ErrInvalidOperation, d.Source.Epoch, d.Source.Root)
		}
		parent = &st.PreviousCrosslinks[d.Crosslink.Shard]
	}
	if d.Crosslink.ParentRoot != parent.TreeRoot() {
		return fmt.Errorf("%w: crosslink parent root %s does not match %s", ErrInvalidOperation, d.Crosslink.ParentRoot, parent.TreeRoot())
	}
	if d.Crosslink.StartEpoch != parent.EndEpoch {
		return fmt.Errorf("%w: crosslink start epoch %d, parent ends at %d", ErrInvalidOperation, d.Crosslink.StartEpoch, parent.EndEpoch)
	}
	end := min(uint64(d.Target.Epoch), uint64(parent.EndEpoch)+cfg.MaxEpochsPerCrosslink)
	if uint64(parent.EndEpoch)+cfg.MaxEpochsPerCrosslink < uint64(parent.EndEpoch) {
		end = uint64(d.Target.Epoch) // the spec's unbounded integers never overflow
	}
	if uint64(d.Crosslink.EndEpoch) != end {
		return fmt.Errorf("%w: crosslink end epoch %d, expected %d", ErrInvalidOperation, d.Crosslink.EndEpoch, end)
	}
	// [phase 0] assert data.crosslink.data_root == Bytes32(); the shard fork
	// lifts it: attesters vote the root of the shard headers they crosslink.
	if d.Crosslink.DataRoot != (types.Root{}) && !t.ShardForkActive(st) {
		return fmt.Errorf("%w: crosslink data root must be zero in phase 0", ErrInvalidOperation)
	}
	indexed, err := c.indexedAttestation(a)
	if err != nil {
		return err
	}
	if err := t.isValidIndexedAttestation(c, indexed, sigs); err != nil {
		return err
	}
	list := &st.PreviousEpochAttestations
	if d.Target.Epoch == c.current {
		list = &st.CurrentEpochAttestations
	}
	if uint64(len(*list)) >= cfg.MaxPendingAttestations() {
		return fmt.Errorf("%w: pending attestation list is full", ErrInvalidOperation)
	}
	*list = append(*list, pending)
	return nil
}

// IndexedAttestation is get_indexed_attestation.
func (t *Transition) IndexedAttestation(st *types.BeaconState, a *types.Attestation) (*types.IndexedAttestation, error) {
	return t.newCtx(st).indexedAttestation(a)
}

// indexedAttestation is get_indexed_attestation.
//
//	attesting_indices = get_attesting_indices(state, attestation.data, attestation.aggregation_bits)
//	custody_bit_1_indices = get_attesting_indices(state, attestation.data, attestation.custody_bits)
//	assert custody_bit_1_indices.issubset(attesting_indices)
//	custody_bit_0_indices = attesting_indices.difference(custody_bit_1_indices)
func (c *ctx) indexedAttestation(a *types.Attestation) (*types.IndexedAttestation, error) {
	att, err := c.attestingIndices(&a.Data, a.AggregationBits)
	if err != nil {
		return nil, err
	}
	cust, err := c.attestingIndices(&a.Data, a.CustodyBits)
	if err != nil {
		return nil, err
	}
	in1 := make(map[types.ValidatorIndex]bool, len(cust))
	for _, i := range cust {
		in1[i] = true
	}
	inAtt := make(map[types.ValidatorIndex]bool, len(att))
	for _, i := range att {
		inAtt[i] = true
	}
	for _, i := range cust {
		if !inAtt[i] {
			return nil, fmt.Errorf("%w: custody bit set for validator %d that did not attest", ErrInvalidOperation, i)
		}
	}
	out := &types.IndexedAttestation{Data: a.Data, Signature: a.Signature}
	out.CustodyBit0Indices = make([]uint64, 0, len(att))
	out.CustodyBit1Indices = make([]uint64, 0, len(cust))
	for _, i := range att {
		if !in1[i] {
			out.CustodyBit0Indices = append(out.CustodyBit0Indices, uint64(i))
		}
	}
	for _, i := range cust {
		out.CustodyBit1Indices = append(out.CustodyBit1Indices, uint64(i))
	}
	slices.Sort(out.CustodyBit0Indices)
	slices.Sort(out.CustodyBit1Indices)
	return out, nil
}

// IsValidIndexedAttestation is is_valid_indexed_attestation; it returns nil
// when valid and an error wrapping ErrInvalid that says why otherwise.
//
//	if not len(bit_1_indices) == 0: return False   # [to be removed in phase 1]
//	if not len(bit_0_indices) + len(bit_1_indices) <= MAX_VALIDATORS_PER_COMMITTEE: return False
//	if not len(set(bit_0_indices).intersection(bit_1_indices)) == 0: return False
//	if not (bit_0_indices == sorted(bit_0_indices) and bit_1_indices == sorted(bit_1_indices)): return False
//	return bls_verify_multiple(pubkeys=[aggregate(bit_0 keys), aggregate(bit_1 keys)],
//	    message_hashes=[htr(AttestationDataAndCustodyBit(data, 0b0)), htr(AttestationDataAndCustodyBit(data, 0b1))],
//	    signature=indexed_attestation.signature,
//	    domain=get_domain(state, DOMAIN_ATTESTATION, indexed_attestation.data.target.epoch))
func (t *Transition) IsValidIndexedAttestation(st *types.BeaconState, ia *types.IndexedAttestation, sigs Sigs) error {
	return t.isValidIndexedAttestation(t.newCtx(st), ia, sigs)
}

func (t *Transition) isValidIndexedAttestation(c *ctx, ia *types.IndexedAttestation, sigs Sigs) error {
	st := c.st
	b0, b1 := ia.CustodyBit0Indices, ia.CustodyBit1Indices
	if len(b1) != 0 {
		return fmt.Errorf("%w: custody bit 1 indices must be empty in phase 0", ErrInvalidOperation)
	}
	if uint64(len(b0)+len(b1)) > t.cfg.MaxValidatorsPerCommittee {
		return fmt.Errorf("%w: %d attesters exceed MAX_VALIDATORS_PER_COMMITTEE", ErrInvalidOperation, len(b0)+len(b1))
	}
	if !slices.IsSorted(b0) || !slices.IsSorted(b1) {
		return fmt.Errorf("%w: attesting indices are not sorted", ErrInvalidOperation)
	}
	in0 := make(map[uint64]bool, len(b0))
	for _, i := range b0 {
		in0[i] = true
	}
	for _, i := range b1 {
		if in0[i] {
			return fmt.Errorf("%w: validator %d has both custody bits", ErrInvalidOperation, i)
		}
	}
	n := uint64(len(st.Validators))
	for _, l := range [][]uint64{b0, b1} {
		for _, i := range l {
			if i >= n {
				return fmt.Errorf("%w: attesting index %d out of range", ErrInvalidOperation, i)
			}
		}
	}
	if sigs.Skipping() {
		return nil
	}
	keys := make([]*bls.PublicKey, 2)
	for j, l := range [][]uint64{b0, b1} {
		pks := make([]*bls.PublicKey, len(l))
		for k, i := range l {
			pk, err := t.pubkey(st.Validators[i].Pubkey)
			if err != nil {
				return fmt.Errorf("%w: public key of validator %d: %v", ErrInvalidSignature, i, err)
			}
			pks[k] = pk
		}
		keys[j] = bls.AggregatePublicKeys(pks)
	}
	m0 := types.AttestationDataAndCustodyBit{Data: ia.Data, CustodyBit: false}
	m1 := types.AttestationDataAndCustodyBit{Data: ia.Data, CustodyBit: true}
	domain := t.Domain(st, t.cfg.DomainAttestation, ia.Data.Target.Epoch)
	return t.verifyMultiple(sigs, keys, [][32]byte{m0.TreeRoot(), m1.TreeRoot()}, ia.Signature, domain, "attestation signature")
}
