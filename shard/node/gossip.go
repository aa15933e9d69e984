package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	bcore "github.com/shardlab/shardlab/beacon/core"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	st "github.com/shardlab/shardlab/shard/types"
)

// topics returns the gossip topics the node subscribes to.
func (n *Node) topics() []string {
	var out []string
	for _, s := range n.shards {
		out = append(out, p2p.ShardBlockTopic(uint64(s)), p2p.ShardTxTopic(uint64(s)))
	}
	return out
}

// register subscribes to every served shard's block and transaction
// topics and installs the shard blocks by range handler. As for the beacon
// topics, the validator does all the work (a block is imported, a
// transaction or claim pooled), so only valid messages are forwarded.
func (n *Node) register() error {
	noop := func(context.Context, peer.ID, []byte) {}
	for _, s := range n.shards {
		if err := n.p2p.Subscribe(p2p.ShardBlockTopic(uint64(s)), n.guard(n.validateBlockFn(s)), noop); err != nil {
			return fmt.Errorf("subscribe shard %d blocks: %w", s, err)
		}
		if err := n.p2p.Subscribe(p2p.ShardTxTopic(uint64(s)), n.guard(n.validateMessageFn(s)), noop); err != nil {
			return fmt.Errorf("subscribe shard %d transactions: %w", s, err)
		}
	}
	if err := n.p2p.Handle(p2p.ShardBlocksByRangeProtocol, n.serveBlocksByRange); err != nil {
		return fmt.Errorf("handle %s: %w", p2p.ShardBlocksByRangeProtocol, err)
	}
	if err := n.p2p.Handle(ShardStateByRootProtocol, n.serveStateByRoot); err != nil {
		return fmt.Errorf("handle %s: %w", ShardStateByRootProtocol, err)
	}
	return nil
}

// guard ignores messages once the node is closing.
func (n *Node) guard(v p2p.Validator) p2p.Validator {
	return func(ctx context.Context, from peer.ID, data []byte) p2p.ValidationResult {
		if n.ctx.Err() != nil {
			return p2p.Ignore
		}
		return v(ctx, from, data)
	}
}

// verdict maps a chain error to a gossip verdict: "not now" and "not new"
// are ignored, rule violations rejected, anything else ignored.
func verdict(err error) p2p.ValidationResult {
	switch {
	case err == nil:
		return p2p.Accept
	case errors.Is(err, chain.ErrStale), errors.Is(err, chain.ErrDuplicate), errors.Is(err, chain.ErrPoolFull),
		errors.Is(err, chain.ErrUnknownParent), errors.Is(err, chain.ErrUnknownBeaconBlock), errors.Is(err, chain.ErrTooOld):
		return p2p.Ignore
	case errors.Is(err, bcore.ErrInvalid):
		return p2p.Reject
	}
	return p2p.Ignore
}

// maxFutureSlots is how far past the current slot a gossip block may be.
const maxFutureSlots = 1

// validateBlockFn returns the validator of shard's block topic: strict
// decoding, the shard, a slot not in the future, then the import, which is
// the validation. An unknown parent or beacon block keeps the block aside
// (and fetches the parent); a fraudulent block is proven by the fisherman.
func (n *Node) validateBlockFn(shard bt.Shard) p2p.Validator {
	return func(_ context.Context, from peer.ID, data []byte) p2p.ValidationResult {
		b := new(st.ShardBlock)
		if err := bt.Decode(b, data); err != nil {
			n.m.gossipRejected(shard, "block")
			return p2p.Reject
		}
		if b.Shard != shard {
			n.m.gossipRejected(shard, "block")
			return p2p.Reject
		}
		if cur, ok := n.beacon.Slots().CurrentSlot(); ok && b.Slot > cur+maxFutureSlots {
			n.m.gossipRejected(shard, "block")
			return p2p.Reject
		}
		res := verdict(n.importBlock(b, from))
		if res == p2p.Reject {
			n.m.gossipRejected(shard, "block")
		}
		return res
	}
}

// importBlock imports a block from the network and deals with the
// outcome.
func (n *Node) importBlock(b *st.ShardBlock, from peer.ID) error {
	c := n.chains[b.Shard]
	root, err := c.ImportBlock(b)
	var ferr *chain.FraudError
	switch {
	case err == nil:
		n.m.blocks.WithLabelValues(shardLabel(b.Shard), "imported").Inc()
		n.retryPending(root)
		if c.Head().Root == root {
			n.setBehind(b.Shard, false) // following the shard live
		}
	case errors.Is(err, chain.ErrUnknownParent):
		n.keepPending(root, b, from)
		n.requestSync(b.Shard, from, true)
	case errors.Is(err, chain.ErrUnknownBeaconBlock):
		n.keepPending(root, b, from)
	case errors.As(err, &ferr):
		n.m.blocks.WithLabelValues(shardLabel(b.Shard), "invalid").Inc()
		n.log.Warn("fraudulent shard block", "shard", uint64(b.Shard), "slot", b.Slot, "root", root,
			"validator", uint64(b.ProposerIndex), "peer", from, "err", ferr.Err)
		n.fraud.prove(ferr)
	case errors.Is(err, bcore.ErrInvalid):
		n.m.blocks.WithLabelValues(shardLabel(b.Shard), "invalid").Inc()
		n.log.Debug("invalid shard block", "shard", uint64(b.Shard), "slot", b.Slot, "root", root, "peer", from, "err", err)
	case errors.Is(err, chain.ErrDuplicate), errors.Is(err, chain.ErrTooOld):
	default:
		n.log.Warn("import shard block failed", "shard", uint64(b.Shard), "slot", b.Slot, "root", root, "err", err)
	}
	return err
}

// validateMessageFn returns the validator of shard's transaction topic:
// strict decoding of a ShardMessage holding exactly one transaction or
// claim, then admission to the pool.
func (n *Node) validateMessageFn(shard bt.Shard) p2p.Validator {
	return func(_ context.Context, _ peer.ID, data []byte) p2p.ValidationResult {
		var m ShardMessage
		if err := bt.Decode(&m, data); err != nil || len(m.Transaction)+len(m.Claim) != 1 {
			n.m.gossipRejected(shard, "message")
			return p2p.Reject
		}
		c := n.chains[shard]
		var err error
		if len(m.Transaction) == 1 {
			err = c.AddTransaction(m.Transaction[0])
		} else {
			err = c.AddClaim(m.Claim[0])
		}
		res := verdict(err)
		if res == p2p.Reject {
			n.m.gossipRejected(shard, "message")
		}
		return res
	}
}

// publish encodes and publishes a message.
func (n *Node) publish(ctx context.Context, topic string, v interface{ MarshalSSZ() ([]byte, error) }) error {
	buf, err := v.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode %s message: %w", topic, err)
	}
	return n.p2p.Publish(ctx, topic, buf)
}

// pendingBlock is a gossip block waiting for its parent or beacon block.
type pendingBlock struct {
	block *st.ShardBlock
	from  peer.ID
}

// keepPending keeps a block aside (bounded: the oldest slots go first).
func (n *Node) keepPending(root bt.Root, b *st.ShardBlock, from peer.ID) {
	n.pendMu.Lock()
	defer n.pendMu.Unlock()
	if _, ok := n.pending[root]; ok {
		return
	}
	if len(n.pending) >= n.cfg.MaxPendingBlocks {
		var oldest bt.Root
		first := true
		for r, p := range n.pending {
			if first || p.block.Slot < n.pending[oldest].block.Slot {
				oldest, first = r, false
			}
		}
		delete(n.pending, oldest)
	}
	n.pending[root] = &pendingBlock{block: b, from: from}
}

// dropStalePending forgets pending blocks more than two epochs old: their
// parent or beacon block is not coming.
func (n *Node) dropStalePending(slot bt.Slot) {
	horizon := bt.Slot(2 * n.pcfg.SlotsPerEpoch)
	n.pendMu.Lock()
	defer n.pendMu.Unlock()
	for r, p := range n.pending {
		if p.block.Slot+horizon < slot {
			delete(n.pending, r)
		}
	}
}

// retryPending imports the pending blocks whose parent is parent (after
// parent's import); a zero parent retries every pending block, oldest
// first (after new beacon blocks). Blocks that import, or turn out invalid
// or too old, leave the queue.
func (n *Node) retryPending(parent bt.Root) {
	n.pendMu.Lock()
	var ready []*pendingBlock
	for r, p := range n.pending {
		if parent == (bt.Root{}) || p.block.ParentRoot == parent {
			ready = append(ready, p)
			delete(n.pending, r)
		}
	}
	n.pendMu.Unlock()
	slices.SortFunc(ready, func(a, b *pendingBlock) int { return cmp.Compare(a.block.Slot, b.block.Slot) })
	for _, p := range ready {
		root, err := n.chains[p.block.Shard].ImportBlock(p.block)
		var ferr *chain.FraudError
		switch {
		case err == nil:
			n.m.blocks.WithLabelValues(shardLabel(p.block.Shard), "imported").Inc()
			n.retryPending(root)
		case errors.Is(err, chain.ErrUnknownParent), errors.Is(err, chain.ErrUnknownBeaconBlock):
			n.keepPending(root, p.block, p.from)
		case errors.As(err, &ferr):
			n.m.blocks.WithLabelValues(shardLabel(p.block.Shard), "invalid").Inc()
			n.fraud.prove(ferr)
		}
	}
}
