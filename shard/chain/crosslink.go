package chain

import (
	"fmt"
	"slices"

	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	"github.com/shardlab/shardlab/shard/store"
	st "github.com/shardlab/shardlab/shard/types"
)

// linkRec is a crosslink of the shard seen in the beacon chain, with the
// header roots behind its data root once resolved.
type linkRec struct {
	cl       bt.Crosslink
	root     bt.Root // hash_tree_root(cl)
	resolved bool
	headers  []bt.Root
}

// maxServed bounds the data roots remembered from answering attesters.
const maxServed = 1024

// linkKeepEpochs is how far back (in end epochs) crosslinks are kept:
// beyond MAX_CROSSLINK_CHAIN links no claim or rollback reaches them.
const linkKeepEpochs = 64

// addLinkLocked records a crosslink (returning the existing record if
// known). Crosslinks without shard data (the genesis Crosslink(), phase 0
// zero data roots, empty ranges) resolve at once to no headers.
func (s *Service) addLinkLocked(c bt.Crosslink) *linkRec {
	root := c.TreeRoot()
	if l, ok := s.links[root]; ok {
		return l
	}
	l := &linkRec{cl: c, root: root}
	if c == (bt.Crosslink{}) || c.DataRoot == (bt.Root{}) || c.DataRoot == s.emptyRoot {
		l.resolved = true
	}
	s.links[root] = l
	return l
}

func saveLink(b *store.Batch, l *linkRec) {
	b.PutCrosslink(&store.CrosslinkRecord{Crosslink: l.cl, Resolved: l.resolved, Headers: l.headers})
}

func (s *Service) rangeSlots(c bt.Crosslink) (bt.Slot, bt.Slot) {
	spe := bt.Slot(s.pcfg.SlotsPerEpoch)
	return bt.Slot(c.StartEpoch) * spe, bt.Slot(c.EndEpoch) * spe
}

// rangeListLocked returns the roots of r and its ancestors with slots at or
// after start, oldest first (the genesis header is never listed).
func (s *Service) rangeListLocked(r *blockRec, start bt.Slot) []bt.Root {
	var out []bt.Root
	for ; r != nil && r.block != nil && r.slot() >= start; r = s.blocks[r.header.ParentRoot] {
		out = append(out, r.root)
	}
	slices.Reverse(out)
	return out
}

// resolveLocked maps l's data root to a header list: one this node answered
// as an attester, else the list ending at some known valid block of the
// range. It reports whether l is resolved.
func (s *Service) resolveLocked(l *linkRec) bool {
	if l.resolved {
		return true
	}
	if hs, ok := s.served[l.cl.DataRoot]; ok {
		l.resolved, l.headers = true, slices.Clone(hs)
		return true
	}
	start, end := s.rangeSlots(l.cl)
	for _, r := range s.blocks {
		if r.block == nil || r.slot() < start || r.slot() >= end {
			continue
		}
		list := s.rangeListLocked(r, start)
		root, err := shardcore.CrosslinkDataRoot(s.pcfg, list)
		if err == nil && root == l.cl.DataRoot {
			l.resolved, l.headers = true, list
			return true
		}
	}
	return false
}

// anchorForLocked returns the last block crosslink c lists, following
// parent crosslinks through those that list none (docs/protocol.md §4.5
// rule 2); ok is false when a crosslink on the way cannot be matched or its
// block is no longer held.
func (s *Service) anchorForLocked(c bt.Crosslink) (bt.Root, bool) {
	l := s.links[c.TreeRoot()]
	for range 4 * linkKeepEpochs {
		if l == nil || !s.resolveLocked(l) {
			return bt.Root{}, false
		}
		if n := len(l.headers); n > 0 {
			_, ok := s.blocks[l.headers[n-1]]
			return l.headers[n-1], ok
		}
		if l.cl == (bt.Crosslink{}) {
			return s.genesis.root, true
		}
		l = s.links[l.cl.ParentRoot]
	}
	return bt.Root{}, false
}

// ObserveBeacon takes the beacon head's post-state: the shard's crosslinks
// are recorded and matched to header lists, the fork choice is re-rooted at
// the last crosslinked block when the current crosslink names a new one
// (rebuilt after a beacon reorg, given by reorg), and blocks whose beacon
// reference became canonical join the fork choice. state is only read.
func (s *Service) ObserveBeacon(state *bt.BeaconState, reorg bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.store.NewBatch()
	if reorg {
		s.rebuildLocked(s.anchor)
	} else {
		s.addPendingLocked()
	}
	if int(s.shard) < len(state.CurrentCrosslinks) && int(s.shard) < len(state.PreviousCrosslinks) {
		for _, c := range []bt.Crosslink{state.PreviousCrosslinks[s.shard], state.CurrentCrosslinks[s.shard]} {
			if _, known := s.links[c.TreeRoot()]; !known {
				saveLink(b, s.addLinkLocked(c))
			}
		}
		cur := state.CurrentCrosslinks[s.shard]
		if !s.haveCurrent || cur != s.current {
			s.log.Debug("new current crosslink", "epoch", cur.EndEpoch, "root", cur.DataRoot)
		}
		s.current, s.haveCurrent = cur, true
		for _, l := range s.links {
			if !l.resolved && s.resolveLocked(l) {
				saveLink(b, l)
			}
		}
		if a, ok := s.anchorForLocked(cur); ok {
			if a != s.anchor {
				s.moveAnchorLocked(a, b)
			}
		} else if root := cur.TreeRoot(); !s.unmatched[root] {
			s.unmatched[root] = true
			s.log.Info("crosslink data not matched, keeping the fork choice root", "start_epoch", cur.StartEpoch,
				"epoch", cur.EndEpoch, "root", cur.DataRoot)
		}
		s.pruneLinksLocked(b)
	}
	s.updateHeadLocked(b, false)
	if err := b.Commit(); err != nil {
		return fmt.Errorf("observe beacon head: %w", err)
	}
	return nil
}

// moveAnchorLocked re-roots the fork choice at a (a valid block held).
func (s *Service) moveAnchorLocked(a bt.Root, b *store.Batch) {
	rec, ok := s.blocks[a]
	if !ok {
		return
	}
	if s.fc.Has(a) {
		if err := s.fc.SetRoot(a); err != nil {
			s.rebuildLocked(a)
		}
	} else {
		s.rebuildLocked(a)
	}
	s.anchor = a
	b.SetAnchor(a)
	s.pruneLocked(b)
	s.log.Info("shard fork choice re-rooted at the crosslinked block", "slot", rec.slot(), "root", a)
}

// pruneLinksLocked forgets crosslinks too old to matter.
func (s *Service) pruneLinksLocked(b *store.Batch) {
	if !s.haveCurrent || uint64(s.current.EndEpoch) < linkKeepEpochs {
		return
	}
	for root, l := range s.links {
		if l.cl != (bt.Crosslink{}) && uint64(l.cl.EndEpoch)+linkKeepEpochs < uint64(s.current.EndEpoch) {
			delete(s.links, root)
			delete(s.unmatched, root)
			b.DeleteCrosslink(root)
		}
	}
}

// DataRoot is the honest attester's data root for the crosslink of the
// shard over [start, end) epochs (docs/protocol.md §4.2): the root of the
// canonical chain's headers in the range (shard/core.ForkChoice's
// CrosslinkHeaders when the range lies after the fork choice's root, the
// canonical chain in memory otherwise). ErrNoData when the range reaches
// before the blocks held.
func (s *Service) DataRoot(start, end bt.Epoch) (bt.Root, error) {
	if start > end || uint64(end-start) > s.pcfg.MaxEpochsPerCrosslink {
		return bt.Root{}, fmt.Errorf("crosslink data of [%d, %d): %w: bad range", start, end, ErrNoData)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := bt.Crosslink{Shard: s.shard, StartEpoch: start, EndEpoch: end}
	from, to := s.rangeSlots(c)
	var roots []bt.Root
	if from > s.blocks[s.anchor].slot() {
		hs, err := s.fc.CrosslinkHeaders(s.pcfg.SlotsPerEpoch, c)
		if err != nil {
			return bt.Root{}, fmt.Errorf("crosslink data: %w", err)
		}
		for i := range hs {
			roots = append(roots, hs[i].SigningRoot())
		}
	} else {
		r := s.blocks[s.head]
		for ; r != nil && r.block != nil && r.slot() >= from; r = s.blocks[r.header.ParentRoot] {
			if r.slot() < to {
				roots = append(roots, r.root)
			}
		}
		if r == nil {
			return bt.Root{}, fmt.Errorf("crosslink data of [%d, %d): %w: blocks no longer held", start, end, ErrNoData)
		}
		slices.Reverse(roots)
	}
	root, err := shardcore.CrosslinkDataRoot(s.pcfg, roots)
	if err != nil {
		return bt.Root{}, err
	}
	if _, ok := s.served[root]; !ok {
		s.served[root] = roots
		s.servedOrder = append(s.servedOrder, root)
		if len(s.servedOrder) > maxServed {
			delete(s.served, s.servedOrder[0])
			s.servedOrder = s.servedOrder[1:]
		}
	}
	return root, nil
}

// Link is a crosslink of the shard with, when Resolved, the roots of the
// headers behind its data root (oldest first).
type Link struct {
	Crosslink bt.Crosslink
	Resolved  bool
	Headers   []bt.Root
}

// CrosslinkChain returns c and its ancestors through parent_root, newest
// first, at most max of them, as far as they are known; c need not have
// been observed before.
func (s *Service) CrosslinkChain(c bt.Crosslink, max int) []Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Link
	l, ok := s.links[c.TreeRoot()]
	if !ok {
		l = s.addLinkLocked(c)
	}
	for l != nil && len(out) < max {
		s.resolveLocked(l)
		out = append(out, Link{Crosslink: l.cl, Resolved: l.resolved, Headers: slices.Clone(l.headers)})
		if l.cl == (bt.Crosslink{}) {
			break
		}
		l = s.links[l.cl.ParentRoot]
	}
	return out
}

// CrosslinkByRoot returns a known crosslink by its hash tree root.
func (s *Service) CrosslinkByRoot(root bt.Root) (bt.Crosslink, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.links[root]; ok {
		return l.cl, true
	}
	return bt.Crosslink{}, false
}

// CrosslinkHeader returns the header of the last block crosslink c
// commits to (through its parents when it lists none), when known.
func (s *Service) CrosslinkHeader(c bt.Crosslink) (st.ShardBlockHeader, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.links[c.TreeRoot()]; !ok {
		s.addLinkLocked(c)
	}
	root, ok := s.anchorForLocked(c)
	if !ok {
		return st.ShardBlockHeader{}, false
	}
	return s.blocks[root].header, true
}

// InvalidInCrosslink reports whether crosslink c's data root lists the
// invalid block root, as the header list ending with it (its valid
// ancestors in c's range, then it): it returns that list and the block's
// index in it.
func (s *Service) InvalidInCrosslink(c bt.Crosslink, root bt.Root) ([]bt.Root, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invalid[root]
	if !ok || inv.block == nil || c.Shard != s.shard {
		return nil, 0, false
	}
	start, end := s.rangeSlots(c)
	if inv.header.Slot < start || inv.header.Slot >= end {
		return nil, 0, false
	}
	list := append(s.rangeListLocked(s.blocks[inv.header.ParentRoot], start), root)
	if dr, err := shardcore.CrosslinkDataRoot(s.pcfg, list); err != nil || dr != c.DataRoot {
		return nil, 0, false
	}
	return list, len(list) - 1, true
}

// InvalidBlock returns an invalid block remembered with its content.
func (s *Service) InvalidBlock(root bt.Root) (*st.ShardBlock, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv, ok := s.invalid[root]; ok && inv.block != nil {
		return inv.block, true
	}
	return nil, false
}
