// Package core is shardlab's shard-chain protocol (docs/protocol.md): the
// shard block state transition (transfers, cross-shard sends, receipt claims
// with Merkle proofs through the beacon chain's crosslinks), shard committees
// and proposers, crosslink data roots, and fraud proofs: built by fishermen
// from a recording execution, verified statelessly against multiproof
// witnesses by FraudVerifier, which implements beacon/core.ShardFork.
//
// Execution is one function over a StateView (full state, witness, or
// recorder) so that nodes, fishermen and the beacon chain agree by
// construction. Like beacon/core it is pure: no goroutines, clocks,
// randomness, logging, network or disk. It may import beacon/*; nothing in
// beacon imports it.
package core
