package hash

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// Generalized indices number the nodes of a binary Merkle tree: the root is 1
// and the children of node g are 2g and 2g+1, so a node at depth d has an
// index in [2^d, 2^(d+1)). They address any chunk of an SSZ object's tree
// (consensus-specs ssz/merkle-proofs.md).

// ErrMissingNode is wrapped when a partial tree lacks a node a computation
// needs (a witness that does not cover what it is used for).
var ErrMissingNode = errors.New("node not in the partial tree")

// GIndexConcat returns the generalized index of the node whose index within
// the subtree rooted at outer is inner: outer * 2^depth(inner) + inner - 2^depth(inner).
func GIndexConcat(outer, inner uint64) uint64 {
	d := bits.Len64(inner) - 1
	return outer<<d | (inner - 1<<d)
}

// GIndexAt returns the generalized index of the node at the given depth and
// position: 2^depth + index.
func GIndexAt(depth int, index uint64) uint64 { return 1<<depth | index }

// helperIndices returns the generalized indices of the sibling nodes a
// multiproof of leaves needs, in decreasing order: every sibling of a node on
// a leaf's path that is not itself on such a path.
func helperIndices(leaves []uint64) []uint64 {
	paths := make(map[uint64]bool)
	for _, g := range leaves {
		for x := g; x > 1; x >>= 1 {
			paths[x] = true
		}
	}
	paths[1] = true
	var out []uint64
	seen := make(map[uint64]bool)
	for x := range paths {
		if x > 1 && !paths[x^1] && !seen[x^1] {
			seen[x^1] = true
			out = append(out, x^1)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// PartialTree is the part of a Merkle tree a multiproof reveals: some leaves
// with their values, the sibling nodes that connect them to the root, and the
// nodes computed from those. Leaves can be changed and the root recomputed,
// which is how a block is re-executed against a state it only has a witness
// of.
type PartialTree struct {
	nodes  map[uint64][32]byte
	leaves []uint64 // the revealed leaves, sorted
	dirty  map[uint64]bool
}

// NewPartialTree reconstructs the tree of a multiproof: leaf values at the
// given generalized indices and the helpers in the order helperIndices
// gives. It fails if the indices are invalid or duplicated, a leaf is an
// ancestor of another, or the number of helpers is wrong.
func NewPartialTree(indices []uint64, leaves, helpers [][32]byte) (*PartialTree, error) {
	if len(indices) != len(leaves) {
		return nil, fmt.Errorf("multiproof: %d indices for %d leaves", len(indices), len(leaves))
	}
	p := &PartialTree{nodes: make(map[uint64][32]byte, 2*len(indices)+len(helpers)), dirty: make(map[uint64]bool)}
	for i, g := range indices {
		if g == 0 {
			return nil, fmt.Errorf("multiproof: generalized index 0")
		}
		if _, dup := p.nodes[g]; dup {
			return nil, fmt.Errorf("multiproof: leaf %d given twice", g)
		}
		p.nodes[g] = leaves[i]
	}
	p.leaves = slices.Clone(indices)
	slices.Sort(p.leaves)
	for _, g := range p.leaves {
		for x := g >> 1; x >= 1; x >>= 1 {
			if _, isLeaf := slices.BinarySearch(p.leaves, x); isLeaf {
				return nil, fmt.Errorf("multiproof: leaf %d is an ancestor of leaf %d", x, g)
			}
		}
	}
	hs := helperIndices(indices)
	if len(hs) != len(helpers) {
		return nil, fmt.Errorf("multiproof: %d helpers given, %d needed", len(helpers), len(hs))
	}
	for i, g := range hs {
		p.nodes[g] = helpers[i]
	}
	if err := p.compute(p.leaves); err != nil {
		return nil, err
	}
	return p, nil
}

// compute recomputes, level by level from the bottom, every ancestor of the
// given leaves; their siblings must be known (leaves, helpers or nodes
// computed on the way). Processing a whole level before the next means a
// node shared by several changed paths is hashed once, from fresh children.
func (p *PartialTree) compute(from []uint64) error {
	byDepth := make(map[int][]uint64)
	maxDepth := 0
	for _, g := range from {
		d := bits.Len64(g) - 1
		byDepth[d] = append(byDepth[d], g)
		maxDepth = max(maxDepth, d)
	}
	for d := maxDepth; d >= 1; d-- {
		level := byDepth[d]
		slices.Sort(level)
		level = slices.Compact(level)
		for _, g := range level {
			parent := g >> 1
			if n := len(byDepth[d-1]); n > 0 && byDepth[d-1][n-1] == parent {
				continue // computed from the sibling just before
			}
			left, lok := p.nodes[g&^1]
			right, rok := p.nodes[g|1]
			if !lok || !rok {
				return fmt.Errorf("multiproof: %w: sibling of node %d", ErrMissingNode, g)
			}
			p.nodes[parent] = Hash64(left, right)
			byDepth[d-1] = append(byDepth[d-1], parent)
		}
	}
	if _, ok := p.nodes[1]; !ok {
		return fmt.Errorf("multiproof: %w: the root", ErrMissingNode)
	}
	return nil
}

// Root returns the root the partial tree hashes to, after any changes.
func (p *PartialTree) Root() ([32]byte, error) {
	if len(p.dirty) > 0 {
		changed := make([]uint64, 0, len(p.dirty))
		for g := range p.dirty {
			changed = append(changed, g)
		}
		if err := p.compute(changed); err != nil {
			return [32]byte{}, err
		}
		clear(p.dirty)
	}
	return p.nodes[1], nil
}

// Leaf returns the value of a revealed leaf, or an error wrapping
// ErrMissingNode.
func (p *PartialTree) Leaf(g uint64) ([32]byte, error) {
	if _, ok := slices.BinarySearch(p.leaves, g); !ok {
		return [32]byte{}, fmt.Errorf("read chunk %d: %w", g, ErrMissingNode)
	}
	return p.nodes[g], nil
}

// SetLeaf changes a revealed leaf.
func (p *PartialTree) SetLeaf(g uint64, v [32]byte) error {
	if _, ok := slices.BinarySearch(p.leaves, g); !ok {
		return fmt.Errorf("write chunk %d: %w", g, ErrMissingNode)
	}
	if p.nodes[g] != v {
		p.nodes[g] = v
		p.dirty[g] = true
	}
	return nil
}

// Has reports whether leaf g is revealed.
func (p *PartialTree) Has(g uint64) bool {
	_, ok := slices.BinarySearch(p.leaves, g)
	return ok
}

// Leaves returns the revealed leaves' indices, sorted.
func (p *PartialTree) Leaves() []uint64 { return slices.Clone(p.leaves) }

// BuildMultiproof builds the multiproof of the given leaves from a full tree
// given as a node accessor: it returns the leaves' values (in the order of
// indices, which it sorts and deduplicates) and the helpers in the order
// NewPartialTree expects.
func BuildMultiproof(node func(g uint64) ([32]byte, error), indices []uint64) (sorted []uint64, leaves, helpers [][32]byte, err error) {
	sorted = slices.Clone(indices)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	leaves = make([][32]byte, len(sorted))
	for i, g := range sorted {
		if leaves[i], err = node(g); err != nil {
			return nil, nil, nil, fmt.Errorf("multiproof leaf %d: %w", g, err)
		}
	}
	hs := helperIndices(sorted)
	helpers = make([][32]byte, len(hs))
	for i, g := range hs {
		if helpers[i], err = node(g); err != nil {
			return nil, nil, nil, fmt.Errorf("multiproof helper %d: %w", g, err)
		}
	}
	return sorted, leaves, helpers, nil
}

// TreeNode returns the node of t at generalized index g, relative to t's root
// (g = 1 is the root, g in [2^depth, 2^(depth+1)) the leaves).
func (t *Tree) TreeNode(g uint64) ([32]byte, error) {
	if g == 0 {
		return [32]byte{}, fmt.Errorf("tree node 0: %w", ErrIndex)
	}
	d := bits.Len64(g) - 1
	if d > t.depth {
		return [32]byte{}, fmt.Errorf("tree node %d below the leaves: %w", g, ErrIndex)
	}
	return t.Node(t.depth-d, int(g-1<<d))
}
