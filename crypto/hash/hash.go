package hash

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// MaxDepth is the deepest tree supported: 2^64 leaves.
const MaxDepth = 64

// zeroHashes[d] is the root of a tree of depth d whose leaves are all
// zero chunks. Written once by init.
var zeroHashes [MaxDepth + 1][32]byte

func init() {
	for d := 1; d <= MaxDepth; d++ {
		zeroHashes[d] = Hash64(zeroHashes[d-1], zeroHashes[d-1])
	}
}

// Hash returns SHA-256(data).
func Hash(data []byte) [32]byte {
	return sha256.Sum256(data)
}

// Hash64 returns SHA-256(a || b) without allocating.
func Hash64(a, b [32]byte) [32]byte {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return sha256.Sum256(buf[:])
}

// ZeroHash returns the root of a tree of the given depth with all-zero
// leaves; ZeroHash(0) is the zero chunk. It panics unless
// 0 <= depth <= MaxDepth, like an out-of-range index.
func ZeroHash(depth int) [32]byte {
	return zeroHashes[depth]
}

// ZeroHashes returns a copy of ZeroHash(0) ... ZeroHash(MaxDepth).
func ZeroHashes() [MaxDepth + 1][32]byte {
	return zeroHashes
}

// Depth returns the depth of the smallest tree with at least limit leaves:
// ceil(log2(limit)), and 0 for limit <= 1.
func Depth(limit uint64) int {
	if limit <= 1 {
		return 0
	}
	return bits.Len64(limit - 1)
}

// MixInLength returns SHA-256(root || length as 32-byte little-endian),
// the root of an SSZ list.
func MixInLength(root [32]byte, length uint64) [32]byte {
	var l [32]byte
	binary.LittleEndian.PutUint64(l[:8], length)
	return Hash64(root, l)
}
