package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
)

// Slashing protection for the in-process validator client.
//
// The store keeps, per validator, only the last signed proposal and the last
// signed attestation (EIP-3076's "minimal" strategy) and accepts a new
// message only if it is strictly later than everything signed before. Any
// set of messages accepted this way is free of slashable pairs, so one record
// per validator suffices however long the node runs; the price is that a
// message older than the last signed one is refused even when it would not
// actually conflict, which an honest validator, whose duties move forward,
// rarely needs.
//
// Proposals. In v0.8.3 process_proposer_slashing slashes two different
// headers from the same EPOCH (not only the same slot), and
// get_beacon_proposer_index can pick one validator for two slots of an epoch.
// The rule is therefore per epoch: a proposal at slot s with signing root r is
// accepted if there is no record, if the record is exactly (s, r) (re-signing
// the same block is harmless: BLS signatures are deterministic, so the
// headers are identical), or if epoch(s) > epoch(last slot). Everything else,
// including a second block in the same epoch, is ErrSlashable: a validator
// chosen twice in one epoch proposes only once.
//
// Attestations. is_slashable_attestation_data is a double vote (different
// data, same target epoch) or a surround (s1 < s2 and t2 < t1). With (S, T)
// the last signed (source, target), a new (s, t, r) is accepted if there is
// no record, if it is exactly the last one (same s, t and root), or if
// s >= S and t > T. Accepted attestations then have non-decreasing sources
// and strictly increasing targets, so no two share a target (no double vote)
// and none surrounds another (that needs a smaller source with a larger
// target, or the reverse). A source below S is refused (it could surround an
// earlier vote), as is a target at or below T. Source > target is
// ErrInvalidArgument: no valid attestation has it.
//
// Both checks read the record, decide and write the new record in one
// durable write under a mutex, and return nil only after the write: the
// caller signs only on nil.

// ProposalRecord is the last proposal a validator signed.
type ProposalRecord struct {
	Slot        types.Slot
	SigningRoot types.Root
}

// AttestationRecord is the last attestation a validator signed.
type AttestationRecord struct {
	Source, Target types.Epoch
	SigningRoot    types.Root
}

const (
	proposalRecordSize    = 8 + 32
	attestationRecordSize = 8 + 8 + 32
)

func (r ProposalRecord) encode() []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, proposalRecordSize), uint64(r.Slot)), r.SigningRoot[:]...)
}

func (r AttestationRecord) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, attestationRecordSize), uint64(r.Source))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Target))
	return append(b, r.SigningRoot[:]...)
}

// LastProposal returns the last proposal recorded for validator, or an error
// wrapping ErrNotFound.
func (s *Store) LastProposal(validator types.ValidatorIndex) (ProposalRecord, error) {
	what := fmt.Sprintf("read proposal record of validator %d", validator)
	v, err := s.get(what, proposalKey(validator))
	if err != nil {
		return ProposalRecord{}, err
	}
	if len(v) != proposalRecordSize {
		return ProposalRecord{}, fmt.Errorf("%s: %w: %d bytes, want %d", what, ErrCorrupt, len(v), proposalRecordSize)
	}
	return ProposalRecord{Slot: types.Slot(binary.BigEndian.Uint64(v)), SigningRoot: types.Root(v[8:])}, nil
}

// LastAttestation returns the last attestation recorded for validator, or an
// error wrapping ErrNotFound.
func (s *Store) LastAttestation(validator types.ValidatorIndex) (AttestationRecord, error) {
	what := fmt.Sprintf("read attestation record of validator %d", validator)
	v, err := s.get(what, attestKey(validator))
	if err != nil {
		return AttestationRecord{}, err
	}
	if len(v) != attestationRecordSize {
		return AttestationRecord{}, fmt.Errorf("%s: %w: %d bytes, want %d", what, ErrCorrupt, len(v), attestationRecordSize)
	}
	return AttestationRecord{
		Source:      types.Epoch(binary.BigEndian.Uint64(v)),
		Target:      types.Epoch(binary.BigEndian.Uint64(v[8:])),
		SigningRoot: types.Root(v[16:]),
	}, nil
}

// CheckAndRecordProposal returns nil if validator may sign the block with
// signingRoot at slot, after durably recording it; an error wrapping
// ErrSlashable if the proposal could be slashable given the signed history
// (see the rule above); or another error, in which case the caller must not
// sign either.
func (s *Store) CheckAndRecordProposal(validator types.ValidatorIndex, slot types.Slot, signingRoot types.Root) error {
	s.spMu.Lock()
	defer s.spMu.Unlock()
	last, err := s.LastProposal(validator)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return fmt.Errorf("check proposal: %w", err)
	case last.Slot == slot && last.SigningRoot == signingRoot:
		return nil // the same block again
	default:
		epoch, lastEpoch := uint64(slot)/s.cfg.SlotsPerEpoch, uint64(last.Slot)/s.cfg.SlotsPerEpoch
		var why string
		switch {
		case slot == last.Slot:
			why = "double proposal: another block was signed at this slot"
		case epoch == lastEpoch:
			why = "another block was signed in this epoch (v0.8.3 slashes two blocks of one epoch)"
		case epoch < lastEpoch:
			why = "a block of a later epoch was signed"
		}
		if why != "" {
			return fmt.Errorf("%w: validator %d: block %s at slot %d (epoch %d): %s: block %s at slot %d (epoch %d)",
				ErrSlashable, validator, signingRoot, slot, epoch, why, last.SigningRoot, last.Slot, lastEpoch)
		}
	}
	rec := ProposalRecord{Slot: slot, SigningRoot: signingRoot}
	if err := s.db.Put(proposalKey(validator), rec.encode()); err != nil {
		return fmt.Errorf("record proposal of validator %d at slot %d: %w", validator, slot, err)
	}
	return nil
}

// CheckAndRecordAttestation returns nil if validator may sign the
// attestation with the given source and target epochs and signing root,
// after durably recording it; an error wrapping ErrSlashable if it could be
// a double or surround vote given the signed history (see the rule above);
// or another error, in which case the caller must not sign either.
func (s *Store) CheckAndRecordAttestation(validator types.ValidatorIndex, source, target types.Epoch, signingRoot types.Root) error {
	if source > target {
		return fmt.Errorf("check attestation: %w: source epoch %d after target epoch %d", ErrInvalidArgument, source, target)
	}
	s.spMu.Lock()
	defer s.spMu.Unlock()
	last, err := s.LastAttestation(validator)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return fmt.Errorf("check attestation: %w", err)
	case last.Source == source && last.Target == target && last.SigningRoot == signingRoot:
		return nil // the same attestation again
	case target == last.Target:
		return fmt.Errorf("%w: validator %d: double vote: attestation %s (source %d, target %d) and the signed %s (source %d) have the same target",
			ErrSlashable, validator, signingRoot, source, target, last.SigningRoot, last.Source)
	case target < last.Target:
		return fmt.Errorf("%w: validator %d: attestation %s (source %d, target %d) is older than the signed %s (source %d, target %d)",
			ErrSlashable, validator, signingRoot, source, target, last.SigningRoot, last.Source, last.Target)
	case source < last.Source:
		return fmt.Errorf("%w: validator %d: possible surround vote: attestation %s (source %d, target %d) has a source before the signed %s (source %d, target %d)",
			ErrSlashable, validator, signingRoot, source, target, last.SigningRoot, last.Source, last.Target)
	}
	rec := AttestationRecord{Source: source, Target: target, SigningRoot: signingRoot}
	if err := s.db.Put(attestKey(validator), rec.encode()); err != nil {
		return fmt.Errorf("record attestation of validator %d at target %d: %w", validator, target, err)
	}
	return nil
}
