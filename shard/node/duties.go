package node

import (
	"context"
	"fmt"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/clock"
	bcore "github.com/shardlab/shardlab/beacon/core"
	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// onBeaconEvent hands a beacon chain event to the event loop; it never
// blocks (a full queue makes the loop refresh everything instead).
func (n *Node) onBeaconEvent(ev bchain.Event) {
	select {
	case n.events <- ev:
	default:
		n.overflow.Store(true)
	}
}

// eventLoop follows the beacon chain: every new beacon block is looked at
// by the fisherman (included fraud proofs, crosslink votes for proven
// blocks) and may release shard blocks that waited for it; every new head
// is shown to the shard chains (crosslinks, anchors, reorgs) and may make
// queued fraud proofs submittable.
func (n *Node) eventLoop(ctx context.Context) {
	n.observeHead(false)
	for {
		var batch []bchain.Event
		select {
		case <-ctx.Done():
			return
		case ev := <-n.events:
			batch = append(batch, ev)
		}
	drain:
		for len(batch) < cap(n.events) {
			select {
			case ev := <-n.events:
				batch = append(batch, ev)
			default:
				break drain
			}
		}
		newHead, reorg, newBlock := false, false, false
		for _, ev := range batch {
			switch ev.Kind {
			case bchain.EventNewBlock:
				newBlock = true
				n.fraud.onBeaconBlock(ev.Root)
			case bchain.EventNewHead:
				newHead = true
				reorg = reorg || ev.Reorg
			}
		}
		if n.overflow.Swap(false) {
			newHead, reorg, newBlock = true, true, true
		}
		if newHead {
			n.observeHead(reorg)
			n.fraud.flush(ctx)
		}
		if newBlock {
			n.retryPending(bt.Root{})
		}
	}
}

// observeHead shows the beacon head state to every shard chain.
func (n *Node) observeHead(reorg bool) {
	head := n.bchain.HeadState()
	for _, s := range n.shards {
		if err := n.chains[s].ObserveBeacon(head, reorg); err != nil {
			n.log.Warn("observe beacon head failed", "shard", uint64(s), "err", err)
		}
	}
}

// slotLoop runs the slot duties at the start of every slot.
func (n *Node) slotLoop(ctx context.Context) {
	slots := n.beacon.Slots()
	c := slots.Clock()
	for ctx.Err() == nil {
		slot, started := slots.CurrentSlot()
		next, at := slot+1, slots.SlotStart(slot+1)
		if !started {
			next, at = 0, slots.Genesis()
		}
		if err := clock.WaitUntil(ctx, c, at); err != nil {
			return
		}
		n.onSlot(ctx, next)
	}
}

// onSlot is the slot-start work: fraud proofs, proposals, relaying, sync
// and metrics.
func (n *Node) onSlot(ctx context.Context, slot bt.Slot) {
	if err := n.writeShardMarkers(false); err != nil {
		n.log.Warn("write shard head markers", "err", err)
	}
	n.fraud.flush(ctx)
	n.fraud.secondProofs(bcore.ComputeEpochOfSlot(n.pcfg, slot))
	n.dropStalePending(slot)
	if _, _, syncing := n.beacon.SyncStatus(); !syncing {
		headRoot, _ := n.bchain.Head()
		head := n.bchain.HeadState()
		window := n.windowState(headRoot, head)
		// Catch up after a start (the proposer waits for it); then sync a
		// shard whose head lags the clock once an epoch (empty slots lag
		// too, so that does not pause the proposer).
		for _, s := range n.shards {
			h := n.chains[s].Head().Header.Slot
			switch {
			case !n.caughtUp:
				n.requestSync(s, "", true)
			case h+1 < slot && slot >= n.lastSync[s]+bt.Slot(n.pcfg.SlotsPerEpoch):
				n.lastSync[s] = slot
				n.requestSync(s, "", false)
			}
		}
		n.caughtUp = true
		for _, s := range n.shards {
			n.propose(ctx, s, slot, headRoot, head, window)
		}
		n.relayAsync(ctx, slot, head, window)
	}
	n.updateMetrics()
}

// relayAsync starts a relay pass in the background, unless the previous
// one still runs (its pass then covers this slot's receipts on the next
// slot). Building claims, a Merkle proof each for up to MAX_SHARD_CLAIMS
// receipts per pair of shards, can take longer than a slot under load, and
// the slot loop must not wait for it: it skips the slots that pass while
// it works, and with them their proposals. It reports whether it started
// a pass.
func (n *Node) relayAsync(ctx context.Context, slot bt.Slot, head, window *bt.BeaconState) bool {
	if !n.relaying.CompareAndSwap(false, true) {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.relaying.Store(false)
		n.relay.run(ctx, slot, head, window)
	}()
	return true
}

// propose runs shard's proposer duty of slot when its proposer, drawn
// from the beacon head state (the state the block references, §3.1), holds
// a hosted key: the block is built on the shard head, added to the chain
// and published.
func (n *Node) propose(ctx context.Context, s bt.Shard, slot bt.Slot, headRoot bt.Root, head, window *bt.BeaconState) {
	if n.keys == nil || n.lagging(s) {
		return
	}
	c := n.chains[s]
	if slot <= c.Head().Header.Slot {
		return // a block of this slot is already the head
	}
	if !c.CanReference(slot, head.Slot) {
		n.log.Debug("no beacon block to reference", "shard", uint64(s), "slot", slot, "beacon_slot", head.Slot)
		return
	}
	proposer, err := shardcore.ShardProposerIndex(n.tr, head, s, slot)
	if err != nil {
		n.log.Debug("no shard proposer", "shard", uint64(s), "slot", slot, "err", err)
		return
	}
	sk, ok := n.keys.SecretKeyOf(head.Validators[proposer].Pubkey)
	if !ok {
		return
	}
	if window != nil {
		window = window.Copy()
	}
	built, err := c.Propose(slot, headRoot, head, window, sk)
	if err != nil {
		n.m.blocks.WithLabelValues(shardLabel(s), "failed").Inc()
		n.log.Warn("shard block production failed", "shard", uint64(s), "slot", slot, "err", err)
		return
	}
	if err := n.publish(ctx, p2p.ShardBlockTopic(uint64(s)), built.Block); err != nil {
		n.log.Warn("publish shard block failed", "shard", uint64(s), "slot", slot, "err", err)
	}
	n.m.blocks.WithLabelValues(shardLabel(s), "proposed").Inc()
	root, _ := built.Block.SigningRoot()
	n.log.Info("proposed shard block", "shard", uint64(s), "slot", slot, "root", root, "validator", uint64(proposer),
		"transactions", len(built.Block.Body.Transactions), "claims", len(built.Block.Body.Claims), "receipts", len(built.Receipts))
}

// windowState returns the canonical beacon state at the challenge window
// slot of head (the post-state of the last block at or before it, advanced
// to it), checked against head's state_roots; nil while the chain is
// younger than the window or when it cannot be found. The result is cached
// per head root and shared: callers copy it before hashing.
func (n *Node) windowState(headRoot bt.Root, head *bt.BeaconState) *bt.BeaconState {
	n.windowMu.Lock()
	if n.windowFor == headRoot && n.window != nil {
		w := n.window
		n.windowMu.Unlock()
		return w
	}
	n.windowMu.Unlock()
	ws, ok := shardcore.WindowSlot(n.pcfg, head.Slot)
	if !ok {
		return nil
	}
	for back := uint64(0); back < n.pcfg.SlotsPerHistoricalRoot && uint64(ws) >= back; back++ {
		_, root, ok := n.bchain.CanonicalBlock(ws - bt.Slot(back))
		if !ok {
			continue
		}
		st, ok := n.bchain.StateAt(root)
		if !ok {
			return nil
		}
		if st.Slot < ws {
			if err := n.tr.ProcessSlots(st, ws); err != nil {
				return nil
			}
		}
		r, err := st.HashTreeRoot()
		if err != nil || head.StateRoots[uint64(ws)%n.pcfg.SlotsPerHistoricalRoot] != r {
			return nil // the canonical index moved on meanwhile
		}
		n.windowMu.Lock()
		n.windowFor, n.window = headRoot, st
		n.windowMu.Unlock()
		return st
	}
	return nil
}

// localDataRoot answers crosslink data roots of the served shards (the
// embedded beacon node serves it over CrosslinkDataRootProtocol).
func (n *Node) localDataRoot(_ context.Context, c bt.Crosslink) (bt.Root, error) {
	ch, ok := n.chains[c.Shard]
	if !ok {
		return bt.Root{}, fmt.Errorf("shard %d: %w: not served", c.Shard, bnode.ErrNoCrosslinkData)
	}
	if _, _, syncing := n.beacon.SyncStatus(); syncing || n.lagging(c.Shard) {
		return bt.Root{}, fmt.Errorf("shard %d: %w: syncing", c.Shard, bnode.ErrNoCrosslinkData)
	}
	root, err := ch.DataRoot(c.StartEpoch, c.EndEpoch)
	if err != nil {
		return bt.Root{}, fmt.Errorf("shard %d: %w: %w", c.Shard, bnode.ErrNoCrosslinkData, err)
	}
	return root, nil
}

// dataRoot is the embedded beacon node's crosslink data source when it
// attests (shardlab node): the local chains for served shards, the peers
// serving the shard otherwise.
func (n *Node) dataRoot(ctx context.Context, c bt.Crosslink) (bt.Root, error) {
	if _, ok := n.chains[c.Shard]; ok {
		return n.localDataRoot(ctx, c)
	}
	return bnode.NewRemoteCrosslinkData(n.beacon).DataRoot(ctx, c)
}
