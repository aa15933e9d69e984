// Package api is the beacon node's HTTP API: the Beacon API's endpoints
// (/eth/v1/node, /eth/v1/beacon, /eth/v1/debug, /eth/v1/config) over the
// v0.8.3 phase 0 chain and its shard fork, in the Beacon API's JSON shapes
// ({"data": ...}, unsigned integers as decimal strings, bytes as 0x-hex,
// snake_case field names, errors as {"code": ..., "message": ...}) or SSZ.
// docs/api.md lists every endpoint and the v0.8.3 mappings (committees per
// shard, genesis_validators_root, the header's proposer_index).
//
// It owns:
//   - Server: routes, content negotiation, the request body cap, panic
//     recovery, logging, graceful shutdown, and Mount for the shard API
//     (shard/api) and the node's /metrics;
//   - the consumer-side interfaces the node implements: Backend (the chain:
//     blocks, states, head, checkpoints), the optional StateRootIndex, and
//     NodeBackend (peers, sync status, version). The API resolves block and
//     state ids on top of them itself;
//   - the reflection-based JSON codec of every beacon/types container
//     (EncodeJSON, DecodeJSON, EncodeSigned, DecodeSigned), which shard/api
//     reuses for the shard containers;
//   - helpers shared with shard/api: Router, HandlerFunc, WriteData,
//     WriteError, Negotiate, ReadBody, the id parsers.
//
// It imports beacon/core, beacon/params, beacon/types and crypto/hash, and
// nothing of the nodes, p2p, the stores or shard/: the node wires itself in
// through the interfaces. The subpackage apitest has an in-memory Backend
// over a real chain, for tests.
package api
