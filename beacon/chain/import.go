package chain

import (
	"errors"
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/forkchoice"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/types"
)

// ImportBlock adds a block to the chain: the fork choice runs the state
// transition (with sigs, and the state root checked), the block's
// attestations count as fork-choice votes, the head is recomputed, and the
// block, the canonical index, the head, the justified and finalized
// checkpoints (and the finalized state) are persisted in one atomic write.
// When finality advances the fork choice is pruned. A block already known is
// a no-op.
//
// sigs is handed to the state transition: core.VerifySigs for blocks from the
// network, core.SkipSigs for blocks whose signatures are already checked
// (own proposals). A batching policy (core.BatchSigs) must not be used: the
// fork choice keeps the block before the batch could be verified. A
// verifying policy without a cache is given the chain's VerifyCache. A chain
// configured with SkipSignatures checks none.
//
// Errors: ErrUnknownParent (with forkchoice.ErrUnknownParent), ErrFuture
// (with forkchoice.ErrFutureBlock), other rejections wrap core.ErrInvalid; any
// other error is a storage failure (the block is then in the fork choice but
// may not be on disk).
func (s *Service) ImportBlock(b types.AnyBlock, sigs core.Sigs) (types.Root, error) {
	if b == nil {
		return types.Root{}, fmt.Errorf("import block: %w: nil block", forkchoice.ErrMalformed)
	}
	root, err := b.SigningRoot()
	if err != nil {
		return types.Root{}, fmt.Errorf("import block: %w: %v", forkchoice.ErrMalformed, err)
	}
	switch {
	case s.cfg.SkipSignatures:
		sigs = core.SkipSigs
	case !sigs.Skipping() && sigs.Cache() == nil:
		sigs = sigs.WithCache(s.cfg.VerifyCache)
	}
	start := time.Now()
	s.mu.Lock()
	if _, ok := s.fc.Block(root); ok {
		s.mu.Unlock()
		return root, nil
	}
	if err := s.fc.OnBlock(b, sigs); err != nil {
		s.mu.Unlock()
		switch {
		case errors.Is(err, forkchoice.ErrUnknownParent):
			return root, fmt.Errorf("import block %s: %w: %w", root, ErrUnknownParent, err)
		case errors.Is(err, forkchoice.ErrFutureBlock):
			return root, fmt.Errorf("import block %s: %w: %w", root, ErrFuture, err)
		}
		return root, fmt.Errorf("import block %s: %w", root, err)
	}
	s.voteBlockAttestations(b)
	s.dirty = true
	body, proofs := types.BlockBody(b)
	s.pool.removeIncluded(body.Attestations)
	s.ops.removeIncluded(body)
	s.fraudProof.removeIncluded(proofs)

	events := []Event{{Kind: EventNewBlock, Root: root, Slot: b.GetSlot()}}
	more, err := s.updateHeadLocked(b)
	events = append(events, more...)
	s.m.importSeconds.Observe(time.Since(start).Seconds())
	s.log.Debug("imported block", "slot", b.GetSlot(), "root", root, "parent_root", b.GetParentRoot())
	s.unlockAndEmit(events)
	if err != nil {
		return root, fmt.Errorf("import block %s: %w", root, err)
	}
	return root, nil
}

// OnTick advances the fork choice's clock to unixSeconds, counts the pending
// attestations whose slot has now ended, prunes the pools and recomputes the
// head (persisting a change).
func (s *Service) OnTick(unixSeconds uint64) {
	s.mu.Lock()
	s.fc.OnTick(unixSeconds)
	s.retryPendingLocked()
	slot := s.currentSlotLocked()
	s.pool.prune(slot, s.pcfg)
	events, err := s.updateHeadLocked(nil)
	if err != nil {
		s.log.Error("persist head failed", "err", err)
	}
	s.unlockAndEmit(events)
}

// currentSlotLocked is the slot of the fork choice's time (0 before
// genesis). s.mu must be held.
func (s *Service) currentSlotLocked() types.Slot {
	t := s.fc.Time()
	if t < s.genesisTime {
		return 0
	}
	return types.Slot((t - s.genesisTime) / s.pcfg.SecondsPerSlot)
}

// CurrentSlot returns the slot of the chain's clock (the last OnTick).
func (s *Service) CurrentSlot() types.Slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.currentSlotLocked()
}

// updateHeadLocked recomputes the head and reconciles the store with the
// fork choice: block (when not nil, a block just added), the canonical
// index (rewritten along the new head's chain back to the common ancestor
// with the old one), the head, and the justified and finalized checkpoints
// with the finalized state, in one atomic write. It then updates the cached
// head, prunes the fork choice when finality advanced, and returns the
// events. s.mu must be held.
func (s *Service) updateHeadLocked(block types.AnyBlock) ([]Event, error) {
	head, err := s.fc.Head()
	if err != nil {
		return nil, fmt.Errorf("compute head: %w", err)
	}
	s.dirty = false
	just, fin := s.fc.JustifiedCheckpoint(), s.fc.FinalizedCheckpoint()
	if head == s.head && just == s.justified && fin == s.finalized && block == nil {
		return nil, nil
	}
	hb, ok := s.fc.Block(head)
	if !ok {
		return nil, fmt.Errorf("compute head: head %s is not in the fork choice", head)
	}
	var change *canonChange
	if head != s.head {
		if change, err = s.canonicalChange(head); err != nil {
			return nil, err
		}
	}
	err = s.store.Update(func(tx *store.Tx) error {
		if block != nil {
			if _, err := tx.SaveBlock(block); err != nil {
				return err
			}
		}
		if change != nil {
			for _, slot := range change.deleted {
				if err := tx.DeleteCanonical(slot); err != nil {
					return err
				}
			}
			for _, e := range change.added {
				if err := tx.SetCanonical(e.slot, e.root); err != nil {
					return err
				}
			}
			if err := tx.SaveHead(head); err != nil {
				return err
			}
		}
		if just != s.justified {
			if err := tx.SaveJustified(just); err != nil {
				return err
			}
		}
		if fin != s.finalized {
			st, ok := s.fc.State(fin.Root)
			if !ok {
				return fmt.Errorf("save finalized state: %s is not in the fork choice", fin.Root)
			}
			if err := tx.SaveState(fin.Root, st); err != nil {
				return err
			}
			if old := s.finalized.Root; old != s.genesisRoot && old != fin.Root {
				if err := tx.DeleteState(old); err != nil {
					return err
				}
			}
			if err := tx.SaveFinalized(fin); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("persist head %s: %w", head, err)
	}

	var events []Event
	if head != s.head {
		ev := Event{Kind: EventNewHead, Root: head, Slot: hb.GetSlot(), PreviousHead: s.head}
		if change.reorg {
			ev.Reorg, ev.Depth = true, change.depth
			s.m.reorgs.Inc()
			s.log.Info("chain reorg", "slot", hb.GetSlot(), "root", head, "previous_root", s.head, "depth", change.depth)
		}
		s.head, s.headSlot = head, hb.GetSlot()
		events = append(events, ev)
	}
	s.justified = just
	if fin != s.finalized {
		s.finalized = fin
		removed := s.fc.Prune()
		s.pruneCheckpointStatesLocked()
		s.log.Info("finalized", "epoch", fin.Epoch, "root", fin.Root, "pruned_blocks", removed)
		events = append(events, Event{Kind: EventFinalized, Checkpoint: fin})
	}
	s.updateMetricsLocked()
	return events, nil
}

// canonChange is a rewrite of the canonical index.
type canonChange struct {
	added   []canonEntry // new chain, from the head back
	deleted []types.Slot // old entries not overwritten
	reorg   bool         // the old head is not an ancestor of the new one
	depth   int          // canonical blocks of the old chain replaced
}

type canonEntry struct {
	slot types.Slot
	root types.Root
}

// canonicalChange walks back from head to the first block that is already
// canonical (the common ancestor with the old chain; the finalized block at
// the latest) and lists the index entries to write and delete. s.mu must be
// held.
func (s *Service) canonicalChange(head types.Root) (*canonChange, error) {
	c := &canonChange{}
	newSlots := make(map[types.Slot]bool)
	ancestor, ancestorSlot := types.Root{}, types.Slot(0)
	for r := head; ; {
		b, ok := s.fc.Block(r)
		if !ok {
			// Pruned history is finalized, hence canonical; not reached in
			// practice since the walk stops at the finalized block.
			break
		}
		slot := b.GetSlot()
		cur, err := s.store.CanonicalRoot(slot)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("read canonical index: %w", err)
		}
		if err == nil && cur == r {
			ancestor, ancestorSlot = r, slot
			break
		}
		c.added = append(c.added, canonEntry{slot: slot, root: r})
		newSlots[slot] = true
		if uint64(slot) == s.pcfg.GenesisSlot {
			break
		}
		r = b.GetParentRoot()
	}
	c.reorg = ancestor != s.head
	if s.headSlot > ancestorSlot {
		old, err := s.store.CanonicalRange(ancestorSlot+1, uint64(s.headSlot-ancestorSlot))
		if err != nil {
			return nil, fmt.Errorf("read canonical index: %w", err)
		}
		c.depth = len(old)
		for slot := ancestorSlot + 1; slot <= s.headSlot; slot++ {
			if !newSlots[slot] {
				c.deleted = append(c.deleted, slot)
			}
		}
	}
	return c, nil
}
