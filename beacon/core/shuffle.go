package core

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
)

// ComputeShuffledIndex is compute_shuffled_index: where position index of a
// list of indexCount elements maps to under the swap-or-not shuffle of seed.
//
//	for current_round in range(SHUFFLE_ROUND_COUNT):
//	    pivot = bytes_to_int(hash(seed + int_to_bytes(current_round, length=1))[0:8]) % index_count
//	    flip = (pivot + index_count - index) % index_count
//	    position = max(index, flip)
//	    source = hash(seed + int_to_bytes(current_round, length=1) + int_to_bytes(position // 256, length=4))
//	    byte = source[(position % 256) // 8]
//	    bit = (byte >> (position % 8)) % 2
//	    index = flip if bit else index
func ComputeShuffledIndex(index, indexCount uint64, seed types.Root, rounds uint64) (uint64, error) {
	if index >= indexCount {
		return 0, fmt.Errorf("%w: shuffle index %d out of range %d", ErrInvalidState, index, indexCount)
	}
	var buf [32 + 1 + 4]byte
	copy(buf[:32], seed[:])
	for r := uint64(0); r < rounds; r++ {
		buf[32] = byte(r)
		h := sha256.Sum256(buf[:33])
		pivot := binary.LittleEndian.Uint64(h[:8]) % indexCount
		flip := (pivot + indexCount - index) % indexCount
		position := max(index, flip)
		binary.LittleEndian.PutUint32(buf[33:], uint32(position>>8))
		source := sha256.Sum256(buf[:])
		if (source[(position&0xff)>>3]>>(position&7))&1 == 1 {
			index = flip
		}
	}
	return index, nil
}

// ShufflePositions returns perm with perm[i] = ComputeShuffledIndex(i, n, seed)
// for every i < n, computed for the whole list at once: each round touches every
// pair (i, flip(i)) once and hashes each 256-position block once, instead of two
// hashes per index per round.
func ShufflePositions(n uint32, seed types.Root, rounds uint64) []uint32 {
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	shuffleInPlace(perm, seed, rounds)
	return perm
}

// shuffleInPlace permutes xs so that afterwards xs[i] holds the element that
// was at ComputeShuffledIndex(i) before. Every round is an involution on
// positions; applying the array swaps of rounds R-1 down to 0 composes them in
// the order compute_shuffled_index applies them to a single index.
func shuffleInPlace(xs []uint32, seed types.Root, rounds uint64) {
	n := uint64(len(xs))
	if n < 2 || rounds == 0 {
		return
	}
	var buf [32 + 1 + 4]byte
	copy(buf[:32], seed[:])
	for r := int(rounds) - 1; r >= 0; r-- {
		buf[32] = byte(r)
		h := sha256.Sum256(buf[:33])
		pivot := binary.LittleEndian.Uint64(h[:8]) % n
		// Pairs (i, pivot-i) for i <= pivot/2, with the bit taken at the larger
		// position pivot-i; and pairs (i, pivot+n-i) for pivot < i <= (pivot+n)/2,
		// with the bit at pivot+n-i.
		swapRange(xs, &buf, 0, pivot/2, pivot)
		if pivot+1 < n {
			swapRange(xs, &buf, pivot+1, (pivot+n)/2, pivot+n)
		}
	}
}

// swapRange swaps xs[i] and xs[mirror-i] for i in [lo, hi] when the source bit
// of position mirror-i is set. Positions j = mirror-i run downwards, so the
// source hash of a 256-position block is computed once for the whole block.
func swapRange(xs []uint32, buf *[37]byte, lo, hi, mirror uint64) {
	if lo > hi {
		return
	}
	j := mirror - lo
	block := j >> 8
	binary.LittleEndian.PutUint32(buf[33:], uint32(block))
	source := sha256.Sum256(buf[:])
	for i := lo; i <= hi; i++ {
		j = mirror - i
		if b := j >> 8; b != block {
			block = b
			binary.LittleEndian.PutUint32(buf[33:], uint32(block))
			source = sha256.Sum256(buf[:])
		}
		bit := uint32(source[(j&0xff)>>3]>>(j&7)) & 1
		a, c := xs[i], xs[j]
		m := -bit // all ones when the bit is set
		x := (a ^ c) & m
		xs[i] = a ^ x
		xs[j] = c ^ x
	}
}

// ComputeCommittee is compute_committee with the shuffled list precomputed:
// shuffled[i] = indices[compute_shuffled_index(i, len(indices), seed)].
func ComputeCommittee(shuffled []types.ValidatorIndex, index, count uint64) ([]types.ValidatorIndex, error) {
	n := uint64(len(shuffled))
	if count == 0 {
		return nil, fmt.Errorf("%w: committee count is zero", ErrInvalidState)
	}
	start := n * index / count
	end := n * (index + 1) / count
	if start > end || end > n {
		if start == end {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: committee %d of %d is out of range", ErrInvalidState, index, count)
	}
	return shuffled[start:end], nil
}
