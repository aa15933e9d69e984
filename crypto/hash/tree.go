package hash

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Tree is a binary Merkle tree of fixed depth over a growing prefix of
// leaves; the leaves past Len are zero chunks. It keeps every interior node
// of the filled part (about 2*Len nodes plus one per level).
//
// Changes are lazy: Set, Append and Truncate only record which leaves
// changed, and the next Root, Node or Proof rehashes the changed paths once,
// so changing k leaves costs O(k log Len) hashes however they were made.
//
// A Tree is not safe for concurrent use (even Root may write); use Copy to
// hand a snapshot to another goroutine.
type Tree struct {
	depth int
	// layers[h] holds the nodes at height h (0 = leaves) covering the
	// filled prefix: len(layers[h]) == ceil(Len / 2^h).
	layers [][][32]byte
	dirty  []int // leaf indices whose paths are stale
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
	t.reshape()
	for h := 1; h <= depth; h++ {
		for i := range t.layers[h] {
			t.layers[h][i] = t.node(h, i)
		}
	}
	return t, nil
}

// reshape sizes the interior layers for the current number of leaves.
func (t *Tree) reshape() {
	width := len(t.layers[0])
	for h := 1; h <= t.depth; h++ {
		width = (width + 1) / 2
		l := t.layers[h]
		if cap(l) < width {
			l = slices.Grow(l, width-len(l)) // amortised, as append grows
		}
		t.layers[h] = l[:width]
	}
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

// flush rehashes the paths of the changed leaves, each shared node once.
func (t *Tree) flush() {
	if len(t.dirty) == 0 {
		return
	}
	idx := t.dirty
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for h := 1; h <= t.depth; h++ {
		w := 0
		for _, i := range idx {
			p := i >> 1
			if w > 0 && idx[w-1] == p {
				continue
			}
			idx[w] = p
			w++
			if p < len(t.layers[h]) {
				t.layers[h][p] = t.node(h, p)
			}
		}
		idx = idx[:w]
	}
	t.dirty = t.dirty[:0]
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
	t.flush()
	return t.layers[t.depth][0]
}

// Leaf returns leaf i, i < Len.
func (t *Tree) Leaf(i int) ([32]byte, error) {
	if i < 0 || i >= t.Len() {
		return [32]byte{}, fmt.Errorf("read leaf %d of %d: %w", i, t.Len(), ErrIndex)
	}
	return t.layers[0][i], nil
}

// Node returns the node at height h (0 = leaves, Depth = root) and index i,
// including the zero subtrees past the filled prefix.
func (t *Tree) Node(h, i int) ([32]byte, error) {
	if h < 0 || h > t.depth || i < 0 || (t.depth-h < 63 && uint64(i) >= uint64(1)<<(t.depth-h)) {
		return [32]byte{}, fmt.Errorf("read node %d at height %d: %w", i, h, ErrIndex)
	}
	t.flush()
	if i < len(t.layers[h]) {
		return t.layers[h][i], nil
	}
	return zeroHashes[h], nil
}

// Set replaces leaf i (i < Len).
func (t *Tree) Set(i int, leaf [32]byte) error {
	if i < 0 || i >= t.Len() {
		return fmt.Errorf("set leaf %d of %d: %w", i, t.Len(), ErrIndex)
	}
	if t.layers[0][i] != leaf {
		t.layers[0][i] = leaf
		t.dirty = append(t.dirty, i)
	}
	return nil
}

// Append adds a leaf at index Len. It fails once 2^depth leaves are held.
func (t *Tree) Append(leaf [32]byte) error {
	n := t.Len()
	if t.depth < 64 && uint64(n) >= uint64(1)<<t.depth {
		return fmt.Errorf("append leaf %d: %w", n, ErrTreeFull)
	}
	t.layers[0] = append(t.layers[0], leaf)
	t.reshape()
	t.dirty = append(t.dirty, n)
	return nil
}

// Resize sets the number of leaves to n: new leaves are zero chunks, and
// shrinking drops leaves as Truncate does.
func (t *Tree) Resize(n int) error {
	if n <= t.Len() {
		return t.Truncate(n)
	}
	if t.depth < 64 && uint64(n) > uint64(1)<<t.depth {
		return fmt.Errorf("resize to %d leaves: %w", n, ErrTreeFull)
	}
	old := t.Len()
	t.layers[0] = slices.Grow(t.layers[0], n-old)[:n]
	clear(t.layers[0][old:])
	t.reshape()
	for i := old; i < n; i++ {
		t.dirty = append(t.dirty, i)
	}
	return nil
}

// Truncate drops the leaves from n on (n <= Len).
func (t *Tree) Truncate(n int) error {
	if n < 0 || n > t.Len() {
		return fmt.Errorf("truncate to %d of %d leaves: %w", n, t.Len(), ErrIndex)
	}
	if n == t.Len() {
		return nil
	}
	t.layers[0] = t.layers[0][:n]
	t.reshape()
	t.dirty = slices.DeleteFunc(t.dirty, func(i int) bool { return i >= n })
	if n > 0 {
		// The nodes on the new right edge lost part of their subtree.
		t.dirty = append(t.dirty, n-1)
	}
	return nil
}

// Proof returns the branch of leaf i: depth siblings from the leaves up,
// as IsValidMerkleBranch expects. Any i below 2^depth may be proved,
// including indices past Len, whose leaves are zero chunks.
func (t *Tree) Proof(i int) ([][32]byte, error) {
	if i < 0 || (t.depth < 63 && i >= 1<<t.depth) {
		return nil, fmt.Errorf("prove leaf %d: %w", i, ErrIndex)
	}
	t.flush()
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

// ListProofs returns the branch of every leaf of t read as an SSZ list of
// its Len leaves, that is in MixInLength(t.Root(), t.Len()): the depth
// siblings from the leaves up, then the length chunk. R is any 32-byte
// root type.
func ListProofs[R ~[32]byte](t *Tree) ([][]R, error) {
	var length R
	binary.LittleEndian.PutUint64(length[:], uint64(t.Len()))
	out := make([][]R, t.Len())
	for i := range out {
		p, err := t.Proof(i)
		if err != nil {
			return nil, err
		}
		b := make([]R, len(p)+1)
		for j, r := range p {
			b[j] = R(r)
		}
		b[len(p)] = length
		out[i] = b
	}
	return out, nil
}

// Copy returns an independent copy of t.
func (t *Tree) Copy() *Tree {
	c := &Tree{depth: t.depth, layers: make([][][32]byte, len(t.layers)), dirty: slices.Clone(t.dirty)}
	for h, layer := range t.layers {
		c.layers[h] = append(make([][32]byte, 0, cap(layer)), layer...)
	}
	return c
}
