package hash

import "fmt"

// Merkleize returns the SSZ merkle root of chunks padded with zero chunks
// to next_pow_of_two(limit) leaves. The padding is never materialised:
// missing subtrees are taken from ZeroHash, so the cost is O(len(chunks) +
// log2(limit)) hashes. limit 0 (and limit 1 without chunks) gives the zero
// chunk. More chunks than limit is an error. chunks is not modified.
func Merkleize(chunks [][32]byte, limit uint64) ([32]byte, error) {
	if uint64(len(chunks)) > limit {
		return [32]byte{}, fmt.Errorf("merkleize %d chunks: %w %d", len(chunks), ErrTooManyChunks, limit)
	}
	depth := Depth(limit)
	n := len(chunks)
	if n == 0 {
		return zeroHashes[depth], nil
	}
	if depth == 0 {
		return chunks[0], nil
	}
	// Level 0 is read from chunks; every later level is computed in place
	// in buf (node i of a level only reads nodes 2i and 2i+1 of the one
	// below, which are never behind i).
	buf := make([][32]byte, (n+1)/2)
	cur := chunks
	for d := 0; d < depth; d++ {
		m := (n + 1) / 2
		for i := 0; i < m; i++ {
			right := zeroHashes[d]
			if 2*i+1 < n {
				right = cur[2*i+1]
			}
			buf[i] = Hash64(cur[2*i], right)
		}
		cur, n = buf[:m], m
	}
	return cur[0], nil
}

// IsValidMerkleBranch is the spec's is_valid_merkle_branch: it reports
// whether leaf sits at index in a tree of the given depth with the given
// root, branch[i] being the sibling at height i. A branch shorter than
// depth is invalid; entries past depth are ignored.
func IsValidMerkleBranch(leaf [32]byte, branch [][32]byte, depth uint64, index uint64, root [32]byte) bool {
	if uint64(len(branch)) < depth {
		return false
	}
	value := leaf
	for i := uint64(0); i < depth; i++ {
		if i < 64 && (index>>i)&1 == 1 {
			value = Hash64(branch[i], value)
		} else {
			value = Hash64(value, branch[i])
		}
	}
	return value == root
}

// ProofOf returns the Merkle branch (siblings from the leaves up, depth
// entries) of leaf index in the tree of chunks padded with zero chunks to
// 2^depth leaves. Indices past len(chunks) are allowed (their leaf is the
// zero chunk) up to 2^depth-1. It costs O(len(chunks)) hashes; keep a Tree
// to prove many leaves of the same chunks.
func ProofOf(chunks [][32]byte, depth int, index int) ([][32]byte, error) {
	t, err := NewTree(chunks, depth)
	if err != nil {
		return nil, fmt.Errorf("prove leaf %d: %w", index, err)
	}
	return t.Proof(index)
}
