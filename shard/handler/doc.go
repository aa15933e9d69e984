// Package handler makes every decision of a shard node (issue 8, "The node
// seam" in docs/architecture.md): shard block, transaction and claim gossip
// validation and import (with the blocks that wait for a parent or beacon
// block), proposing shard blocks at slot start, the relayer's claim
// selection and its inbox lookups (Request + callback), the crosslink
// registry and window-state lookup, the fisherman's re-execution evidence,
// fraud-proof assembly and publication, and the node's own crosslink data
// roots. It reaches the network only through a beacon/handler.Env, so the
// same code runs in shard/node (over libp2p) and in sim/netsim (in virtual
// time).
//
// Shard block sync by range and checkpoint sync (sync.go) are callback
// code on Env.Request too, and OnRequest serves their protocols
// (shard_blocks_by_range, shard_state_by_root) beside the inbox lookups.
//
// Import it as shardhandler (beacon/handler is handler).
package handler
