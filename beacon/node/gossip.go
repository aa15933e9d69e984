package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/forkchoice"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// gossipTopics are the beacon node's topics.
var gossipTopics = []string{
	p2p.BeaconBlockTopic, p2p.BeaconAttestationTopic, p2p.VoluntaryExitTopic,
	p2p.ProposerSlashingTopic, p2p.AttesterSlashingTopic, p2p.ShardFraudProofTopic,
}

// register subscribes to the gossip topics and installs the request
// handlers. Every gossip message is fully processed by its validator (a
// block is imported, an attestation counted and pooled), so that only valid
// messages are forwarded; the handlers have nothing left to do.
func (n *Node) register() error {
	validators := map[string]p2p.Validator{
		p2p.BeaconBlockTopic:       n.validateBlock,
		p2p.BeaconAttestationTopic: n.validateAttestation,
		p2p.VoluntaryExitTopic: decodeThen(func() *types.VoluntaryExit { return new(types.VoluntaryExit) },
			n.chain.AddVoluntaryExit),
		p2p.ProposerSlashingTopic: decodeThen(func() *types.ProposerSlashing { return new(types.ProposerSlashing) },
			n.chain.AddProposerSlashing),
		p2p.AttesterSlashingTopic: decodeThen(func() *types.AttesterSlashing { return new(types.AttesterSlashing) },
			n.chain.AddAttesterSlashing),
		p2p.ShardFraudProofTopic: n.validateFraudProof,
	}
	noop := func(context.Context, peer.ID, []byte) {}
	for _, t := range gossipTopics {
		v := validators[t]
		if err := n.p2p.Subscribe(t, n.guard(t, v), noop); err != nil {
			return fmt.Errorf("subscribe %s: %w", t, err)
		}
	}
	handlers := map[string]p2p.RequestHandler{
		p2p.StatusProtocol:              n.serveStatus,
		p2p.BeaconBlocksByRangeProtocol: n.serveBlocksByRange,
		p2p.BeaconBlocksByRootProtocol:  n.serveBlocksByRoot,
	}
	if n.cfg.ServeCrosslinkData != nil {
		handlers[CrosslinkDataRootProtocol] = n.serveCrosslinkData
	}
	for name, h := range handlers {
		if err := n.p2p.Handle(name, n.guardRequest(h)); err != nil {
			return fmt.Errorf("handle %s: %w", name, err)
		}
	}
	return nil
}

// guard ignores messages once the node is closing.
func (n *Node) guard(topic string, v p2p.Validator) p2p.Validator {
	return func(ctx context.Context, from peer.ID, data []byte) p2p.ValidationResult {
		if n.ctx.Err() != nil {
			return p2p.Ignore
		}
		res := v(ctx, from, data)
		if res == p2p.Reject {
			n.log.Debug("rejected gossip", "topic", topic, "peer", from)
		}
		return res
	}
}

// guardRequest refuses requests once the node is closing.
func (n *Node) guardRequest(h p2p.RequestHandler) p2p.RequestHandler {
	return func(ctx context.Context, from peer.ID, req []byte, w p2p.ResponseWriter) error {
		if n.ctx.Err() != nil {
			return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "node closing"}
		}
		return h(ctx, from, req, w)
	}
}

// verdict maps a chain error to a gossip verdict: "not now" and "not new"
// are ignored, consensus failures rejected, anything else (storage trouble)
// ignored.
func verdict(err error) p2p.ValidationResult {
	switch {
	case err == nil:
		return p2p.Accept
	case errors.Is(err, chain.ErrUnknownParent), errors.Is(err, chain.ErrUnknownTarget),
		errors.Is(err, chain.ErrFuture), errors.Is(err, chain.ErrTooOld), errors.Is(err, chain.ErrDuplicate):
		return p2p.Ignore
	case errors.Is(err, core.ErrInvalid):
		return p2p.Reject
	}
	return p2p.Ignore
}

// decodeThen builds the validator of an operation topic: strict decoding
// (undecodable = Reject), then the chain's pool admission.
func decodeThen[T types.Codec](newT func() T, add func(T) error) p2p.Validator {
	return func(_ context.Context, _ peer.ID, data []byte) p2p.ValidationResult {
		v := newT()
		if err := types.Decode(v, data); err != nil {
			return p2p.Reject
		}
		return verdict(add(v))
	}
}

// maxFutureSlots is how far past the current slot a gossip block may be
// before it is rejected; within it, a block whose slot has not started
// waits for it.
const maxFutureSlots = 1

// gossipClockDisparity is the clock difference tolerated for gossip blocks
// (eth2's MAXIMUM_GOSSIP_CLOCK_DISPARITY).
const gossipClockDisparity = 500 * time.Millisecond

// validateBlock decodes a gossip block by the fork of its slot and imports
// it: the import is the validation (proposer signature, state transition,
// fork choice).
func (n *Node) validateBlock(_ context.Context, from peer.ID, data []byte) p2p.ValidationResult {
	seen := n.slots.Now()
	b, err := types.DecodeBlock(n.pcfg, data)
	if err != nil {
		return p2p.Reject
	}
	slot := b.GetSlot()
	cur, _ := n.slots.SlotAt(seen.Add(gossipClockDisparity))
	if slot > cur+maxFutureSlots {
		n.log.Debug("rejected block from the future", "slot", slot, "peer", from)
		return p2p.Reject
	}
	if fin := n.chain.Finalized(); slot <= core.ComputeStartSlotOfEpoch(n.pcfg, fin.Epoch) {
		return p2p.Reject
	}
	root, err := b.SigningRoot()
	if err != nil {
		return p2p.Reject
	}
	n.arrivals.record(root, seen)
	// A block may arrive a little before its slot by our clock.
	n.tickAt(seen.Add(gossipClockDisparity))
	_, err = n.chain.ImportBlock(b, core.VerifySigs)
	switch {
	case err == nil:
		n.log.Debug("imported gossip block", "slot", slot, "root", root, "peer", from)
	case errors.Is(err, chain.ErrUnknownParent):
		n.fetchAncestors(from, b)
	case errors.Is(err, chain.ErrFuture):
		n.queueFuture(root, b)
	case errors.Is(err, forkchoice.ErrFinalizedSlot):
		return p2p.Reject
	case !errors.Is(err, core.ErrInvalid):
		n.log.Warn("import gossip block failed", "slot", slot, "root", root, "err", err)
	default:
		n.log.Debug("invalid gossip block", "slot", slot, "root", root, "peer", from, "err", err)
	}
	return verdict(err)
}

// queueFuture keeps a block until its slot starts (slotLoop imports it).
func (n *Node) queueFuture(root types.Root, b types.AnyBlock) {
	n.fetchMu.Lock()
	defer n.fetchMu.Unlock()
	if len(n.future) < maxFutureBlocks {
		n.future[root] = b
	}
}

// importFuture imports the queued blocks whose slot has started.
func (n *Node) importFuture(cur types.Slot) {
	n.fetchMu.Lock()
	var ready []types.AnyBlock
	for r, b := range n.future {
		if b.GetSlot() <= cur {
			ready = append(ready, b)
			delete(n.future, r)
		}
	}
	n.fetchMu.Unlock()
	for _, b := range ready {
		if _, err := n.chain.ImportBlock(b, core.VerifySigs); err != nil {
			n.log.Debug("import queued block failed", "slot", b.GetSlot(), "err", err)
		}
	}
}

// validateAttestation decodes and validates an attestation through the
// chain (target window, committee, signature, fork choice); an unknown
// target is ignored and fetched from the sender.
func (n *Node) validateAttestation(_ context.Context, from peer.ID, data []byte) p2p.ValidationResult {
	a := new(types.Attestation)
	if err := types.Decode(a, data); err != nil {
		return p2p.Reject
	}
	ia, err := n.chain.OnAttestationIndexed(a)
	if err == nil {
		n.slasherEnqueue(slasherJob{att: ia})
	}
	if errors.Is(err, chain.ErrUnknownTarget) {
		n.fetchRoots(from, []types.Root{a.Data.Target.Root})
	}
	return verdict(err)
}

// validateFraudProof checks a shard fraud proof against the head state.
func (n *Node) validateFraudProof(_ context.Context, _ peer.ID, data []byte) p2p.ValidationResult {
	return verdict(n.chain.AddFraudProof(data))
}
