package slasher

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// OnAttestations records verified indexed attestations and returns the
// attester slashings they make possible: for each attestation and each
// earlier recorded one it conflicts with (double vote, surrounding or
// surrounded), one AttesterSlashing whose two attestations satisfy
// is_slashable_attestation_data, unless every validator it would slash was
// already in a slashing the slasher built (one slashing per offender).
//
// Seeing the same data again is not an offence. A bad attestation (see
// ErrMalformed, ErrOutOfWindow, ErrUnknownValidator) is skipped and its
// error joined into the returned error; the others are still processed and
// their slashings returned. All writes of the call are committed at once; a
// storage failure drops them all and returns no slashing.
func (s *Slasher) OnAttestations(atts []*types.IndexedAttestation) ([]*types.AttesterSlashing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*types.AttesterSlashing
	var errs []error
	for i, ia := range atts {
		found, err := s.onAttestation(ia)
		switch {
		case err == nil:
		case errors.Is(err, ErrMalformed), errors.Is(err, ErrOutOfWindow), errors.Is(err, ErrUnknownValidator):
			errs = append(errs, fmt.Errorf("attestation %d: %w", i, err))
			continue
		default: // storage trouble: drop the whole call
			s.discardLocked()
			return nil, fmt.Errorf("slasher: attestation %d: %w", i, err)
		}
		out = append(out, found...)
	}
	if err := s.flushLocked(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("slasher: %w", errors.Join(errs...))
	}
	return out, nil
}

// attestingIndices checks ia's shape and returns its attesting indices
// (custody bit 0 and 1 together), sorted.
func (s *Slasher) attestingIndices(ia *types.IndexedAttestation) ([]uint64, error) {
	if ia == nil {
		return nil, fmt.Errorf("%w: nil attestation", ErrMalformed)
	}
	d := &ia.Data
	if d.Source.Epoch > d.Target.Epoch {
		return nil, fmt.Errorf("%w: source epoch %d after target epoch %d", ErrMalformed, d.Source.Epoch, d.Target.Epoch)
	}
	if err := s.checkEpoch("target", d.Target.Epoch); err != nil {
		return nil, err
	}
	if err := s.checkEpoch("source", d.Source.Epoch); err != nil {
		return nil, err
	}
	n := len(ia.CustodyBit0Indices) + len(ia.CustodyBit1Indices)
	if n == 0 || uint64(n) > s.pcfg.MaxValidatorsPerCommittee {
		return nil, fmt.Errorf("%w: %d attesting indices", ErrMalformed, n)
	}
	all := make([]uint64, 0, n)
	for _, list := range [][]uint64{ia.CustodyBit0Indices, ia.CustodyBit1Indices} {
		for i, v := range list {
			if i > 0 && v <= list[i-1] {
				return nil, fmt.Errorf("%w: indices not sorted and unique", ErrMalformed)
			}
			if v >= s.validators {
				return nil, fmt.Errorf("%w: validator %d of %d", ErrUnknownValidator, v, s.validators)
			}
		}
		all = append(all, list...)
	}
	slices.Sort(all)
	if len(slices.Compact(all)) != n {
		return nil, fmt.Errorf("%w: an index has both custody bits", ErrMalformed)
	}
	return all, nil
}

// onAttestation is OnAttestations for one attestation. s.mu must be held.
func (s *Slasher) onAttestation(ia *types.IndexedAttestation) ([]*types.AttesterSlashing, error) {
	indices, err := s.attestingIndices(ia)
	if err != nil {
		return nil, err
	}
	src, tgt := ia.Data.Source.Epoch, ia.Data.Target.Epoch
	dataRoot, err := ia.Data.HashTreeRoot()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	recRoot, err := ia.HashTreeRoot()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	vote := append(dataRoot[:], recRoot[:]...)
	var others [][]byte // record keys of the conflicting attestations
	addOther := func(k []byte) {
		if !slices.ContainsFunc(others, func(o []byte) bool { return bytes.Equal(o, k) }) {
			others = append(others, k)
		}
	}
	recorded := false
	for _, v := range indices {
		prev, ok, err := s.get(u64Key(prefixVote, uint64(tgt), v))
		if err != nil {
			return nil, fmt.Errorf("read vote of validator %d: %w", v, err)
		}
		if ok {
			if len(prev) != 64 {
				return nil, fmt.Errorf("read vote of validator %d: %w", v, errCorruptValue)
			}
			if !bytes.Equal(prev[:32], dataRoot[:]) {
				addOther(append(u64Key(prefixRecord, uint64(tgt)), prev[32:]...)) // double vote
			}
			continue // same data seen before, or a double vote: no new span
		}
		surrounds, surroundedBy, err := s.surroundTargets(v, src, tgt)
		if err != nil {
			return nil, err
		}
		for _, t := range append(surrounds, surroundedBy...) {
			prev, ok, err := s.get(u64Key(prefixVote, uint64(t), v))
			if err != nil {
				return nil, fmt.Errorf("read vote of validator %d: %w", v, err)
			}
			if ok && len(prev) == 64 {
				addOther(append(u64Key(prefixRecord, uint64(t)), prev[32:]...))
			}
		}
		if err := s.updateSpans(v, src, tgt); err != nil {
			return nil, err
		}
		s.put(u64Key(prefixVote, uint64(tgt), v), vote)
		recorded = true
	}
	if recorded {
		enc, err := ia.MarshalSSZ()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		s.put(append(u64Key(prefixRecord, uint64(tgt)), recRoot[:]...), enc)
	}
	var out []*types.AttesterSlashing
	for _, k := range others {
		as, err := s.evidence(k, ia)
		if err != nil {
			return nil, err
		}
		if as != nil {
			out = append(out, as)
		}
	}
	return out, nil
}

// evidence builds the slashing of the recorded attestation under key and
// ia, ordered so that is_slashable_attestation_data holds, or nil when the
// pair is not slashable (a record pruned meanwhile) or slashes nobody new.
func (s *Slasher) evidence(key []byte, ia *types.IndexedAttestation) (*types.AttesterSlashing, error) {
	raw, ok, err := s.get(key)
	if err != nil {
		return nil, fmt.Errorf("read attestation record: %w", err)
	}
	if !ok {
		return nil, nil
	}
	prev := new(types.IndexedAttestation)
	if err := types.Decode(prev, raw); err != nil {
		return nil, fmt.Errorf("read attestation record: %w", err)
	}
	var as *types.AttesterSlashing
	switch {
	case core.IsSlashableAttestationData(&prev.Data, &ia.Data):
		as = &types.AttesterSlashing{Attestation1: *prev, Attestation2: *ia}
	case core.IsSlashableAttestationData(&ia.Data, &prev.Data):
		as = &types.AttesterSlashing{Attestation1: *ia, Attestation2: *prev}
	default:
		return nil, nil
	}
	fresh := false
	for _, v := range SlashedIndices(as) {
		done, err := s.reported(v)
		if err != nil {
			return nil, fmt.Errorf("read slashing marker: %w", err)
		}
		if !done {
			fresh = true
			s.markReported(v)
		}
	}
	if !fresh {
		return nil, nil
	}
	return as, nil
}

// SlashedIndices returns the validators an attester slashing slashes (if
// slashable): those attesting in both attestations, sorted.
func SlashedIndices(as *types.AttesterSlashing) []uint64 {
	in := func(ia *types.IndexedAttestation) []uint64 {
		all := append(slices.Clone(ia.CustodyBit0Indices), ia.CustodyBit1Indices...)
		slices.Sort(all)
		return all
	}
	a, b := in(&as.Attestation1), in(&as.Attestation2)
	var out []uint64
	for _, v := range a {
		if _, ok := slices.BinarySearch(b, v); ok {
			out = append(out, v)
		}
	}
	return out
}
