package types

import (
	"crypto/sha256"
	"fmt"

	"github.com/shardlab/shardlab/crypto/hash"
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

// merkleizeRoots is merkleize(chunks, limit) without a cache.
func merkleizeRoots(chunks []Root, limit uint64) Root {
	leaves := make([][32]byte, len(chunks))
	for i := range chunks {
		leaves[i] = chunks[i]
	}
	t, err := hash.NewTree(leaves, depthFor(limit))
	if err != nil {
		panic(fmt.Sprintf("types: merkleize %d chunks with limit %d: %v", len(chunks), limit, err))
	}
	return t.Root()
}
