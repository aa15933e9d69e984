// Package hash provides SHA-256 and the Merkle tree helpers of the SSZ
// specification (v0.8.3): zero-subtree roots, merkleize with a chunk limit,
// length mix-in, branch building and checking, and an incrementally
// updatable binary tree.
//
// SHA-256 is the standard library's, which uses the SHA extensions of the
// CPU where present. Everything here is safe for concurrent use except
// Tree, which callers must guard when sharing it.
package hash
