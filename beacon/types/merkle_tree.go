package types

import (
	"crypto/sha256"
	"slices"
)

// zeroHashes[d] is the root of a depth-d subtree of zero chunks.
var zeroHashes = func() [65]Root {
	var z [65]Root
	for d := 1; d < len(z); d++ {
		z[d] = hashPair(z[d-1], z[d-1])
	}
	return z
}()

func hashPair(a, b Root) Root {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return sha256.Sum256(buf[:])
}

// mixInLength is the spec's mix_in_length.
func mixInLength(root Root, n uint64) Root {
	var l Root
	for i := 0; i < 8; i++ {
		l[i] = byte(n >> (8 * i))
	}
	return hashPair(root, l)
}

// depthFor returns ceil(log2(chunks)), the depth of a tree padded to chunks leaves.
func depthFor(chunks uint64) int {
	d := 0
	for uint64(1)<<d < chunks {
		d++
	}
	return d
}

// merkleTree keeps every layer of a Merkle tree over n leaves that is padded
// with zero chunks to 2^depth leaves, so changing k leaves costs O(k log n)
// hashes. Only the layers over real leaves are stored; the padding is folded
// in with zeroHashes.
type merkleTree struct {
	depth  int
	layers [][]Root // layers[0] are the leaves; layers[h][i] = hash(layers[h-1][2i], layers[h-1][2i+1])
	dirty  []int    // leaf indices changed since the last root
	all    bool     // every node must be recomputed
}

func newMerkleTree(depth int) *merkleTree {
	return &merkleTree{depth: depth, layers: [][]Root{nil}, all: true}
}

func (t *merkleTree) copy() *merkleTree {
	c := &merkleTree{depth: t.depth, all: t.all, layers: make([][]Root, len(t.layers))}
	for i, l := range t.layers {
		c.layers[i] = slices.Clone(l)
	}
	c.dirty = slices.Clone(t.dirty)
	return c
}

func (t *merkleTree) len() int { return len(t.layers[0]) }

// leaf returns leaf i.
func (t *merkleTree) leaf(i int) Root { return t.layers[0][i] }

// resize sets the number of leaves; new leaves are zero and must be set.
func (t *merkleTree) resize(n int) {
	old := t.len()
	if n == old {
		return
	}
	// Shape the layers for n leaves.
	width := n
	h := 0
	for {
		if h == len(t.layers) {
			t.layers = append(t.layers, nil)
		}
		l := t.layers[h]
		if cap(l) >= width {
			l = l[:width]
		} else {
			l = append(l[:cap(l)], make([]Root, width-cap(l))...)
		}
		t.layers[h] = l
		if width <= 1 {
			break
		}
		width = (width + 1) / 2
		h++
	}
	t.layers = t.layers[:h+1]
	if n < old {
		// Nodes on the new right edge lost (part of) their right subtree.
		if n > 0 {
			t.dirty = append(t.dirty, n-1)
		}
		t.dirty = slices.DeleteFunc(t.dirty, func(i int) bool { return i >= n })
	} else {
		for i := old; i < n; i++ {
			t.layers[0][i] = Root{}
			t.dirty = append(t.dirty, i)
		}
	}
}

// set writes leaf i if it changed.
func (t *merkleTree) set(i int, r Root) {
	if t.layers[0][i] != r {
		t.layers[0][i] = r
		if !t.all {
			t.dirty = append(t.dirty, i)
		}
	}
}

// root recomputes what changed and returns the root of the padded tree.
func (t *merkleTree) root() Root {
	n := t.len()
	if n == 0 {
		t.dirty, t.all = t.dirty[:0], false
		return zeroHashes[t.depth]
	}
	if t.all {
		for h := 1; h < len(t.layers); h++ {
			below, l := t.layers[h-1], t.layers[h]
			for i := range l {
				l[i] = pairAt(below, 2*i, h-1)
			}
		}
	} else if len(t.dirty) > 0 {
		slices.Sort(t.dirty)
		idx := slices.Compact(t.dirty)
		for h := 1; h < len(t.layers); h++ {
			below, l := t.layers[h-1], t.layers[h]
			w := 0
			for _, i := range idx {
				p := i >> 1
				if w > 0 && idx[w-1] == p {
					continue
				}
				idx[w] = p
				w++
				l[p] = pairAt(below, 2*p, h-1)
			}
			idx = idx[:w]
		}
	}
	t.dirty, t.all = t.dirty[:0], false
	r := t.layers[len(t.layers)-1][0]
	for h := len(t.layers) - 1; h < t.depth; h++ {
		r = hashPair(r, zeroHashes[h])
	}
	return r
}

// pairAt hashes nodes i and i+1 of a layer at height h, padding with a zero subtree.
func pairAt(layer []Root, i, h int) Root {
	if i+1 < len(layer) {
		return hashPair(layer[i], layer[i+1])
	}
	return hashPair(layer[i], zeroHashes[h])
}

// merkleizeRoots is merkleize(chunks, limit) without a cache.
func merkleizeRoots(chunks []Root, limit uint64) Root {
	t := newMerkleTree(depthFor(limit))
	t.resize(len(chunks))
	copy(t.layers[0], chunks)
	return t.root()
}
