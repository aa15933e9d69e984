package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// peerState is what the node knows of a peer.
type peerState struct {
	status    Status
	hasStatus bool
	updated   time.Time
	// badUntil: the peer failed to deliver what its status promised (or
	// sent invalid blocks); it is not synced from until then.
	badUntil time.Time
}

// PeerInfo describes a connected peer for the API.
type PeerInfo struct {
	ID    peer.ID
	Addrs []ma.Multiaddr
	// Direction is "inbound" or "outbound" (of the first connection), or
	// "" when unknown.
	Direction string
	// Status is the peer's last status; HasStatus is false before the first
	// exchange.
	Status    Status
	HasStatus bool
}

// Peers returns the connected peers with their last known status.
func (n *Node) Peers() []PeerInfo {
	ids := n.p2p.Peers()
	out := make([]PeerInfo, 0, len(ids))
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	for _, id := range ids {
		pi := PeerInfo{ID: id, Addrs: n.p2p.Host().Peerstore().Addrs(id)}
		if conns := n.p2p.Host().Network().ConnsToPeer(id); len(conns) > 0 {
			switch conns[0].Stat().Direction {
			case network.DirInbound:
				pi.Direction = "inbound"
			case network.DirOutbound:
				pi.Direction = "outbound"
			}
		}
		if ps, ok := n.peers[id]; ok && ps.hasStatus {
			pi.Status, pi.HasStatus = ps.status, true
		}
		out = append(out, pi)
	}
	return out
}

// PeerStatus returns the last status of p.
func (n *Node) PeerStatus(p peer.ID) (Status, bool) {
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	ps, ok := n.peers[p]
	if !ok || !ps.hasStatus {
		return Status{}, false
	}
	return ps.status, true
}

// onStatus records p's status; a peer ahead of us triggers a sync.
func (n *Node) onStatus(p peer.ID, st Status) {
	if types.Root(st.GenesisRoot) != n.chain.GenesisRoot() {
		n.log.Debug("peer on another network", "peer", p, "root", types.Root(st.GenesisRoot))
		return
	}
	n.peersMu.Lock()
	ps, ok := n.peers[p]
	if !ok {
		ps = &peerState{}
		n.peers[p] = ps
	}
	ps.status, ps.hasStatus, ps.updated = st, true, n.slots.Now()
	n.peersMu.Unlock()
	if _, head := n.chain.Head(); types.Slot(st.HeadSlot) > head {
		n.triggerSync()
	}
}

// peersServing returns the peers whose status lists shard.
func (n *Node) peersServing(shard uint64) []peer.ID {
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	var out []peer.ID
	for id, ps := range n.peers {
		if ps.hasStatus && slices.Contains(ps.status.Shards, shard) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// bestPeer returns the usable peer with the highest head slot above ours.
func (n *Node) bestPeer() (peer.ID, Status, bool) {
	_, head := n.chain.Head()
	now := n.slots.Now()
	connected := n.p2p.Peers()
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	var best peer.ID
	var bestSt Status
	found := false
	for id, ps := range n.peers {
		if !ps.hasStatus || now.Before(ps.badUntil) || types.Slot(ps.status.HeadSlot) <= head || !slices.Contains(connected, id) {
			continue
		}
		if !found || ps.status.HeadSlot > bestSt.HeadSlot || (ps.status.HeadSlot == bestSt.HeadSlot && id < best) {
			best, bestSt, found = id, ps.status, true
		}
	}
	return best, bestSt, found
}

// markBad excludes p from syncing for a while.
func (n *Node) markBad(p peer.ID) {
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	if ps, ok := n.peers[p]; ok {
		ps.badUntil = n.slots.Now().Add(4 * n.slots.SlotDuration())
	}
}

func (n *Node) triggerSync() {
	select {
	case n.syncTrigger <- struct{}{}:
	default:
	}
}

// connectionLoop exchanges statuses with every new peer and forgets
// disconnected ones.
func (n *Node) connectionLoop(ctx context.Context) {
	sub, err := n.p2p.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		n.log.Error("subscribe to connection events failed", "err", err)
		return
	}
	defer sub.Close()
	for _, p := range n.p2p.Peers() {
		n.exchangeStatus(ctx, p)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			ev := e.(event.EvtPeerConnectednessChanged)
			switch ev.Connectedness {
			case network.Connected:
				n.exchangeStatus(ctx, ev.Peer)
			case network.NotConnected:
				n.peersMu.Lock()
				delete(n.peers, ev.Peer)
				n.peersMu.Unlock()
			}
		}
	}
}

// exchangeStatus requests p's status in the background, retrying a few
// times (a fresh connection may not have identified our protocols yet).
func (n *Node) exchangeStatus(ctx context.Context, p peer.ID) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		delay := 100 * time.Millisecond
		for attempt := 0; attempt < 4; attempt++ {
			if _, err := n.requestStatus(ctx, p); err == nil {
				return
			} else if ctx.Err() != nil {
				return
			} else {
				n.log.Debug("status exchange failed", "peer", p, "err", err)
			}
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			delay *= 2
		}
	}()
}

// syncLoop catches up with the best peer whenever one is ahead.
func (n *Node) syncLoop(ctx context.Context) {
	tick := time.NewTicker(n.slots.SlotDuration())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.syncTrigger:
		case <-tick.C:
		}
		for ctx.Err() == nil {
			p, st, ok := n.bestPeer()
			if !ok {
				break
			}
			n.setSyncing(true)
			if !n.syncFrom(ctx, p, st) {
				n.markBad(p)
			}
		}
		n.setSyncing(false)
	}
}

func (n *Node) setSyncing(on bool) {
	if n.syncing.Swap(on) != on {
		if on {
			n.m.syncing.Set(1)
		} else {
			n.m.syncing.Set(0)
		}
	}
}

// syncFrom imports p's canonical chain by range requests, from our head on
// (or from our finalized epoch when p's chain does not extend our head),
// until our head reaches p's reported head. It returns false when p did not
// deliver (nothing new, invalid blocks, errors).
func (n *Node) syncFrom(ctx context.Context, p peer.ID, st Status) bool {
	_, head := n.chain.Head()
	start := head + 1
	target := types.Slot(st.HeadSlot)
	fromFinalized := false
	n.log.Info("syncing", "peer", p, "slot", head, "target_slot", target)
	for ctx.Err() == nil {
		if _, head = n.chain.Head(); head >= target {
			n.log.Info("synced", "peer", p, "slot", head)
			return true
		}
		blocks, err := n.requestRange(ctx, p, start, n.cfg.Sync.BatchSize)
		if err != nil && len(blocks) == 0 {
			n.log.Warn("sync request failed", "peer", p, "slot", start, "err", err)
			return false
		}
		if len(blocks) == 0 {
			if uint64(start)+n.cfg.Sync.BatchSize > uint64(target) {
				return false // the peer's head is not where its status said
			}
			start += types.Slot(n.cfg.Sync.BatchSize)
			continue
		}
		if blocks[0].GetSlot() < start || blocks[len(blocks)-1].GetSlot() < blocks[0].GetSlot() {
			return false // out of the requested range
		}
		imported, err := n.importBatch(blocks)
		switch {
		case errors.Is(err, chain.ErrUnknownParent) && !fromFinalized:
			// Our head is on another branch: take p's chain from our
			// finalized checkpoint, which both share.
			fromFinalized = true
			start = core.ComputeStartSlotOfEpoch(n.pcfg, n.chain.Finalized().Epoch) + 1
			continue
		case err != nil:
			n.log.Warn("sync block rejected", "peer", p, "err", err)
			return false
		}
		start = blocks[len(blocks)-1].GetSlot() + 1
		_, head = n.chain.Head()
		n.log.Info("sync progress", "peer", p, "slot", head, "target_slot", target, "imported", imported)
	}
	return false
}

// importBatch imports blocks in order, stopping at the first failure.
func (n *Node) importBatch(blocks []types.AnyBlock) (int, error) {
	for i, b := range blocks {
		n.tick()
		if _, err := n.chain.ImportBlock(b, core.VerifySigs); err != nil {
			return i, fmt.Errorf("block of slot %d: %w", b.GetSlot(), err)
		}
		n.m.syncedBlocks.Inc()
	}
	return len(blocks), nil
}

// fetchAncestors fetches, by root from p, the missing ancestors of b (at
// most MaxParentFetch) and imports them and b; a longer gap is left to range
// sync.
func (n *Node) fetchAncestors(p peer.ID, b types.AnyBlock) {
	want := b.GetParentRoot()
	if !n.startFetch(want) {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.endFetch(want)
		pending := []types.AnyBlock{b}
		for range n.cfg.Sync.MaxParentFetch {
			blocks, err := n.requestRoots(n.ctx, p, []types.Root{want})
			if err != nil || len(blocks) != 1 {
				n.log.Debug("fetch parent failed", "peer", p, "root", want, "err", err)
				n.triggerSync()
				return
			}
			pb := blocks[0]
			if r, err := pb.SigningRoot(); err != nil || r != want {
				n.markBad(p)
				return
			}
			pending = append(pending, pb)
			if n.chain.HasBlock(pb.GetParentRoot()) {
				n.importChain(pending)
				return
			}
			want = pb.GetParentRoot()
		}
		n.triggerSync()
	}()
}

// fetchRoots fetches blocks by root from p and imports them (attestation
// targets the node has not seen).
func (n *Node) fetchRoots(p peer.ID, roots []types.Root) {
	if len(roots) == 0 || !n.startFetch(roots[0]) {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.endFetch(roots[0])
		blocks, err := n.requestRoots(n.ctx, p, roots)
		if err != nil {
			return
		}
		for _, b := range blocks {
			n.tick()
			if _, err := n.chain.ImportBlock(b, core.VerifySigs); errors.Is(err, chain.ErrUnknownParent) {
				n.fetchAncestors(p, b)
			}
		}
	}()
}

// importChain imports blocks given child first, oldest last.
func (n *Node) importChain(blocks []types.AnyBlock) {
	for i := len(blocks) - 1; i >= 0; i-- {
		n.tick()
		if _, err := n.chain.ImportBlock(blocks[i], core.VerifySigs); err != nil {
			n.log.Debug("import fetched block failed", "slot", blocks[i].GetSlot(), "err", err)
			return
		}
		n.m.syncedBlocks.Inc()
	}
}

func (n *Node) startFetch(root types.Root) bool {
	n.fetchMu.Lock()
	defer n.fetchMu.Unlock()
	if n.fetching[root] || n.ctx.Err() != nil || len(n.fetching) >= 16 {
		return false
	}
	n.fetching[root] = true
	return true
}

func (n *Node) endFetch(root types.Root) {
	n.fetchMu.Lock()
	delete(n.fetching, root)
	n.fetchMu.Unlock()
}
