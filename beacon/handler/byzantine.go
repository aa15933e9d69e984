package handler

import (
	"crypto/sha256"
	"fmt"
	"math"
	"slices"

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

// WrongDataRootDuty finds shard's crosslink committee in the epoch that
// begins at epochStart (by the head state advanced to it) and its first
// share of members, rounded up: the voters of WrongDataRootVote. Every
// node finds the same committee; each casts for the voters it hosts.
func (h *Handler) WrongDataRootDuty(shard types.Shard, share float64, epochStart types.Slot) (types.Slot, validator.SlotCommittee, []types.ValidatorIndex, error) {
	fail := func(err error) (types.Slot, validator.SlotCommittee, []types.ValidatorIndex, error) {
		return 0, validator.SlotCommittee{}, nil, fmt.Errorf("wrong data root votes of shard %d: %w", shard, err)
	}
	spe := types.Slot(h.pcfg.SlotsPerEpoch)
	switch {
	case !(share > 0 && share <= 1):
		return fail(fmt.Errorf("%w: share %v not in (0, 1]", ErrByzantine, share))
	case epochStart%spe != 0:
		return fail(fmt.Errorf("%w: call at an epoch's start, not slot %d", ErrByzantine, epochStart))
	case uint64(shard) >= h.pcfg.ShardCount:
		return fail(fmt.Errorf("%w: shard %d of %d", ErrByzantine, shard, h.pcfg.ShardCount))
	}
	st := h.chain.HeadState()
	if st.Slot < epochStart {
		if err := h.tr.ProcessSlots(st, epochStart); err != nil {
			return fail(err)
		}
	}
	for slot := epochStart; slot < epochStart+spe; slot++ {
		coms, err := validator.SlotCommittees(h.tr, st, slot)
		if err != nil {
			return fail(err)
		}
		for _, sc := range coms {
			if sc.Shard != shard {
				continue
			}
			k := int(math.Ceil(share * float64(len(sc.Committee))))
			return slot, sc, slices.Clone(sc.Committee[:k]), nil
		}
	}
	return fail(fmt.Errorf("%w: shard %d has no committee this epoch", ErrByzantine, shard))
}

// WrongDataRootVote builds the crosslink vote of the hosted voters (members
// of sc, from WrongDataRootDuty) at slot on the handler's head with the
// data root wrongRoot gives for the honest crosslink. Each voter's vote is
// recorded in the node's slashing protection first, so its honest attester
// refuses to sign the other vote: the voters vote only the wrong root (a
// voter whose protection refuses is left out). The aggregate, signed by
// the voters recorded, goes to the node's own fork choice and pool; the
// caller gossips it.
func (h *Handler) WrongDataRootVote(slot types.Slot, sc validator.SlotCommittee, voters []types.ValidatorIndex, wrongRoot func(types.Crosslink) (types.Root, error)) (*types.Attestation, []types.ValidatorIndex, error) {
	fail := func(err error) (*types.Attestation, []types.ValidatorIndex, error) {
		return nil, nil, fmt.Errorf("wrong data root vote of shard %d at slot %d: %w", sc.Shard, slot, err)
	}
	if h.cfg.Keys == nil {
		return fail(fmt.Errorf("%w: the node hosts no validators", ErrByzantine))
	}
	head, _ := h.chain.Head()
	st := h.chain.HeadState()
	if st.Slot < slot {
		if err := h.tr.ProcessSlots(st, slot); err != nil {
			return fail(err)
		}
	}
	d, err := validator.ProduceAttestationData(h.tr, st, head, slot, sc.Shard)
	if err != nil {
		return fail(err)
	}
	if d.Crosslink.DataRoot, err = wrongRoot(d.Crosslink); err != nil {
		return fail(err)
	}
	msg := (&types.AttestationDataAndCustodyBit{Data: *d}).TreeRoot()
	var signed []types.ValidatorIndex
	for _, v := range voters {
		if err := h.chain.Store().CheckAndRecordAttestation(v, d.Source.Epoch, d.Target.Epoch, msg); err == nil {
			signed = append(signed, v)
		}
	}
	if len(signed) == 0 {
		return fail(fmt.Errorf("%w: slashing protection refused every voter", ErrByzantine))
	}
	a, err := validator.AggregateCommittee(h.tr, st, d, sc.Committee, signed, h.cfg.Keys)
	if err != nil {
		return fail(err)
	}
	_ = h.chain.OnAttestation(a)
	return a, signed, nil
}

// UnknownDataRoot is a crosslink data root no shard chain gives, for
// wrong data root votes on a node that knows no fraudulent block: a hash
// of what is voted.
func UnknownDataRoot(c types.Crosslink) (types.Root, error) {
	return sha256.Sum256(fmt.Appendf(nil, "shardlab wrong data root of shard %d for epochs %d..%d", c.Shard, c.StartEpoch, c.EndEpoch)), nil
}
