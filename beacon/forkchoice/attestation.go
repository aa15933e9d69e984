package forkchoice

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// OnAttestation is on_attestation:
//
//	target = attestation.data.target
//	assert target.root in store.blocks
//	base_state = store.block_states[target.root].copy()
//	assert store.time >= base_state.genesis_time + compute_start_slot_of_epoch(target.epoch) * SECONDS_PER_SLOT
//	if target not in store.checkpoint_states:
//	    process_slots(base_state, compute_start_slot_of_epoch(target.epoch))
//	    store.checkpoint_states[target] = base_state
//	target_state = store.checkpoint_states[target]
//	attestation_slot = get_attestation_data_slot(target_state, attestation.data)
//	assert store.time >= (attestation_slot + 1) * SECONDS_PER_SLOT
//	indexed_attestation = get_indexed_attestation(target_state, attestation)
//	assert is_valid_indexed_attestation(target_state, indexed_attestation)
//	for i in indexed_attestation.custody_bit_0_indices + indexed_attestation.custody_bit_1_indices:
//	    if i not in store.latest_messages or target.epoch > store.latest_messages[i].epoch:
//	        store.latest_messages[i] = LatestMessage(epoch=target.epoch, root=attestation.data.beacon_block_root)
//
// except that the slot check adds the genesis time the spec forgot:
// store.time >= target_state.genesis_time + (attestation_slot + 1) * SECONDS_PER_SLOT.
// Signatures are checked as sigs says. On error the store is unchanged;
// rejections wrap core.ErrInvalid and, for the fork choice's own asserts,
// ErrUnknownTarget, ErrFutureAttestation or ErrMalformed. The store does not
// keep a.
func (s *Store) OnAttestation(a *types.Attestation, sigs core.Sigs) error {
	if a == nil {
		return fmt.Errorf("add attestation: %w: nil attestation", ErrMalformed)
	}
	target := a.Data.Target
	tn, ok := s.nodes[target.Root]
	if !ok {
		return fmt.Errorf("add attestation: %w %s", ErrUnknownTarget, target.Root)
	}
	start, ok := s.epochStartSlot(target.Epoch)
	if !ok || !s.reached(tn.state.GenesisTime, uint64(start)) {
		return fmt.Errorf("add attestation: %w: target epoch %d has not started at time %d", ErrFutureAttestation, target.Epoch, s.time)
	}
	view, computed, err := s.checkpointView(target)
	if err != nil {
		return fmt.Errorf("add attestation: %w", err)
	}
	targetState := view.State()
	attSlot, err := view.AttestationDataSlot(&a.Data)
	if err != nil {
		return fmt.Errorf("add attestation: attestation slot: %w", err)
	}
	// attSlot+1 cannot wrap: attSlot is within the target epoch, whose start
	// time was just shown to fit in a uint64. The first test guards anyway.
	if attSlot+1 == 0 || !s.reached(targetState.GenesisTime, uint64(attSlot)+1) {
		return fmt.Errorf("add attestation: %w: slot %d has not ended at time %d", ErrFutureAttestation, attSlot, s.time)
	}
	indexed, err := view.IndexedAttestation(a)
	if err != nil {
		return fmt.Errorf("add attestation: %w", err)
	}
	if err := view.IsValidIndexedAttestation(indexed, sigs); err != nil {
		return fmt.Errorf("add attestation: %w", err)
	}

	if computed {
		s.checkpointStates[target] = targetState
		s.views[target] = view
	}
	msg := LatestMessage{Epoch: target.Epoch, Root: a.Data.BeaconBlockRoot}
	for _, l := range [][]uint64{indexed.CustodyBit0Indices, indexed.CustodyBit1Indices} {
		for _, i := range l {
			s.setLatest(i, msg)
		}
	}
	return nil
}

// setLatest records msg for validator i unless its latest message is from
// the same or a later epoch. i is below the validator count of a state
// (is_valid_indexed_attestation checked it), which bounds the slice.
func (s *Store) setLatest(i uint64, msg LatestMessage) {
	if i >= uint64(len(s.latest)) {
		s.latest = append(s.latest, make([]vote, int(i)+1-len(s.latest))...)
	}
	v := &s.latest[i]
	if !v.set || msg.Epoch > v.msg.Epoch {
		*v = vote{msg: msg, set: true}
	}
}

// checkpointView returns a view of checkpoint_states[cp] (see
// checkpointState), kept with the state so that the committees of a
// checkpoint are derived once, not once per attestation. computed says
// that the state (and its view) are new and not yet stored.
func (s *Store) checkpointView(cp types.Checkpoint) (*core.StateView, bool, error) {
	if v, ok := s.views[cp]; ok {
		return v, false, nil
	}
	st, computed, err := s.checkpointState(cp, nil)
	if err != nil {
		return nil, false, err
	}
	v := s.states.View(s.tr, st)
	if !computed {
		s.views[cp] = v
	}
	return v, computed, nil
}
