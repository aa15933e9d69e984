package handler

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/forkchoice"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// Topics are the beacon node's gossip topics, in subscription order.
var Topics = []string{
	p2p.BeaconBlockTopic, p2p.BeaconAttestationTopic, p2p.VoluntaryExitTopic,
	p2p.ProposerSlashingTopic, p2p.AttesterSlashingTopic, p2p.ShardFraudProofTopic,
}

// OnGossip validates and processes a gossip message (the SSZ bytes) from
// peer from: a block is imported, an attestation counted and pooled, an
// operation pooled; the verdict says whether to forward it.
func (h *Handler) OnGossip(topic string, from peer.ID, data []byte) Verdict {
	var v Verdict
	switch topic {
	case p2p.BeaconBlockTopic:
		v = h.onBlock(from, data)
	case p2p.BeaconAttestationTopic:
		v = h.onAttestation(from, data)
	case p2p.VoluntaryExitTopic:
		v = decodeThen(data, new(types.VoluntaryExit), h.chain.AddVoluntaryExit)
	case p2p.ProposerSlashingTopic:
		v = decodeThen(data, new(types.ProposerSlashing), h.chain.AddProposerSlashing)
	case p2p.AttesterSlashingTopic:
		v = decodeThen(data, new(types.AttesterSlashing), h.chain.AddAttesterSlashing)
	case p2p.ShardFraudProofTopic:
		v = verdict(h.chain.AddFraudProof(data))
	default:
		return Ignore
	}
	if v == Reject {
		h.log.Debug("rejected gossip", "topic", topic, "peer", from)
	}
	return v
}

// verdict maps a chain error to a gossip verdict: "not now" and "not new"
// are ignored, consensus failures rejected, anything else (storage trouble)
// ignored.
func verdict(err error) Verdict {
	switch {
	case err == nil:
		return Accept
	case errors.Is(err, chain.ErrUnknownParent), errors.Is(err, chain.ErrUnknownTarget),
		errors.Is(err, chain.ErrFuture), errors.Is(err, chain.ErrTooOld), errors.Is(err, chain.ErrDuplicate):
		return Ignore
	case errors.Is(err, core.ErrInvalid):
		return Reject
	}
	return Ignore
}

// decodeThen is the validation of an operation topic: strict decoding
// (undecodable = Reject), then the chain's pool admission.
func decodeThen[T types.Codec](data []byte, v T, add func(T) error) Verdict {
	if err := types.Decode(v, data); err != nil {
		return Reject
	}
	return verdict(add(v))
}

// maxFutureSlots is how far past the current slot a gossip block may be
// before it is rejected; within it, a block whose slot has not started
// waits for it.
const maxFutureSlots = 1

// gossipClockDisparity is the clock difference tolerated for gossip blocks
// (eth2's MAXIMUM_GOSSIP_CLOCK_DISPARITY).
const gossipClockDisparity = 500 * time.Millisecond

// onBlock decodes a gossip block by the fork of its slot and imports it:
// the import is the validation (proposer signature, state transition, fork
// choice).
func (h *Handler) onBlock(from peer.ID, data []byte) Verdict {
	seen := h.env.Now()
	b, err := types.DecodeBlock(h.pcfg, data)
	if err != nil {
		return Reject
	}
	slot := b.GetSlot()
	cur, _ := h.slots.SlotAt(seen.Add(gossipClockDisparity))
	if slot > cur+maxFutureSlots {
		h.log.Debug("rejected block from the future", "slot", slot, "peer", from)
		return Reject
	}
	if fin := h.chain.Finalized(); slot <= core.ComputeStartSlotOfEpoch(h.pcfg, fin.Epoch) {
		return Reject
	}
	root, err := b.SigningRoot()
	if err != nil {
		return Reject
	}
	h.cfg.Hooks.blockSeen(root, seen)
	// A block may arrive a little before its slot by our clock.
	h.tickAt(seen.Add(gossipClockDisparity))
	_, err = h.chain.ImportBlock(b, core.VerifySigs)
	switch {
	case err == nil:
		h.log.Debug("imported gossip block", "slot", slot, "root", root, "peer", from)
	case errors.Is(err, chain.ErrUnknownParent):
		h.fetchAncestors(from, b)
	case errors.Is(err, chain.ErrFuture):
		if len(h.future) < maxFutureBlocks {
			h.future[root] = b
		}
	case errors.Is(err, forkchoice.ErrFinalizedSlot):
		return Reject
	case !errors.Is(err, core.ErrInvalid):
		h.log.Warn("import gossip block failed", "slot", slot, "root", root, "err", err)
	default:
		h.log.Debug("invalid gossip block", "slot", slot, "root", root, "peer", from, "err", err)
	}
	return verdict(err)
}

// importFuture imports the queued blocks whose slot has started, by slot
// then root.
func (h *Handler) importFuture(cur types.Slot) {
	type queued struct {
		root types.Root
		b    types.AnyBlock
	}
	var ready []queued
	for r, b := range h.future {
		if b.GetSlot() <= cur {
			ready = append(ready, queued{r, b})
		}
	}
	slices.SortFunc(ready, func(x, y queued) int {
		return cmp.Or(cmp.Compare(x.b.GetSlot(), y.b.GetSlot()), slices.Compare(x.root[:], y.root[:]))
	})
	for _, q := range ready {
		delete(h.future, q.root)
		if _, err := h.chain.ImportBlock(q.b, core.VerifySigs); err != nil {
			h.log.Debug("import queued block failed", "slot", q.b.GetSlot(), "err", err)
		}
	}
}

// onAttestation decodes and validates an attestation through the chain
// (target window, committee, signature, fork choice); an unknown target is
// ignored and fetched from the sender.
func (h *Handler) onAttestation(from peer.ID, data []byte) Verdict {
	a := new(types.Attestation)
	if err := types.Decode(a, data); err != nil {
		return Reject
	}
	ia, err := h.chain.OnAttestationIndexed(a)
	if err == nil {
		h.cfg.Hooks.attestationVerified(ia)
	}
	if errors.Is(err, chain.ErrUnknownTarget) {
		h.fetchRoots(from, []types.Root{a.Data.Target.Root})
	}
	return verdict(err)
}
