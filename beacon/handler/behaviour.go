package handler

import (
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// Behaviour makes hosted validators deviate from the validator guide, for
// simulations of faults and attacks. Each nil field keeps the honest
// behaviour; the zero Behaviour is an honest validator client.
type Behaviour struct {
	// Offline reports a hosted validator that does no duty at all: it
	// neither proposes nor attests.
	Offline func(v types.ValidatorIndex) bool
	// Withhold reports a hosted validator that attests but keeps its
	// attestations off the network: they only reach the node's own pool,
	// hence only its own blocks.
	Withhold func(v types.ValidatorIndex) bool
	// WrongHead reports a hosted validator that votes for the head's
	// parent instead of the head (same source and target: a wrong fork
	// choice vote, not a slashable one). On a genesis head, which has no
	// parent, it does not vote.
	WrongHead func(v types.ValidatorIndex) bool
	// Censor reports a validator whose attestations the node's proposers
	// leave out of their blocks (any aggregate that counts it).
	Censor func(v types.ValidatorIndex) bool
}

func is(f func(types.ValidatorIndex) bool, v types.ValidatorIndex) bool { return f != nil && f(v) }

// uncensored returns the attestations of pool that count no censored
// validator, by the committees of st (pre-state processed to the block's
// slot); ones whose committee cannot be computed stay in.
func (b *Behaviour) uncensored(tr *core.Transition, st *types.BeaconState, pool []*types.Attestation) []*types.Attestation {
	if b.Censor == nil {
		return pool
	}
	out := pool[:0:0]
	for _, a := range pool {
		idx, err := tr.AttestingIndices(st, &a.Data, a.AggregationBits)
		keep := true
		for _, v := range idx {
			if err == nil && b.Censor(v) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, a)
		}
	}
	return out
}

// castVotes casts the votes of the hosted committee members ours on data:
// the honest ones as the guide says, then those Behaviour sends to the
// head's parent, then the withheld ones, each group as its own aggregate.
func (h *Handler) castVotes(st *types.BeaconState, data *types.AttestationData, sc validator.SlotCommittee, ours []types.ValidatorIndex) {
	b := &h.cfg.Behaviour
	if b.WrongHead == nil && b.Withhold == nil {
		h.castVote(st, data, sc, ours, false)
		return
	}
	type group struct{ wrong, withhold bool }
	members := map[group][]types.ValidatorIndex{}
	for _, v := range ours {
		g := group{is(b.WrongHead, v), is(b.Withhold, v)}
		members[g] = append(members[g], v)
	}
	for _, g := range []group{{false, false}, {true, false}, {false, true}, {true, true}} {
		vs := members[g]
		if len(vs) == 0 {
			continue
		}
		d := *data
		if g.wrong {
			blk, ok := h.chain.Block(d.BeaconBlockRoot)
			if !ok || blk.GetSlot() == 0 {
				h.log.Debug("wrong-head vote skipped: no parent", "slot", st.Slot)
				continue
			}
			d.BeaconBlockRoot = blk.GetParentRoot()
		}
		h.castVote(st, &d, sc, vs, g.withhold)
	}
}

// SetKeys replaces the hosted validator keys (a simulator adding the keys of
// validators it deposited). Like every Handler method it must not run
// concurrently with another.
func (h *Handler) SetKeys(keys *validator.Keys) { h.cfg.Keys = keys }
