// Package types defines the containers of shardlab's shard layer
// (docs/protocol.md): accounts, transactions, receipts, shard blocks and
// headers, receipt claims, multiproof witnesses and fraud proofs, with their
// SSZ encoding (sszgen, containers_encoding.go), and the shard state with an
// incrementally hashed account tree and access to its nodes by generalized
// index.
//
// It may import beacon/types and beacon/params; nothing beacon imports it.
// No core logic, network, disk, clocks or logging.
package types
