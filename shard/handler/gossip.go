package handler

import (
	"cmp"
	"errors"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	st "github.com/shardlab/shardlab/shard/types"
)

// Topics returns the gossip topics of the served shards (blocks and
// transactions).
func (h *Handler) Topics() []string {
	var out []string
	for _, s := range h.shards {
		out = append(out, p2p.ShardBlockTopic(uint64(s)), p2p.ShardTxTopic(uint64(s)))
	}
	return out
}

// OnGossip validates a message of a served shard's block or transaction
// topic; the validation does all the work (a block is imported, a
// transaction or claim pooled), so only valid messages are forwarded.
// Other topics are ignored.
func (h *Handler) OnGossip(topic string, from peer.ID, data []byte) handler.Verdict {
	for _, s := range h.shards {
		switch topic {
		case p2p.ShardBlockTopic(uint64(s)):
			return h.ValidateBlock(s, from, data)
		case p2p.ShardTxTopic(uint64(s)):
			return h.ValidateMessage(s, data)
		}
	}
	return handler.Ignore
}

// verdict maps a chain error to a gossip verdict: "not now" and "not new"
// are ignored, rule violations rejected, anything else ignored.
func verdict(err error) handler.Verdict {
	switch {
	case err == nil:
		return handler.Accept
	case errors.Is(err, chain.ErrStale), errors.Is(err, chain.ErrDuplicate), errors.Is(err, chain.ErrPoolFull),
		errors.Is(err, chain.ErrUnknownParent), errors.Is(err, chain.ErrUnknownBeaconBlock), errors.Is(err, chain.ErrTooOld):
		return handler.Ignore
	case errors.Is(err, bcore.ErrInvalid):
		return handler.Reject
	}
	return handler.Ignore
}

// maxFutureSlots is how far past the current slot a gossip block may be.
const maxFutureSlots = 1

// ValidateBlock validates a block gossiped on shard's block topic: strict
// decoding, the shard, a slot not in the future, then the import, which is
// the validation. An unknown parent or beacon block keeps the block aside
// (and asks the host to sync); a fraudulent block is proven by the
// fisherman.
func (h *Handler) ValidateBlock(shard bt.Shard, from peer.ID, data []byte) handler.Verdict {
	b := new(st.ShardBlock)
	if err := bt.Decode(b, data); err != nil || b.Shard != shard || h.chains[shard] == nil {
		h.cfg.Hooks.gossipRejected(shard, "block")
		return handler.Reject
	}
	if h.env.Now().Unix() >= int64(h.bchain.GenesisTime()) && b.Slot > h.currentSlot()+maxFutureSlots {
		h.cfg.Hooks.gossipRejected(shard, "block")
		return handler.Reject
	}
	res := verdict(h.ImportBlock(b, from))
	if res == handler.Reject {
		h.cfg.Hooks.gossipRejected(shard, "block")
	}
	return res
}

// ImportBlock imports a block from the network (gossip or the host's
// sync) and deals with the outcome.
func (h *Handler) ImportBlock(b *st.ShardBlock, from peer.ID) error {
	c := h.chains[b.Shard]
	root, err := c.ImportBlock(b)
	var ferr *chain.FraudError
	switch {
	case err == nil:
		h.cfg.Hooks.block(b.Shard, "imported")
		h.retryPending(root)
		if c.Head().Root == root {
			h.setBehind(b.Shard, false) // following the shard live
		}
	case errors.Is(err, chain.ErrUnknownParent):
		h.keepPending(root, b, from)
		h.requestSync(b.Shard, from, true)
	case errors.Is(err, chain.ErrUnknownBeaconBlock):
		h.keepPending(root, b, from)
	case errors.As(err, &ferr):
		h.cfg.Hooks.block(b.Shard, "invalid")
		h.log.Warn("fraudulent shard block", "shard", uint64(b.Shard), "slot", b.Slot, "root", root,
			"validator", uint64(b.ProposerIndex), "peer", from, "err", ferr.Err)
		h.fraud.prove(ferr)
	case errors.Is(err, bcore.ErrInvalid):
		h.cfg.Hooks.block(b.Shard, "invalid")
		h.log.Debug("invalid shard block", "shard", uint64(b.Shard), "slot", b.Slot, "root", root, "peer", from, "err", err)
	case errors.Is(err, chain.ErrDuplicate), errors.Is(err, chain.ErrTooOld):
	default:
		h.log.Warn("import shard block failed", "shard", uint64(b.Shard), "slot", b.Slot, "root", root, "err", err)
	}
	return err
}

// ValidateMessage validates a message of shard's transaction topic: strict
// decoding of a ShardMessage holding exactly one transaction or claim,
// then admission to the pool.
func (h *Handler) ValidateMessage(shard bt.Shard, data []byte) handler.Verdict {
	var m ShardMessage
	c := h.chains[shard]
	if err := bt.Decode(&m, data); err != nil || len(m.Transaction)+len(m.Claim) != 1 || c == nil {
		h.cfg.Hooks.gossipRejected(shard, "message")
		return handler.Reject
	}
	var err error
	if len(m.Transaction) == 1 {
		err = c.AddTransaction(m.Transaction[0])
	} else {
		err = c.AddClaim(m.Claim[0])
	}
	res := verdict(err)
	if err != nil && len(m.Claim) == 1 {
		h.cfg.Hooks.claimRejected(c, shard, m.Claim[0])
	}
	if res == handler.Reject {
		h.cfg.Hooks.gossipRejected(shard, "message")
	}
	return res
}

// pendingBlock is a gossip block waiting for its parent or beacon block.
type pendingBlock struct {
	root  bt.Root
	block *st.ShardBlock
	from  peer.ID
}

// comparePending orders pending blocks by slot, then root.
func comparePending(a, b *pendingBlock) int {
	if c := cmp.Compare(a.block.Slot, b.block.Slot); c != 0 {
		return c
	}
	return slices.Compare(a.root[:], b.root[:])
}

// keepPending keeps a block aside (bounded: the oldest slots go first).
func (h *Handler) keepPending(root bt.Root, b *st.ShardBlock, from peer.ID) {
	h.pendMu.Lock()
	defer h.pendMu.Unlock()
	if _, ok := h.pending[root]; ok {
		return
	}
	if len(h.pending) >= h.cfg.MaxPendingBlocks {
		var oldest *pendingBlock
		for _, p := range h.pending {
			if oldest == nil || comparePending(p, oldest) < 0 {
				oldest = p
			}
		}
		delete(h.pending, oldest.root)
	}
	h.pending[root] = &pendingBlock{root: root, block: b, from: from}
}

// dropStalePending forgets pending blocks more than two epochs old: their
// parent or beacon block is not coming.
func (h *Handler) dropStalePending(slot bt.Slot) {
	horizon := bt.Slot(2 * h.pcfg.SlotsPerEpoch)
	h.pendMu.Lock()
	defer h.pendMu.Unlock()
	for r, p := range h.pending {
		if p.block.Slot+horizon < slot {
			delete(h.pending, r)
		}
	}
}

// retryPending imports the pending blocks whose parent is parent (after
// parent's import); a zero parent retries every pending block, oldest
// first (after new beacon blocks). Blocks that import, or turn out invalid
// or too old, leave the queue.
func (h *Handler) retryPending(parent bt.Root) {
	h.pendMu.Lock()
	var ready []*pendingBlock
	for r, p := range h.pending {
		if parent == (bt.Root{}) || p.block.ParentRoot == parent {
			ready = append(ready, p)
			delete(h.pending, r)
		}
	}
	h.pendMu.Unlock()
	slices.SortFunc(ready, comparePending)
	for _, p := range ready {
		root, err := h.chains[p.block.Shard].ImportBlock(p.block)
		var ferr *chain.FraudError
		switch {
		case err == nil:
			h.cfg.Hooks.block(p.block.Shard, "imported")
			h.retryPending(root)
		case errors.Is(err, chain.ErrUnknownParent), errors.Is(err, chain.ErrUnknownBeaconBlock):
			h.keepPending(root, p.block, p.from)
		case errors.As(err, &ferr):
			h.cfg.Hooks.block(p.block.Shard, "invalid")
			h.fraud.prove(ferr)
		}
	}
}
