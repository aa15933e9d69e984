// Package api is the shard node's HTTP API: the /shardlab/v1 endpoints
// (served shards and their heads, shard blocks as JSON or SSZ, crosslinks
// with their shard-state roots, accounts, receipts, transaction submission,
// dashboard totals), mounted on the beacon node's server (beacon/api) under
// Prefix, in the same conventions: {"data": ...}, unsigned integers as
// decimal strings, bytes as 0x-hex, errors as {"code": ..., "message": ...}.
// docs/api.md documents every endpoint.
//
// It owns the consumer-side interface the shard node implements,
// ShardBackend, and reads the beacon chain through BeaconReader, which
// beacon/api.Backend satisfies. It imports beacon/api (codec, router,
// helpers), beacon/params, beacon/types and shard/types, and nothing of the
// nodes, p2p, the stores or shard/core.
package api
