// Package store persists shard chains for the shard node: for each shard,
// on a namespace of one kv.DB (Pebble on disk, or Pebble's in-memory file
// system in tests and simulations),
//
//	g              the shard's genesis header (checked on reopen)
//	a              the anchor: the root of the last crosslinked block the
//	               fork choice is rooted at (docs/protocol.md §4.5)
//	h              the head root (informational; the head is recomputed)
//	b<root>        a valid block (SSZ ShardBlock)
//	r<root>        the receipts it emitted (concatenated SSZ Receipts)
//	s<root>        its post-state (SSZ ShardState), kept only for the anchor
//	               and the blocks after it: what a restart needs to rebuild
//	               the fork choice without re-executing anything
//	c<slot>        the canonical block root at slot (8-byte big-endian)
//	x<root>        a crosslink seen in the beacon chain (by hash tree root)
//	               with the header roots behind its data root when known
//	i<root>        a block found invalid
//
// Outside the shards' namespaces, meta/config (KeyConfig) holds the
// consensus config the database was made with; the shard node checks it on
// every start and refuses a config.yaml that differs.
//
// A block, its receipts and its post-state are written in one batch, so a
// node killed at any point restarts with whole blocks only. Blocks before
// the anchor keep their block and receipts (to serve blocks by range) but
// not their state.
//
// It imports beacon/store/kv and the types packages only.
package store
