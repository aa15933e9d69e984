package core

import "github.com/shardlab/shardlab/beacon/types"

// StateView answers several questions about one state with one memo of
// what it derives from it (active sets, committee counts, seeds,
// shufflings), instead of deriving them again for each call as the
// Transition's methods do. Validating an attestation asks three questions
// of its target's checkpoint state; a fork choice that keeps a view per
// checkpoint state derives them once per state rather than three times
// per attestation.
//
// The state must not be modified while the view is in use (checkpoint
// states and block post-states held by the fork choice are not). A view is
// not safe for concurrent use.
type StateView struct{ c *ctx }

// NewStateView returns a view of st, which must not be modified afterwards.
func (t *Transition) NewStateView(st *types.BeaconState) *StateView {
	return &StateView{c: t.newCtx(st)}
}

// State returns the viewed state; callers must not modify it.
func (v *StateView) State() *types.BeaconState { return v.c.st }

// AttestationDataSlot is get_attestation_data_slot.
func (v *StateView) AttestationDataSlot(d *types.AttestationData) (types.Slot, error) {
	return v.c.attestationDataSlot(d)
}

// IndexedAttestation is get_indexed_attestation.
func (v *StateView) IndexedAttestation(a *types.Attestation) (*types.IndexedAttestation, error) {
	return v.c.indexedAttestation(a)
}

// IsValidIndexedAttestation is is_valid_indexed_attestation (see
// Transition.IsValidIndexedAttestation).
func (v *StateView) IsValidIndexedAttestation(ia *types.IndexedAttestation, sigs Sigs) error {
	return v.c.t.isValidIndexedAttestation(v.c, ia, sigs)
}
