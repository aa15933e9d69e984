package chain

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	bcore "github.com/shardlab/shardlab/beacon/core"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	"github.com/shardlab/shardlab/shard/store"
	st "github.com/shardlab/shardlab/shard/types"
)

// ImportBlock validates b in full (docs/protocol.md §3.3) and adds it to the
// tree, the store and, when its beacon reference is canonical, the fork
// choice. It returns the block's root. Errors: ErrDuplicate, ErrUnknownParent,
// ErrUnknownBeaconBlock, ErrTooOld ("not now"); ErrInvalidHeader (wrong
// shard, proposer or signature, or an invalid ancestor), a *FraudError
// (execution), both wrapping beacon/core.ErrInvalid; anything else is an
// internal failure. Invalid blocks are remembered.
func (s *Service) ImportBlock(b *st.ShardBlock) (bt.Root, error) {
	root, err := b.SigningRoot()
	if err != nil {
		return bt.Root{}, fmt.Errorf("%w: %v", ErrInvalidHeader, err)
	}
	s.mu.Lock()
	parent, err := s.admitLocked(root, b)
	if err != nil {
		s.mu.Unlock()
		return root, err
	}
	pre := parent.post.Copy()
	parentHeader := parent.header
	s.mu.Unlock()

	bblk, ok := s.beacon.Block(b.BeaconBlockRoot)
	if !ok {
		return root, fmt.Errorf("import shard block %s: %w %s", root, ErrUnknownBeaconBlock, b.BeaconBlockRoot)
	}
	ref := bblk.GetSlot()
	outOfRange := ref > b.Slot || uint64(b.Slot-ref) > s.pcfg.SlotsPerEpoch
	beacon, ok := s.beacon.StateAt(b.BeaconBlockRoot)
	if !ok {
		if outOfRange {
			// §5.1: a block cannot claim an old beacon reference to pass
			// as history whose state is pruned. Without the state the
			// block cannot be re-executed, so it is rejected unproven.
			err := fmt.Errorf("%w: beacon reference at slot %d for a block at slot %d", ErrInvalidHeader, ref, b.Slot)
			s.reject(root, b, err)
			return root, err
		}
		return root, fmt.Errorf("import shard block %s: state of beacon block %s: %w", root, b.BeaconBlockRoot, ErrBeaconPruned)
	}
	// With the state at hand an out-of-range reference goes on to
	// execution, which fails it (§5.1) as a *FraudError: a fisherman can
	// prove it like any other invalid execution.
	if err := s.checkHeader(beacon, b, root); err != nil {
		// The root does not cover the signature: a bad signature says
		// nothing about a correctly signed copy of the same block.
		if !errors.Is(err, errBadSignature) {
			s.reject(root, b, err)
		}
		return root, err
	}
	ctx := shardcore.BlockContext{Parent: &parentHeader, BeaconRoot: b.BeaconBlockRoot, Beacon: beacon}
	receipts, err := shardcore.ProcessBlock(s.tr, ctx, pre, b, bcore.SkipSigs, shardcore.ExecOptions{TxDomain: s.cfg.TxDomain, TxCache: s.cfg.TxCache})
	if err != nil {
		if !errors.Is(err, bcore.ErrInvalid) {
			return root, fmt.Errorf("process shard block %s: %w", root, err)
		}
		ferr := &FraudError{Err: err, Block: b, Parent: parentHeader, Beacon: beacon}
		if ferr.BeaconHeader, err = beaconHeader(bblk); err != nil {
			return root, err
		}
		s.mu.Lock()
		if p := s.blocks[b.ParentRoot]; p != nil && p.post != nil {
			ferr.Pre = p.post.Copy()
		}
		s.mu.Unlock()
		s.reject(root, b, ferr)
		return root, ferr
	}
	h, err := b.Header()
	if err != nil {
		return root, err
	}
	rec := &blockRec{root: root, header: h, block: b, receipts: receipts, post: pre, beaconSlot: bblk.GetSlot()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.blocks[root]; ok {
		return root, fmt.Errorf("import shard block %s: %w", root, ErrDuplicate)
	}
	if _, ok := s.blocks[b.ParentRoot]; !ok {
		return root, fmt.Errorf("import shard block %s: parent %s pruned meanwhile: %w", root, b.ParentRoot, ErrTooOld)
	}
	return root, s.insertLocked(rec)
}

// admitLocked does the checks that need no state: shard, duplicates, known
// invalid ancestry, the parent and the anchor.
func (s *Service) admitLocked(root bt.Root, b *st.ShardBlock) (*blockRec, error) {
	if b.Shard != s.shard {
		return nil, fmt.Errorf("%w: block of shard %d on shard %d", ErrInvalidHeader, b.Shard, s.shard)
	}
	if _, ok := s.blocks[root]; ok {
		return nil, fmt.Errorf("import shard block %s: %w", root, ErrDuplicate)
	}
	if _, ok := s.invalid[root]; ok {
		return nil, fmt.Errorf("%w: block %s is known to be invalid", ErrInvalidHeader, root)
	}
	if _, ok := s.invalid[b.ParentRoot]; ok {
		h, _ := b.Header()
		s.noteInvalidLocked(&invalidRec{root: root, header: h, block: b})
		s.persistInvalidLocked(root)
		return nil, fmt.Errorf("%w: block %s descends from invalid block %s", ErrInvalidHeader, root, b.ParentRoot)
	}
	parent, ok := s.blocks[b.ParentRoot]
	if !ok {
		return nil, fmt.Errorf("import shard block %s: %w %s", root, ErrUnknownParent, b.ParentRoot)
	}
	if parent.post == nil || b.Slot <= s.blocks[s.anchor].slot() {
		return nil, fmt.Errorf("import shard block %s at slot %d: before the anchor: %w", root, b.Slot, ErrTooOld)
	}
	return parent, nil
}

// checkHeader checks what of b needs the beacon state besides execution
// (the §3.3 header checks, in their order): the proposer and its
// signature. Failures are ErrInvalidHeader.
func (s *Service) checkHeader(beacon *bt.BeaconState, b *st.ShardBlock, root bt.Root) error {
	proposer, err := shardcore.ShardProposerIndex(s.tr, beacon, b.Shard, b.Slot)
	if err != nil {
		if errors.Is(err, bcore.ErrInvalid) {
			return fmt.Errorf("%w: %v", ErrInvalidHeader, err)
		}
		return err
	}
	if b.ProposerIndex != proposer {
		return fmt.Errorf("%w: proposer %d, expected %d for slot %d", ErrInvalidHeader, b.ProposerIndex, proposer, b.Slot)
	}
	v := beacon.Validators[proposer]
	if v.Slashed {
		return fmt.Errorf("%w: proposer %d is slashed", ErrInvalidHeader, proposer)
	}
	if _, err := s.tr.Pubkeys().Get(v.Pubkey); err != nil {
		return fmt.Errorf("%w: proposer key: %v", ErrInvalidHeader, err)
	}
	domain := shardcore.ShardDomain(s.pcfg, s.pcfg.DomainShardProposer)
	if err := s.tr.VerifySignature(s.sigs, v.Pubkey, root, b.Signature, domain, "shard block signature"); err != nil {
		return fmt.Errorf("%w: %w of proposer %d: %v", ErrInvalidHeader, errBadSignature, proposer, err)
	}
	return nil
}

// errBadSignature marks a header error that is about the signature only.
var errBadSignature = errors.New("bad signature")

// reject remembers an invalid block (it takes the lock).
func (s *Service) reject(root bt.Root, b *st.ShardBlock, err error) {
	h, herr := b.Header()
	if herr != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteInvalidLocked(&invalidRec{root: root, header: h, block: b})
	s.persistInvalidLocked(root)
	s.log.Debug("invalid shard block", "slot", b.Slot, "root", root, "err", err)
}

func (s *Service) persistInvalidLocked(root bt.Root) {
	wb := s.store.NewBatch()
	wb.PutInvalid(root)
	if err := wb.Commit(); err != nil {
		s.log.Warn("record invalid block failed", "root", root, "err", err)
	}
}

// noteInvalidLocked remembers an invalid block, forgetting the oldest
// beyond MaxInvalid.
func (s *Service) noteInvalidLocked(r *invalidRec) {
	if _, ok := s.invalid[r.root]; ok {
		if r.block != nil {
			s.invalid[r.root] = r
		}
		return
	}
	s.invalid[r.root] = r
	s.invalidOrder = append(s.invalidOrder, r.root)
	for len(s.invalidOrder) > s.cfg.MaxInvalid {
		delete(s.invalid, s.invalidOrder[0])
		s.invalidOrder = s.invalidOrder[1:]
	}
}

// beaconHeader returns the header of a beacon block of either kind.
func beaconHeader(b bt.AnyBlock) (bt.BeaconBlockHeader, error) {
	switch blk := b.(type) {
	case *bt.BeaconBlock:
		return blk.Header()
	case *bt.ShardBeaconBlock:
		return blk.Header()
	}
	return bt.BeaconBlockHeader{}, fmt.Errorf("beacon block of type %T", b)
}

// AddBuilt adds a block this node built (shard/core.BuildBlock) and so
// already executed: no re-execution.
func (s *Service) AddBuilt(built *shardcore.Built, beaconSlot bt.Slot) (bt.Root, error) {
	h, err := built.Block.Header()
	if err != nil {
		return bt.Root{}, err
	}
	root := h.SigningRoot()
	rec := &blockRec{root: root, header: h, block: built.Block, receipts: built.Receipts, post: built.Post, beaconSlot: beaconSlot}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.blocks[root]; ok {
		return root, fmt.Errorf("import shard block %s: %w", root, ErrDuplicate)
	}
	if p, ok := s.blocks[h.ParentRoot]; !ok || p.post == nil {
		return root, fmt.Errorf("add shard block %s: %w %s", root, ErrUnknownParent, h.ParentRoot)
	}
	return root, s.insertLocked(rec)
}

// insertLocked adds a valid block: memory, store, fork choice, head.
func (s *Service) insertLocked(rec *blockRec) error {
	b := s.store.NewBatch()
	b.PutBlock(rec.root, rec.block, rec.receipts)
	b.PutState(rec.root, rec.post)
	s.putLocked(rec)
	if s.beaconCanonical(rec) {
		if err := s.fc.AddValid(rec.header); err != nil && !errors.Is(err, shardcore.ErrUnknownShardParent) {
			s.log.Warn("fork choice refused a valid block", "slot", rec.slot(), "root", rec.root, "err", err)
		}
	}
	s.updateHeadLocked(b, false)
	if err := b.Commit(); err != nil {
		return fmt.Errorf("save shard block %s: %w", rec.root, err)
	}
	s.log.Debug("imported shard block", "slot", rec.slot(), "root", rec.root, "transactions", len(rec.block.Body.Transactions),
		"claims", len(rec.block.Body.Claims), "receipts", len(rec.receipts))
	return nil
}

// beaconCanonical reports whether a block's beacon reference is on the
// beacon node's canonical chain (docs/protocol.md §4.5 rule 1).
func (s *Service) beaconCanonical(rec *blockRec) bool {
	if rec.block == nil {
		return true
	}
	if !s.resolveBeacon(rec) {
		return false
	}
	_, root, ok := s.beacon.CanonicalBlock(rec.beaconSlot)
	return ok && root == rec.block.BeaconBlockRoot
}

// resolveBeacon looks up the slot of rec's beacon reference if restore
// could not (the beacon store was behind the shard store, see
// PendingBeaconRefs), and reports whether the beacon chain knows it. Called
// with the lock held, or from New.
func (s *Service) resolveBeacon(rec *blockRec) bool {
	if rec.beaconSlot != 0 {
		return true
	}
	b, ok := s.beacon.Block(rec.block.BeaconBlockRoot)
	if !ok {
		return false
	}
	rec.beaconSlot = b.GetSlot()
	return true
}

// PendingBeaconRefs counts the stored blocks after the anchor whose beacon
// reference the beacon chain does not know, and returns the last one's
// slot: after a restart on a beacon store that lost blocks the shard store
// still has, they wait outside the fork choice until the beacon chain
// syncs those blocks again.
func (s *Service) PendingBeaconRefs() (blocks int, last bt.Slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.descendantsLocked(s.anchor) {
		if r.block != nil && !s.resolveBeacon(r) {
			blocks++
			last = max(last, r.slot())
		}
	}
	return blocks, last
}

// descendantsLocked returns the blocks descending from root (root
// excluded), in slot order.
func (s *Service) descendantsLocked(root bt.Root) []*blockRec {
	base, ok := s.blocks[root]
	if !ok {
		return nil
	}
	memo := map[bt.Root]bool{root: true}
	var walk func(r *blockRec) bool
	walk = func(r *blockRec) bool {
		if v, ok := memo[r.root]; ok {
			return v
		}
		v := false
		if p, ok := s.blocks[r.header.ParentRoot]; ok && r.block != nil && r.slot() > base.slot() {
			v = walk(p)
		}
		memo[r.root] = v
		return v
	}
	var out []*blockRec
	for _, r := range s.blocks {
		if r.root != root && r.slot() > base.slot() && walk(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *blockRec) int { return cmp.Compare(a.slot(), b.slot()) })
	return out
}

// rebuildLocked rebuilds the fork choice from anchor with the valid
// descendants whose beacon reference is canonical.
func (s *Service) rebuildLocked(anchor bt.Root) {
	fc := shardcore.NewForkChoice(s.blocks[anchor].header)
	for _, r := range s.descendantsLocked(anchor) {
		if r.post != nil && s.beaconCanonical(r) {
			_ = fc.AddValid(r.header) // a block whose parent was left out waits in fc
		}
	}
	s.fc = fc
}

// addPendingLocked adds to the fork choice the descendants of the anchor
// left out while their beacon reference was not canonical.
func (s *Service) addPendingLocked() {
	for _, r := range s.descendantsLocked(s.anchor) {
		if !s.fc.Has(r.root) && r.post != nil && s.beaconCanonical(r) {
			_ = s.fc.AddValid(r.header)
		}
	}
}

// updateHeadLocked recomputes the head and, when it changed (or force),
// the canonical index, the sent-receipts log and the pools.
func (s *Service) updateHeadLocked(b *store.Batch, force bool) {
	newHead := s.fc.Head()
	if newHead == s.head && !force {
		return
	}
	canon := make(map[bt.Slot]bt.Root)
	for r := s.blocks[newHead]; r != nil; r = s.blocks[r.header.ParentRoot] {
		canon[r.slot()] = r.root
		if r == s.genesis {
			break
		}
	}
	oldest := s.blocks[newHead].slot()
	for sl := range canon {
		oldest = min(oldest, sl)
	}
	slots := make([]bt.Slot, 0, len(canon))
	for sl := range canon {
		slots = append(slots, sl)
	}
	slices.Sort(slots)
	for _, sl := range slots {
		root := canon[sl]
		if s.canon[sl] == root {
			continue
		}
		b.SetCanonical(sl, root)
		rec := s.blocks[root]
		for i := range rec.receipts {
			r := &rec.receipts[i]
			s.sentLogLocked(r.DstShard).set(SentReceipt{Receipt: *r, Index: i, Block: root})
		}
	}
	for sl := range s.canon {
		if _, ok := canon[sl]; !ok && sl >= oldest {
			b.DeleteCanonical(sl)
		}
	}
	s.canon = canon
	s.head = newHead
	b.SetHead(newHead)
	head := s.headStateLocked()
	for dst, l := range s.sent {
		if int(dst) < len(head.OutboxNonces) {
			l.truncate(head.OutboxNonces[dst])
		}
	}
	s.txs.prune(head)
	s.claims.prune(head)
}

// MarkInvalid records that a block was proven invalid (a fraud proof of it
// reached the beacon chain): it and its descendants leave the tree and the
// fork choice.
func (s *Service) MarkInvalid(root bt.Root) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.blocks[root]
	if !ok || rec == s.genesis {
		if !ok {
			s.noteInvalidLocked(&invalidRec{root: root})
			s.persistInvalidLocked(root)
		}
		return
	}
	b := s.store.NewBatch()
	gone := append([]*blockRec{rec}, s.descendantsLocked(root)...)
	anchorGone := false
	for _, r := range gone {
		delete(s.blocks, r.root)
		delete(s.byStateRoot, r.header.StateRoot)
		b.DeleteBlock(r.root)
		b.PutInvalid(r.root)
		s.noteInvalidLocked(&invalidRec{root: r.root, header: r.header, block: r.block})
		anchorGone = anchorGone || r.root == s.anchor
	}
	if anchorGone {
		// A crosslinked block was proven invalid: fall back to its
		// parent until the beacon chain's rollback names a new anchor.
		p := rec.header.ParentRoot
		if _, ok := s.blocks[p]; !ok {
			p = s.genesis.root
		}
		s.anchor = p
		b.SetAnchor(p)
		s.rebuildLocked(p)
	} else {
		s.fc.MarkInvalid(root)
	}
	s.updateHeadLocked(b, true)
	if err := b.Commit(); err != nil {
		s.log.Warn("record invalid block failed", "root", root, "err", err)
	}
	s.log.Info("dropped proven invalid shard block", "slot", rec.slot(), "root", root, "descendants", len(gone)-1)
}

// pruneLocked drops what the anchor leaves behind: the states of its
// ancestors, blocks older than the retained window, and dead forks.
func (s *Service) pruneLocked(b *store.Batch) {
	ar := s.blocks[s.anchor]
	horizon := s.horizon(ar.slot())
	ancestors := make(map[bt.Root]bool)
	for r := s.blocks[ar.header.ParentRoot]; r != nil && ar != s.genesis; r = s.blocks[r.header.ParentRoot] {
		ancestors[r.root] = true
		if r == s.genesis {
			break
		}
	}
	desc := make(map[bt.Root]bool)
	for _, r := range s.descendantsLocked(s.anchor) {
		desc[r.root] = true
	}
	for root, r := range s.blocks {
		if r == s.genesis || root == s.anchor || desc[root] {
			continue
		}
		if ancestors[root] {
			if r.post != nil {
				delete(s.byStateRoot, r.header.StateRoot)
				r.post = nil
				b.DeleteState(root)
			}
			if r.slot() < horizon {
				delete(s.blocks, root)
			}
			continue
		}
		delete(s.blocks, root)
		delete(s.byStateRoot, r.header.StateRoot)
		b.DeleteBlock(root)
	}
}
