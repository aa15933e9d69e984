package chain

import (
	"fmt"

	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// Checkpoint restarts the chain from a crosslinked block without
// re-executing the history before it, for a node that cannot: the beacon
// states its old blocks reference are pruned (a node started or restarted
// long after them). c must be a crosslink the service observed in the
// beacon chain (ObserveBeacon); blocks are the blocks of its range, oldest
// first, whose header roots give c's data root; state is the last block's
// post-state, checked against its state root. The last block becomes the
// anchor of the fork choice, with state; the others are kept as its
// ancestors without states. Receipts of these blocks are not known, so the
// node does not relay them. It returns the new anchor's root.
func (s *Service) Checkpoint(c bt.Crosslink, blocks []*st.ShardBlock, state *st.ShardState) (bt.Root, error) {
	if len(blocks) == 0 || state == nil {
		return bt.Root{}, fmt.Errorf("checkpoint shard %d: no block or state", s.shard)
	}
	from, to := s.rangeSlots(c)
	headers := make([]st.ShardBlockHeader, len(blocks))
	roots := make([]bt.Root, len(blocks))
	for i, b := range blocks {
		h, err := b.Header()
		if err != nil {
			return bt.Root{}, fmt.Errorf("checkpoint shard %d: %w", s.shard, err)
		}
		if b.Shard != s.shard || b.Slot < from || b.Slot >= to || (i > 0 && (b.ParentRoot != roots[i-1] || b.Slot <= blocks[i-1].Slot)) {
			return bt.Root{}, fmt.Errorf("checkpoint shard %d: block %d is not of the crosslink's chain", s.shard, i)
		}
		headers[i], roots[i] = h, h.SigningRoot()
	}
	dr, err := shardcore.CrosslinkDataRoot(s.pcfg, roots)
	if err != nil {
		return bt.Root{}, fmt.Errorf("checkpoint shard %d: %w", s.shard, err)
	}
	if dr != c.DataRoot {
		return bt.Root{}, fmt.Errorf("checkpoint shard %d: the blocks give data root %s, the crosslink has %s", s.shard, dr, c.DataRoot)
	}
	last := blocks[len(blocks)-1]
	sr, err := state.HashTreeRoot() // the caller hands the state over: hashing it here caches its tree
	if err != nil {
		return bt.Root{}, fmt.Errorf("checkpoint shard %d: %w", s.shard, err)
	}
	if sr != last.StateRoot || state.Shard != s.shard || state.Slot != last.Slot {
		return bt.Root{}, fmt.Errorf("checkpoint shard %d: the state is not the post-state of block %s", s.shard, roots[len(roots)-1])
	}
	anchor := roots[len(roots)-1]

	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[c.TreeRoot()]
	if !ok {
		return bt.Root{}, fmt.Errorf("checkpoint shard %d: crosslink not seen in the beacon chain", s.shard)
	}
	if cur := s.blocks[s.anchor]; cur != nil && cur.slot() >= last.Slot {
		return s.anchor, nil // already there
	}
	l.resolved, l.headers = true, roots
	b := s.store.NewBatch()
	saveLink(b, l)
	for i, blk := range blocks {
		rec, ok := s.blocks[roots[i]]
		if !ok {
			rec = &blockRec{root: roots[i], header: headers[i], block: blk}
			if bb, ok := s.beacon.Block(blk.BeaconBlockRoot); ok {
				rec.beaconSlot = bb.GetSlot()
			}
			b.PutBlock(rec.root, blk, nil)
		}
		if i == len(blocks)-1 && rec.post == nil {
			rec.post = state
			b.PutState(rec.root, state)
		}
		s.putLocked(rec)
	}
	s.anchor = anchor
	b.SetAnchor(anchor)
	s.rebuildLocked(anchor)
	s.pruneLocked(b)
	s.updateHeadLocked(b, true)
	if err := b.Commit(); err != nil {
		return bt.Root{}, fmt.Errorf("checkpoint shard %d: %w", s.shard, err)
	}
	s.log.Info("shard chain restarted from a crosslinked block", "slot", last.Slot, "root", anchor,
		"start_epoch", c.StartEpoch, "epoch", c.EndEpoch)
	return anchor, nil
}
