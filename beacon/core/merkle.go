package core

import (
	"encoding/binary"

	"github.com/shardlab/shardlab/beacon/types"
)

// zeroHashes[d] is the root of a depth-d tree of zero chunks.
var zeroHashes = func() [65]types.Root {
	var z [65]types.Root
	for d := 1; d < len(z); d++ {
		z[d] = hashPair(z[d-1], z[d-1])
	}
	return z
}()

func hashPair(a, b types.Root) types.Root {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return hash(buf[:])
}

// merkleize is the SSZ merkleize(chunks, limit): the root of the chunks padded
// with zero chunks to next_pow_of_two(limit) leaves (limit >= len(chunks)).
func merkleize(chunks []types.Root, limit uint64) types.Root {
	depth := 0
	for uint64(1)<<depth < limit {
		depth++
	}
	if len(chunks) == 0 {
		return zeroHashes[depth]
	}
	layer := append([]types.Root(nil), chunks...)
	for h := 0; h < depth; h++ {
		next := layer[:(len(layer)+1)/2]
		for i := range next {
			if 2*i+1 < len(layer) {
				next[i] = hashPair(layer[2*i], layer[2*i+1])
			} else {
				next[i] = hashPair(layer[2*i], zeroHashes[h])
			}
		}
		layer = next
	}
	return layer[0]
}

// mixInLength is the SSZ mix_in_length.
func mixInLength(root types.Root, n uint64) types.Root {
	var l types.Root
	binary.LittleEndian.PutUint64(l[:], n)
	return hashPair(root, l)
}
