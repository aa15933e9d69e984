package handler

import (
	"fmt"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// OnBeaconEvents follows the beacon chain, given a batch of its events in
// order: every new beacon block is looked at by the fisherman (included
// fraud proofs, crosslink votes for proven blocks) and may release shard
// blocks that waited for it; a new head is shown to the shard chains
// (crosslinks, anchors, reorgs), may make queued fraud proofs submittable
// and starts a relay pass through it (startRelay): a head whose window
// state holds a new crosslink makes its receipts claimable, and relaying
// them now, a few milliseconds into the slot whose beacon block it
// usually is, puts the claims in the destination's pool before the next
// slot's proposer builds (the slot-start pass sees that head only when
// the next slot's proposal already runs). all says events were dropped:
// refresh everything.
func (h *Handler) OnBeaconEvents(batch []bchain.Event, all bool) {
	newHead, reorg, newBlock := all, all, all
	for _, ev := range batch {
		switch ev.Kind {
		case bchain.EventNewBlock:
			newBlock = true
			h.fraud.onBeaconBlock(ev.Root)
		case bchain.EventNewHead:
			newHead = true
			reorg = reorg || ev.Reorg
		}
	}
	if newHead {
		h.ObserveHead(reorg)
		h.fraud.flush()
		if !h.beaconSyncing() {
			h.startRelay(h.currentSlot(), nil, nil)
		}
	}
	if newBlock {
		h.retryPending(bt.Root{})
	}
}

// ObserveHead shows the beacon head state to every shard chain.
func (h *Handler) ObserveHead(reorg bool) {
	head := h.bchain.HeadState()
	for _, s := range h.shards {
		if err := h.chains[s].ObserveBeacon(head, reorg); err != nil {
			h.log.Warn("observe beacon head failed", "shard", uint64(s), "err", err)
		}
	}
}

// OnSlotStart is the slot-start work: fraud proofs, stale pending blocks,
// then (unless the beacon node is syncing) the shard syncs (sync.go), the
// proposals and the relayer.
func (h *Handler) OnSlotStart(slot bt.Slot) {
	h.fraud.flush()
	h.fraud.secondProofs(bcore.ComputeEpochOfSlot(h.pcfg, slot))
	h.dropStalePending(slot)
	if h.beaconSyncing() {
		return
	}
	headRoot, _ := h.bchain.Head()
	head := h.bchain.HeadState()
	window := h.WindowState(headRoot, head)
	h.slotSync(slot)
	for _, s := range h.shards {
		h.propose(s, slot, headRoot, head, window)
	}
	h.startRelay(slot, head, window)
}

// startRelay starts a relay pass through Config.Background, through head
// and its window state window, or through the beacon head of the moment
// when head is nil. Building claims can take longer than a slot under
// load; run inline it delayed the slot loop, which then skipped slots and
// their proposals. Passes never overlap: while one runs, a call only
// marks that another is wanted, and the running pass then goes on with a
// pass through the beacon head of that moment (so a head that arrives
// during a slow pass is relayed as soon as the pass ends, not a slot
// later). It reports whether it started a pass. The relayer guards its
// own state, so a pass may run beside other handler calls; its sent
// bookkeeping keeps a second pass in a slot from publishing the claims
// the first published.
func (h *Handler) startRelay(slot bt.Slot, head, window *bt.BeaconState) bool {
	h.relayMu.Lock()
	if h.relaying {
		h.relayAgain = true
		h.relayMu.Unlock()
		return false
	}
	h.relaying = true
	h.relayMu.Unlock()
	pass := func() {
		for {
			if head == nil {
				var root bt.Root
				root, _ = h.bchain.Head()
				head = h.bchain.HeadState()
				window = h.WindowState(root, head)
			}
			h.relay.run(slot, head, window)
			h.relayMu.Lock()
			again := h.relayAgain
			h.relaying, h.relayAgain = again, false
			h.relayMu.Unlock()
			if !again {
				return
			}
			slot, head, window = h.currentSlot(), nil, nil
		}
	}
	if h.cfg.Background == nil {
		pass()
	} else {
		h.cfg.Background(pass)
	}
	return true
}

// propose runs shard's proposer duty of slot when its proposer, drawn
// from the beacon head state (the state the block references, §3.1), holds
// a hosted key: the block is built on the shard head, added to the chain
// and published.
func (h *Handler) propose(s bt.Shard, slot bt.Slot, headRoot bt.Root, head, window *bt.BeaconState) {
	if h.keys == nil || h.lagging(s) || (h.cfg.SkipProposal != nil && h.cfg.SkipProposal(s)) {
		return
	}
	c := h.chains[s]
	if slot <= c.Head().Header.Slot {
		return // a block of this slot is already the head
	}
	if !c.CanReference(slot, head.Slot) {
		h.log.Debug("no beacon block to reference", "shard", uint64(s), "slot", slot, "beacon_slot", head.Slot)
		return
	}
	proposer, err := shardcore.ShardProposerIndex(h.tr, head, s, slot)
	if err != nil {
		h.log.Debug("no shard proposer", "shard", uint64(s), "slot", slot, "err", err)
		return
	}
	sk, ok := h.keys.SecretKeyOf(head.Validators[proposer].Pubkey)
	if !ok {
		return
	}
	if window != nil {
		window = window.Copy()
	}
	if h.censorClaims(s) {
		window = nil // without a window state no claim is includable
	}
	built, err := c.Propose(slot, headRoot, head, window, sk)
	if err != nil {
		h.cfg.Hooks.block(s, "failed")
		h.log.Warn("shard block production failed", "shard", uint64(s), "slot", slot, "err", err)
		return
	}
	h.publish(p2p.ShardBlockTopic(uint64(s)), built.Block)
	h.cfg.Hooks.block(s, "proposed")
	root, _ := built.Block.SigningRoot()
	h.log.Info("proposed shard block", "shard", uint64(s), "slot", slot, "root", root, "validator", uint64(proposer),
		"transactions", len(built.Block.Body.Transactions), "claims", len(built.Block.Body.Claims), "receipts", len(built.Receipts))
}

// WindowState returns the canonical beacon state at the challenge window
// slot of head (the post-state of the last block at or before it, advanced
// to it), checked against head's state_roots; nil while the chain is
// younger than the window or when it cannot be found. The result is cached
// per head root and shared: callers copy it before hashing.
func (h *Handler) WindowState(headRoot bt.Root, head *bt.BeaconState) *bt.BeaconState {
	h.windowMu.Lock()
	if h.windowFor == headRoot && h.window != nil {
		w := h.window
		h.windowMu.Unlock()
		return w
	}
	h.windowMu.Unlock()
	ws, ok := shardcore.WindowSlot(h.pcfg, head.Slot)
	if !ok {
		return nil
	}
	for back := uint64(0); back < h.pcfg.SlotsPerHistoricalRoot && uint64(ws) >= back; back++ {
		_, root, ok := h.bchain.CanonicalBlock(ws - bt.Slot(back))
		if !ok {
			continue
		}
		st, ok := h.bchain.StateAt(root)
		if !ok {
			return nil
		}
		if st.Slot < ws {
			if err := h.tr.ProcessSlots(st, ws); err != nil {
				return nil
			}
		}
		r, err := st.HashTreeRoot()
		if err != nil || head.StateRoots[uint64(ws)%h.pcfg.SlotsPerHistoricalRoot] != r {
			return nil // the canonical index moved on meanwhile
		}
		h.windowMu.Lock()
		h.windowFor, h.window = headRoot, st
		h.windowMu.Unlock()
		return st
	}
	return nil
}

// DataRoot answers crosslink data roots of the served shards from the
// local chains (what the node serves over CrosslinkDataRootProtocol, and
// what its own attesters vote for). It errors (wrapping
// handler.ErrNoCrosslinkData) for other shards, while syncing and while lagging.
func (h *Handler) DataRoot(c bt.Crosslink) (bt.Root, error) {
	ch, ok := h.chains[c.Shard]
	if !ok {
		return bt.Root{}, fmt.Errorf("shard %d: %w: not served", c.Shard, handler.ErrNoCrosslinkData)
	}
	if h.beaconSyncing() || h.lagging(c.Shard) {
		return bt.Root{}, fmt.Errorf("shard %d: %w: syncing", c.Shard, handler.ErrNoCrosslinkData)
	}
	root, err := ch.DataRoot(c.StartEpoch, c.EndEpoch)
	if err != nil {
		return bt.Root{}, fmt.Errorf("shard %d: %w: %w", c.Shard, handler.ErrNoCrosslinkData, err)
	}
	return root, nil
}
