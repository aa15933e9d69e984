package handler

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// Byzantine behaviour for experiments: the offences a slasher must catch,
// built once here so the simulator (sim/netsim) and a real node's debug API
// (beacon/node) stage the same messages. Every message is validly signed by
// a hosted validator; only the slashing conditions tell it is an offence.
// The host decides when to call (its clock) and where the bytes go.

// ByzantineVote is the kind of a validator's extra vote.
type ByzantineVote int

// The extra votes.
const (
	// DoubleVote votes, besides the honest vote, for the same target with
	// another head (the head's parent).
	DoubleVote ByzantineVote = iota
	// SurroundVote votes from the genesis checkpoint to the current
	// target, surrounding the validator's vote of the previous epoch once
	// the chain has justified an epoch after genesis.
	SurroundVote
)

func (k ByzantineVote) String() string {
	if k == SurroundVote {
		return "surround vote"
	}
	return "double vote"
}

// ByzantineDuty finds hosted validator v's duty slot in the epoch of
// current, and its committee, for an extra vote of kind: the slot must not
// have begun before current.
func (h *Handler) ByzantineDuty(v types.ValidatorIndex, kind ByzantineVote, current types.Slot) (types.Slot, validator.SlotCommittee, error) {
	fail := func(format string, args ...any) (types.Slot, validator.SlotCommittee, error) {
		return 0, validator.SlotCommittee{}, fmt.Errorf("%s as validator %d: %w", kind, v, fmt.Errorf(format, args...))
	}
	st := h.chain.HeadState()
	if uint64(v) >= uint64(len(st.Validators)) {
		return fail("no such validator")
	}
	if h.cfg.Keys == nil {
		return fail("the node hosts no validators")
	}
	if _, ok := h.cfg.Keys.SecretKeyOf(st.Validators[v].Pubkey); !ok {
		return fail("not hosted here (hosted: %s)", h.cfg.Keys)
	}
	spe := types.Slot(h.pcfg.SlotsPerEpoch)
	start := current - current%spe
	if st.Slot < start {
		if err := h.tr.ProcessSlots(st, start); err != nil {
			return fail("%w", err)
		}
	}
	for slot := start; slot < start+spe; slot++ {
		coms, err := validator.SlotCommittees(h.tr, st, slot)
		if err != nil {
			return fail("%w", err)
		}
		for _, sc := range coms {
			for _, m := range sc.Committee {
				if m != v {
					continue
				}
				if slot < current {
					return fail("%w: its duty slot %d of this epoch has begun (call at an epoch's start)", ErrByzantine, slot)
				}
				return slot, sc, nil
			}
		}
	}
	return fail("%w: not in a committee this epoch", ErrByzantine)
}

// ErrByzantine is wrapped when a byzantine action cannot be staged now.
var ErrByzantine = fmt.Errorf("byzantine action not possible")

// ByzantineAttestation builds v's extra vote of kind at its duty slot (sc
// from ByzantineDuty) on the handler's head, signed by v alone.
func (h *Handler) ByzantineAttestation(v types.ValidatorIndex, slot types.Slot, sc validator.SlotCommittee, kind ByzantineVote) (*types.Attestation, error) {
	head, _ := h.chain.Head()
	st := h.chain.HeadState()
	if st.Slot < slot {
		if err := h.tr.ProcessSlots(st, slot); err != nil {
			return nil, fmt.Errorf("%s as validator %d: %w", kind, v, err)
		}
	}
	d, err := validator.ProduceAttestationData(h.tr, st, head, slot, sc.Shard)
	if err != nil {
		return nil, fmt.Errorf("%s as validator %d: %w", kind, v, err)
	}
	switch kind {
	case DoubleVote:
		b, ok := h.chain.Block(d.BeaconBlockRoot)
		if !ok {
			return nil, fmt.Errorf("%s as validator %d: head block %s gone", kind, v, d.BeaconBlockRoot)
		}
		d.BeaconBlockRoot = b.GetParentRoot()
	case SurroundVote:
		if d.Source.Epoch == 0 {
			return nil, fmt.Errorf("%s as validator %d: %w: the source is genesis already, nothing to surround", kind, v, ErrByzantine)
		}
		d.Source = types.Checkpoint{Epoch: 0, Root: h.chain.GenesisRoot()}
	}
	a, err := validator.SignAttestation(h.tr, st, d, sc.Committee, v, h.cfg.Keys)
	if err != nil {
		return nil, fmt.Errorf("%s as validator %d: %w", kind, v, err)
	}
	return a, nil
}

// EquivocatingBlock builds a second block for first's slot on the same
// parent, with graffiti of its own, signed by the same hosted proposer.
func (h *Handler) EquivocatingBlock(first types.AnyBlock, graffiti string) (types.AnyBlock, error) {
	pre, ok := h.chain.StateAt(first.GetParentRoot())
	if !ok {
		return nil, fmt.Errorf("equivocate at slot %d: no parent state", first.GetSlot())
	}
	var g types.Root
	copy(g[:], graffiti)
	b, _, err := validator.ProduceAnyBlock(h.tr, pre, first.GetSlot(), h.cfg.Keys, validator.Proposal{Graffiti: g})
	if err != nil {
		return nil, fmt.Errorf("equivocate at slot %d: %w", first.GetSlot(), err)
	}
	return b, nil
}
