package hash

import "errors"

var (
	// ErrTooManyChunks is returned when more chunks than the limit allows
	// are merkleized or placed in a tree.
	ErrTooManyChunks = errors.New("hash: chunk count exceeds limit")
	// ErrDepth is returned for a tree depth outside [0, MaxDepth].
	ErrDepth = errors.New("hash: depth out of range")
	// ErrIndex is returned for a leaf index outside the tree.
	ErrIndex = errors.New("hash: index out of range")
	// ErrTreeFull is returned when appending to a tree holding 2^depth
	// leaves.
	ErrTreeFull = errors.New("hash: tree full")
)
