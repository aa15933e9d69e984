package netsim

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
)

// Read-only views of a node's chain for scenario checks and exports.

// GenesisState is the run's genesis state (not to be modified).
func (s *Sim) GenesisState() *types.BeaconState { return s.genesisState }

// CanonicalChain is node i's chain from the first block after genesis to
// its head, oldest first.
func (s *Sim) CanonicalChain(i int) ([]types.AnyBlock, error) {
	n, err := s.node(i)
	if err != nil {
		return nil, err
	}
	var out []types.AnyBlock
	root, _ := n.chain.Head()
	for root != n.chain.GenesisRoot() {
		b, ok := n.chain.Block(root)
		if !ok {
			return nil, fmt.Errorf("canonical chain of node %d: block %x missing", i, root[:4])
		}
		out = append(out, b)
		root = b.GetParentRoot()
	}
	for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
		out[l], out[r] = out[r], out[l]
	}
	return out, nil
}

// ReorgDepth is how many slots of node i's chain ending at old a switch to
// head new undoes: old's slot minus the slot of the last block the two
// chains share (0 when new descends from old).
func (s *Sim) ReorgDepth(i int, old, new types.Root) (uint64, error) {
	n, err := s.node(i)
	if err != nil {
		return 0, err
	}
	slotOf := func(r types.Root) (types.Slot, types.Root, bool) {
		if r == n.chain.GenesisRoot() {
			return 0, r, true
		}
		b, ok := n.chain.Block(r)
		if !ok {
			return 0, r, false
		}
		return b.GetSlot(), b.GetParentRoot(), true
	}
	oldSlot, _, ok := slotOf(old)
	if !ok {
		return 0, fmt.Errorf("reorg depth on node %d: block %x missing", i, old[:4])
	}
	a, b := old, new
	for a != b {
		sa, pa, okA := slotOf(a)
		sb, pb, okB := slotOf(b)
		if !okA || !okB {
			return 0, fmt.Errorf("reorg depth on node %d: ancestry incomplete", i)
		}
		if sa >= sb {
			a = pa
		} else {
			b = pb
		}
	}
	common, _, _ := slotOf(a)
	return uint64(oldSlot - common), nil
}
