package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// Resolution of block and state ids against the Backend.
//
//	block_id    block
//	head        the fork choice head
//	genesis     the genesis block
//	finalized   the block of the fork choice's finalized checkpoint
//	justified   the block of the fork choice's justified checkpoint
//	<slot>      the canonical block at exactly that slot (404 for an empty slot)
//	0x<root>    the block with that root, canonical or not
//
//	state_id    state
//	head        the post-state of the head block
//	genesis     the genesis state
//	finalized   the finalized checkpoint state: the post-state of the
//	justified   checkpoint's block, advanced through empty slots to the
//	            first slot of the checkpoint's epoch
//	<slot>      the canonical state at that slot: the post-state of the last
//	            canonical block at or before it, advanced to it (404 after
//	            the head slot)
//	0x<root>    a block root (that block's post-state) or a state root
//	            (through StateRootIndex, else among the canonical states of
//	            the last SLOTS_PER_HISTORICAL_ROOT slots)

// resolvedBlock is a block found by a block id.
type resolvedBlock struct {
	block     types.AnyBlock
	root      types.Root
	canonical bool
}

// resolvedState is a state found by a state id, with its root and the root
// of the latest block it includes.
type resolvedState struct {
	st        *types.BeaconState
	root      types.Root
	blockRoot types.Root
}

// genesisRoot returns the genesis block root, or a 503 before genesis.
func (s *Server) genesisRoot() (types.Root, error) {
	root, err := s.be.GenesisRoot()
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
			return types.Root{}, Errorf(http.StatusServiceUnavailable, "the node has no genesis state yet")
		}
		return types.Root{}, fmt.Errorf("look up genesis: %w", err)
	}
	return root, nil
}

// checkpoints returns the fork choice's justified and finalized checkpoints,
// zero roots read as the genesis root.
func (s *Server) checkpoints(genesisRoot types.Root) (justified, finalized types.Checkpoint) {
	justified, finalized = s.be.Finality()
	if justified.Root.IsZero() {
		justified.Root = genesisRoot
	}
	if finalized.Root.IsZero() {
		finalized.Root = genesisRoot
	}
	return justified, finalized
}

// blockRoot resolves a block id to a block root.
func (s *Server) blockRoot(id BlockID) (types.Root, error) {
	genesisRoot, err := s.genesisRoot()
	if err != nil {
		return types.Root{}, err
	}
	switch id.Kind {
	case IDHead:
		root, _ := s.be.Head()
		return root, nil
	case IDGenesis:
		return genesisRoot, nil
	case IDFinalized:
		_, fin := s.checkpoints(genesisRoot)
		return fin.Root, nil
	case IDJustified:
		just, _ := s.checkpoints(genesisRoot)
		return just.Root, nil
	case IDSlot:
		root, err := s.be.CanonicalRoot(id.Slot)
		if errors.Is(err, ErrNotFound) {
			return types.Root{}, Errorf(http.StatusNotFound, "no canonical block at slot %d", id.Slot)
		}
		if err != nil {
			return types.Root{}, fmt.Errorf("look up the canonical block at slot %d: %w", id.Slot, err)
		}
		return root, nil
	}
	return id.Root, nil
}

// resolveBlock finds the block a block id names.
func (s *Server) resolveBlock(id BlockID) (*resolvedBlock, error) {
	root, err := s.blockRoot(id)
	if err != nil {
		return nil, err
	}
	return s.blockByRoot(root)
}

func (s *Server) blockByRoot(root types.Root) (*resolvedBlock, error) {
	blk, err := s.be.Block(root)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(http.StatusNotFound, "block %s not found", root)
	}
	if err != nil {
		return nil, fmt.Errorf("look up block %s: %w", root, err)
	}
	if blk == nil {
		return nil, Errorf(http.StatusNotFound, "block %s not found", root)
	}
	canon, err := s.be.CanonicalRoot(blk.GetSlot())
	return &resolvedBlock{block: blk, root: root, canonical: err == nil && canon == root}, nil
}

// resolveState finds the state a state id names.
func (s *Server) resolveState(id StateID) (*resolvedState, error) {
	genesisRoot, err := s.genesisRoot()
	if err != nil {
		return nil, err
	}
	cfg := s.be.Config()
	switch id.Kind {
	case IDHead:
		root, _ := s.be.Head()
		return s.blockState(root, 0)
	case IDGenesis:
		return s.blockState(genesisRoot, 0)
	case IDFinalized, IDJustified:
		just, fin := s.checkpoints(genesisRoot)
		cp := fin
		if id.Kind == IDJustified {
			cp = just
		}
		return s.blockState(cp.Root, core.ComputeStartSlotOfEpoch(cfg, cp.Epoch))
	case IDSlot:
		return s.stateAtSlot(id.Slot)
	}
	// A block root first, then a state root.
	if _, err := s.be.Block(id.Root); err == nil {
		return s.blockState(id.Root, 0)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("look up block %s: %w", id.Root, err)
	}
	return s.stateByStateRoot(id.Root)
}

// blockState returns the post-state of a block, advanced through empty
// slots to slot when slot is past the block.
func (s *Server) blockState(blockRoot types.Root, slot types.Slot) (*resolvedState, error) {
	rb, err := s.blockByRoot(blockRoot)
	if err != nil {
		return nil, err
	}
	st, err := s.be.State(blockRoot)
	if errors.Is(err, ErrNotFound) || (err == nil && st == nil) {
		return nil, Errorf(http.StatusNotFound, "the state of block %s is not available", blockRoot)
	}
	if err != nil {
		return nil, fmt.Errorf("look up the state of block %s: %w", blockRoot, err)
	}
	if slot <= st.Slot && st.Slot == rb.block.GetSlot() {
		return &resolvedState{st: st, root: rb.block.GetStateRoot(), blockRoot: blockRoot}, nil
	}
	// Advance a copy: the backend's state is shared and must stay as it is.
	cp := st.Copy()
	if slot > cp.Slot {
		if err := s.be.Transition().ProcessSlots(cp, slot); err != nil {
			return nil, fmt.Errorf("process slots %d to %d after block %s: %w", st.Slot, slot, blockRoot, err)
		}
	}
	root, err := cp.HashTreeRoot()
	if err != nil {
		return nil, fmt.Errorf("hash the state at slot %d: %w", cp.Slot, err)
	}
	return &resolvedState{st: cp, root: root, blockRoot: blockRoot}, nil
}

// stateAtSlot returns the canonical state at slot (at most the head slot).
func (s *Server) stateAtSlot(slot types.Slot) (*resolvedState, error) {
	_, headSlot := s.be.Head()
	if slot > headSlot {
		return nil, Errorf(http.StatusNotFound, "slot %d is after the head slot %d", slot, headSlot)
	}
	cfg := s.be.Config()
	for back := uint64(0); back <= cfg.SlotsPerHistoricalRoot && back <= uint64(slot); back++ {
		root, err := s.be.CanonicalRoot(slot - types.Slot(back))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("look up the canonical block at slot %d: %w", slot-types.Slot(back), err)
		}
		return s.blockState(root, slot)
	}
	return nil, Errorf(http.StatusNotFound, "no canonical block at or within %d slots before slot %d", cfg.SlotsPerHistoricalRoot, slot)
}

// stateByStateRoot finds a state by its root.
func (s *Server) stateByStateRoot(root types.Root) (*resolvedState, error) {
	if idx, ok := s.be.(StateRootIndex); ok {
		blockRoot, err := idx.BlockRootOfState(root)
		switch {
		case err == nil:
			return s.blockState(blockRoot, 0)
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("look up state root %s: %w", root, err)
		}
	}
	notFound := Errorf(http.StatusNotFound, "no block or state with root %s", root)
	headRoot, _ := s.be.Head()
	head, err := s.blockState(headRoot, 0)
	if err != nil {
		if StatusOf(err) == http.StatusNotFound {
			return nil, notFound
		}
		return nil, err
	}
	if head.root == root {
		return head, nil
	}
	// state_roots[slot % SLOTS_PER_HISTORICAL_ROOT] is the root of the
	// canonical state at slot, for the slots before the head state's.
	sphr := uint64(len(head.st.StateRoots))
	for back := uint64(1); back <= sphr && back <= uint64(head.st.Slot); back++ {
		slot := head.st.Slot - types.Slot(back)
		if head.st.StateRoots[uint64(slot)%sphr] == root {
			return s.stateAtSlot(slot)
		}
	}
	return nil, notFound
}
