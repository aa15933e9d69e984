package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// maxRangeCount bounds the slots of one shard blocks by range request.
const maxRangeCount = 256

// serveBlocksByRange streams the canonical blocks of a served shard in the
// requested slots.
func (n *Node) serveBlocksByRange(_ context.Context, _ peer.ID, req []byte, w p2p.ResponseWriter) error {
	if n.ctx.Err() != nil {
		return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "node closing"}
	}
	var r ShardBlocksByRangeRequest
	if err := bt.Decode(&r, req); err != nil || r.Count == 0 {
		return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad shard blocks by range request"}
	}
	c, ok := n.chains[bt.Shard(r.Shard)]
	if !ok {
		return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "shard not served"}
	}
	head := uint64(c.Head().Header.Slot)
	if r.StartSlot > head {
		return nil
	}
	count := min(r.Count, maxRangeCount, head-r.StartSlot+1)
	for _, b := range c.CanonicalRange(bt.Slot(r.StartSlot), count) {
		buf, err := b.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("encode shard block: %w", err)
		}
		if err := w.WriteChunk(buf); err != nil {
			return err
		}
	}
	return nil
}

// requestRange asks p for the canonical blocks of shard in [start,
// start+count).
func (n *Node) requestRange(ctx context.Context, p peer.ID, shard bt.Shard, start bt.Slot, count uint64) ([]*st.ShardBlock, error) {
	req := &ShardBlocksByRangeRequest{Shard: uint64(shard), StartSlot: uint64(start), Count: count}
	buf, err := req.MarshalSSZ()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Sync.RequestTimeout)
	defer cancel()
	chunks, err := n.p2p.Request(ctx, p, p2p.ShardBlocksByRangeProtocol, buf, int(count))
	if err != nil && len(chunks) == 0 {
		return nil, err
	}
	out := make([]*st.ShardBlock, 0, len(chunks))
	for _, c := range chunks {
		b := new(st.ShardBlock)
		if err := bt.Decode(b, c); err != nil {
			return out, fmt.Errorf("shard blocks by range from %s: %w", p, err)
		}
		if b.Shard != shard || b.Slot < start || uint64(b.Slot-start) >= count {
			return out, fmt.Errorf("shard blocks by range from %s: block of shard %d slot %d outside the request", p, b.Shard, b.Slot)
		}
		out = append(out, b)
	}
	return out, nil
}

// peersServing returns the connected peers whose beacon status lists
// shard and that did not fail a request lately, prefer first when it is
// one of them.
func (n *Node) peersServing(shard bt.Shard, prefer peer.ID) []peer.ID {
	now := n.beacon.Slots().Now()
	n.syncMu.Lock()
	defer n.syncMu.Unlock()
	var out []peer.ID
	for _, pi := range n.beacon.Peers() {
		if pi.HasStatus && slices.Contains(pi.Status.Shards, uint64(shard)) && !now.Before(n.badUntil[pi.ID]) {
			out = append(out, pi.ID)
		}
	}
	slices.Sort(out)
	if i := slices.Index(out, prefer); i > 0 {
		out[0], out[i] = out[i], out[0]
	}
	return out
}

// markBad leaves a peer that failed a request out for a few slots.
func (n *Node) markBad(p peer.ID) {
	n.syncMu.Lock()
	defer n.syncMu.Unlock()
	n.badUntil[p] = n.beacon.Slots().Now().Add(4 * n.beacon.Slots().SlotDuration())
}

// requestSync starts a sync of shard in the background unless one runs.
// A catch-up sync (after a start, or on a block whose parent is unknown:
// the node is behind) pauses the shard's proposer until it ends; a sync
// because the head lags the clock (which empty slots also cause) does not.
func (n *Node) requestSync(shard bt.Shard, prefer peer.ID, catchUp bool) {
	n.syncMu.Lock()
	if n.syncing[shard] || n.ctx.Err() != nil {
		n.syncMu.Unlock()
		return
	}
	n.syncing[shard], n.catchingUpShard[shard] = true, catchUp
	n.wg.Add(1)
	n.syncMu.Unlock()
	go func() {
		defer n.wg.Done()
		defer func() {
			n.syncMu.Lock()
			n.syncing[shard], n.catchingUpShard[shard] = false, false
			n.syncMu.Unlock()
		}()
		n.syncShard(n.ctx, shard, prefer)
	}()
}

// Syncing reports whether a shard sync is running.
func (n *Node) Syncing(shard bt.Shard) bool {
	n.syncMu.Lock()
	defer n.syncMu.Unlock()
	return n.syncing[shard]
}

// maxSyncPeers bounds the peers tried by one sync.
const maxSyncPeers = 3

// syncShard asks peers serving shard for its blocks from the head (or,
// when the first block does not attach, from the anchor) up to the current
// slot, batch by batch, and imports them. When a block's beacon reference
// is pruned (the node starts far behind), it restarts the shard chain from
// the latest crosslinked block (checkpoint). The node counts as behind on
// the shard while a peer offers blocks it cannot import.
func (n *Node) syncShard(ctx context.Context, shard bt.Shard, prefer peer.ID) {
	c := n.chains[shard]
	cur, ok := n.beacon.Slots().CurrentSlot()
	if !ok {
		return
	}
	peers := n.peersServing(shard, prefer)
	if len(peers) > maxSyncPeers {
		peers = peers[:maxSyncPeers]
	}
	behind := false
	for _, p := range peers {
		from := c.Head().Header.Slot + 1
		rewound, checkpointed, failed := false, false, false
		imported := 0
		behind = false
		for from <= cur && ctx.Err() == nil {
			count := min(n.cfg.Sync.BatchSize, uint64(cur-from)+1)
			blocks, err := n.requestRange(ctx, p, shard, from, count)
			if err != nil {
				n.log.Debug("shard sync request failed", "shard", uint64(shard), "peer", p, "err", err)
				n.markBad(p)
				failed = true
				break
			}
			detached, pruned, bad := false, false, false
			for i, b := range blocks {
				err := n.importBlock(b, p)
				switch {
				case err == nil:
					imported++
				case errors.Is(err, chain.ErrDuplicate), errors.Is(err, chain.ErrTooOld) && !errors.Is(err, chain.ErrBeaconPruned):
				case errors.Is(err, chain.ErrBeaconPruned):
					pruned = true
				case i == 0 && errors.Is(err, chain.ErrUnknownParent):
					detached = true
				case errors.Is(err, chain.ErrUnknownBeaconBlock):
					behind = true // the beacon node has not caught up yet
				default:
					bad = true // invalid blocks, or blocks that do not chain
				}
				if detached || pruned || bad {
					break
				}
			}
			if bad {
				n.markBad(p)
				break
			}
			switch {
			case pruned && !checkpointed:
				checkpointed = true
				if anchor, ok := n.checkpoint(ctx, p, shard); ok {
					from = anchor + 1
					continue
				}
				behind = true
			case pruned:
				behind = true
			case detached && !rewound:
				// Our head is on a fork the peer does not have: take the
				// peer's chain from our anchor on.
				rewound = true
				if h, ok := c.Header(c.Anchor()); ok {
					from = h.Slot + 1
					continue
				}
				behind = true
			case detached:
				n.markBad(p) // its chain does not reach ours even from the anchor
			}
			if pruned || detached {
				break
			}
			from += bt.Slot(count)
		}
		if imported > 0 {
			n.log.Debug("synced shard blocks", "shard", uint64(shard), "peer", p, "blocks", imported)
		}
		if !failed {
			break // this peer answered: its view is the one we follow
		}
	}
	n.setBehind(shard, behind)
}

// setBehind records whether the node knows it lags on shard.
func (n *Node) setBehind(shard bt.Shard, v bool) {
	n.syncMu.Lock()
	defer n.syncMu.Unlock()
	if n.behind[shard] != v {
		n.log.Debug("shard sync state", "shard", uint64(shard), "behind", v)
	}
	n.behind[shard] = v
}

// lagging reports whether the node must not propose on shard or answer its
// crosslink data: while catching up, or known to be behind.
func (n *Node) lagging(shard bt.Shard) bool {
	n.syncMu.Lock()
	defer n.syncMu.Unlock()
	return n.catchingUpShard[shard] || n.behind[shard]
}

// checkpoint restarts shard from the last block of its newest crosslink
// with shard data in the beacon head state: that crosslink's blocks and the
// last one's post-state come from p and are checked by the chain. It
// returns the new anchor's slot.
func (n *Node) checkpoint(ctx context.Context, p peer.ID, shard bt.Shard) (bt.Slot, bool) {
	c := n.chains[shard]
	head := n.bchain.HeadState()
	empty, _ := shardcore.CrosslinkDataRoot(n.pcfg, nil)
	var target *bt.Crosslink
	for _, l := range c.CrosslinkChain(head.CurrentCrosslinks[shard], params.MaxCrosslinkChain) {
		if d := l.Crosslink.DataRoot; d != empty && d != (bt.Root{}) {
			cl := l.Crosslink
			target = &cl
			break
		}
	}
	if target == nil {
		return 0, false
	}
	spe := bt.Slot(n.pcfg.SlotsPerEpoch)
	start, end := bt.Slot(target.StartEpoch)*spe, bt.Slot(target.EndEpoch)*spe
	blocks, err := n.requestRange(ctx, p, shard, start, uint64(end-start))
	if err != nil || len(blocks) == 0 {
		n.log.Debug("checkpoint: blocks of the crosslink not served", "shard", uint64(shard), "peer", p, "err", err)
		return 0, false
	}
	last := blocks[len(blocks)-1]
	root, err := last.SigningRoot()
	if err != nil {
		return 0, false
	}
	state, err := n.requestState(ctx, p, shard, root)
	if err != nil {
		n.log.Debug("checkpoint: state not served", "shard", uint64(shard), "peer", p, "root", root, "err", err)
		return 0, false
	}
	if _, err := c.Checkpoint(*target, blocks, state); err != nil {
		n.log.Warn("checkpoint sync failed", "shard", uint64(shard), "peer", p, "err", err)
		n.markBad(p)
		return 0, false
	}
	return last.Slot, true
}

// requestState asks p for the post-state of a block of shard.
func (n *Node) requestState(ctx context.Context, p peer.ID, shard bt.Shard, root bt.Root) (*st.ShardState, error) {
	req := &ShardStateRequest{Shard: uint64(shard), BlockRoot: root}
	buf, err := req.MarshalSSZ()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Sync.RequestTimeout)
	defer cancel()
	chunks, err := n.p2p.Request(ctx, p, ShardStateByRootProtocol, buf, 1)
	if err != nil {
		return nil, err
	}
	if len(chunks) != 1 {
		return nil, fmt.Errorf("state of %s from %s: not held", root, p)
	}
	return st.UnmarshalShardState(chunks[0])
}

// serveStateByRoot answers a ShardStateRequest with a held post-state.
func (n *Node) serveStateByRoot(_ context.Context, _ peer.ID, req []byte, w p2p.ResponseWriter) error {
	if n.ctx.Err() != nil {
		return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "node closing"}
	}
	var r ShardStateRequest
	if err := bt.Decode(&r, req); err != nil {
		return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad shard state request"}
	}
	c, ok := n.chains[bt.Shard(r.Shard)]
	if !ok {
		return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "shard not served"}
	}
	state, ok := c.PostState(r.BlockRoot)
	if !ok {
		return nil
	}
	buf, err := state.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode shard state: %w", err)
	}
	return w.WriteChunk(buf)
}
