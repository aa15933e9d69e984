package hash

import "fmt"

// Tree is a binary Merkle tree of fixed depth over a growing prefix of
// leaves; the leaves past Len are zero chunks. It keeps every interior
// node of the filled part (about 2*Len nodes plus one per level), so that
// Set, Append and Proof cost O(depth) and Root O(1).
//
// A Tree is not safe for concurrent modification; use Copy to hand a
// snapshot to another goroutine.
type Tree struct {
	depth int
	// layers[h] holds the nodes at height h (0 = leaves) covering the
	// filled prefix: len(layers[h]) == ceil(Len / 2^h).
	layers [][][32]byte
}

// NewTree builds the tree of the given depth (0 to MaxDepth) over a copy
// of leaves. It fails if there are more than 2^depth leaves.
func NewTree(leaves [][32]byte, depth int) (*Tree, error) {
	if depth < 0 || depth > MaxDepth {
		return nil, fmt.Errorf("new tree of depth %d: %w", depth, ErrDepth)
	}
	if depth < 64 && uint64(len(leaves)) > uint64(1)<<depth {
		return nil, fmt.Errorf("new tree of %d leaves: %w 2^%d", len(leaves), ErrTooManyChunks, depth)
	}
	t := &Tree{depth: depth, layers: make([][][32]byte, depth+1)}
	t.layers[0] = append(make([][32]byte, 0, len(leaves)), leaves...)
	for h := 1; h <= depth; h++ {
		below := t.layers[h-1]
		layer := make([][32]byte, (len(below)+1)/2)
		for i := range layer {
			layer[i] = t.node(h, i)
		}
		t.layers[h] = layer
	}
	return t, nil
}

// node computes the node at height h >= 1, index i, from its children.
func (t *Tree) node(h, i int) [32]byte {
	below := t.layers[h-1]
	right := zeroHashes[h-1]
	if 2*i+1 < len(below) {
		right = below[2*i+1]
	}
	return Hash64(below[2*i], right)
}

// Depth returns the depth the tree was built with.
func (t *Tree) Depth() int { return t.depth }

// Len returns the number of leaves set or appended.
func (t *Tree) Len() int { return len(t.layers[0]) }

// Root returns the root of the tree, padding included.
func (t *Tree) Root() [32]byte {
	if t.Len() == 0 {
		return zeroHashes[t.depth]
	}
	return t.layers[t.depth][0]
}

// Leaf returns leaf i, i < Len.
func (t *Tree) Leaf(i int) ([32]byte, error) {
	if i < 0 || i >= t.Len() {
		return [32]byte{}, fmt.Errorf("read leaf %d of %d: %w", i, t.Len(), ErrIndex)
	}
	return t.layers[0][i], nil
}

// Set replaces leaf i (i < Len) and updates its path to the root.
func (t *Tree) Set(i int, leaf [32]byte) error {
	if i < 0 || i >= t.Len() {
		return fmt.Errorf("set leaf %d of %d: %w", i, t.Len(), ErrIndex)
	}
	t.layers[0][i] = leaf
	t.updatePath(i)
	return nil
}

// Append adds a leaf at index Len. It fails once 2^depth leaves are held.
func (t *Tree) Append(leaf [32]byte) error {
	n := t.Len()
	if t.depth < 64 && uint64(n) >= uint64(1)<<t.depth {
		return fmt.Errorf("append leaf %d: %w", n, ErrTreeFull)
	}
	t.layers[0] = append(t.layers[0], leaf)
	for h := 1; h <= t.depth; h++ {
		if n>>h == len(t.layers[h]) {
			t.layers[h] = append(t.layers[h], [32]byte{})
		}
	}
	t.updatePath(n)
	return nil
}

func (t *Tree) updatePath(i int) {
	for h := 1; h <= t.depth; h++ {
		j := i >> h
		t.layers[h][j] = t.node(h, j)
	}
}

// Proof returns the branch of leaf i: depth siblings from the leaves up,
// as IsValidMerkleBranch expects. Any i below 2^depth may be proved,
// including indices past Len, whose leaves are zero chunks.
func (t *Tree) Proof(i int) ([][32]byte, error) {
	if i < 0 || (t.depth < 63 && i >= 1<<t.depth) {
		return nil, fmt.Errorf("prove leaf %d: %w", i, ErrIndex)
	}
	proof := make([][32]byte, t.depth)
	for h := 0; h < t.depth; h++ {
		sib := (i >> h) ^ 1
		if sib < len(t.layers[h]) {
			proof[h] = t.layers[h][sib]
		} else {
			proof[h] = zeroHashes[h]
		}
	}
	return proof, nil
}

// Copy returns an independent copy of t.
func (t *Tree) Copy() *Tree {
	c := &Tree{depth: t.depth, layers: make([][][32]byte, len(t.layers))}
	for h, layer := range t.layers {
		c.layers[h] = append(make([][32]byte, 0, cap(layer)), layer...)
	}
	return c
}
