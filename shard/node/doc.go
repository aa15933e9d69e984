// Package node wires a shard node together: an embedded beacon node
// (beacon/node; a follower without validators, or a full validator client
// in `shardlab node`), one shard chain service (shard/chain) per served
// shard on a shared Pebble database, and the shard gossip topics and
// request/response protocol, all on one p2p node. It is the libp2p host of
// shard/handler, which makes the shard roles' decisions (gossip validation
// and import, proposer, relayer, fisherman, crosslink data): the node hands
// it gossip, requests, slot starts and beacon events, and gives it a
// handler.Env over libp2p and the node's clock (host.go). Shard sync by
// range, the head markers, metrics and the HTTP API stay here.
//
// # Network (wire formats)
//
// Gossip topics (p2p's names, ssz_snappy payloads):
//
//	shard_<n>_block   a ShardBlock (shard/types) of shard n
//	shard_<n>_tx      a ShardMessage (shard/handler messages.go): exactly one Transaction of
//	                  shard n, or one ReceiptClaim of a receipt sent to shard n
//	shard_fraud_proof a ShardFraudProof (the embedded beacon node validates
//	                  and pools it; this package publishes)
//
// The node subscribes to the block and transaction topics of its shards;
// it publishes claims to the transaction topic of the destination shard,
// served or not. Every message is processed inside its validator: a block
// is imported (strict decoding, shard, slot at most one ahead of the clock,
// then shard/chain.ImportBlock: beacon reference, proposer, signature,
// execution); a transaction or claim is admitted to its pool. Malformed or
// invalid input is rejected (the sender's gossip score drops); input that
// is stale, a duplicate, or waits for a parent or beacon block is ignored.
// A block whose parent is unknown is kept aside and the shard is synced from
// the sender; one whose beacon block is unknown waits for it.
//
// Request/response (p2p.ShardBlocksByRangeProtocol, "shard_blocks_by_range"):
// the request is a ShardBlocksByRangeRequest{shard, start_slot, count}, the
// response one chunk per canonical block of the shard in [start_slot,
// start_slot+count) (at most 256 slots), each a ShardBlock's SSZ, in slot
// order. ShardStateByRootProtocol ("shard_state_by_root") answers a
// ShardStateRequest{shard, block_root} with the block's post-state (one SSZ
// ShardState chunk) when the node still holds it, and with no chunk
// otherwise. ShardInboxByCrosslinkProtocol ("shard_inbox_by_crosslink",
// shard/handler inbox.go) answers a ShardInboxRequest{shard, crosslink} with a
// ShardInboxResponse proving the shard's inbox nonces as of that crosslink
// (its header list, the last header, the nonces and their Merkle branch in
// the header's state root), or with no chunk when the node lacks the
// crosslink's blocks; the relayer asks it about destinations it does not
// serve and checks the answer against the crosslink in its beacon head state
// (docs/protocol.md §5.3). The beacon node's status lists the served shards, which is how
// peers find shard nodes (for these protocols and for crosslink_data_root,
// which the embedded beacon node answers from the shard chains).
//
// # Sync (shard/handler sync.go, driven over libp2p)
//
// A node syncs a shard by range from its head (from its anchor when its
// head is on a fork the peer lacks): after a start (catch-up), on a gossip
// block with an unknown parent, and once an epoch while the head lags the
// clock. When a block's beacon reference is already pruned from the beacon
// node (finalized history: a node started or restarted long after it), the
// node restarts the shard from the last block of the newest crosslink with
// data in the beacon head state: it fetches that crosslink's blocks by range
// and the last one's post-state by root, and shard/chain.Checkpoint checks
// them against the crosslink's data root and the header's state root. While
// catching up, or while a peer offers blocks it cannot import, the node
// neither proposes on the shard nor answers its crosslink data roots (a
// lagging node's answer would mislead attesters).
//
// # Duties (shard/handler)
//
// At each slot start (unless the beacon node is syncing): a shard whose
// head lags is synced (a catch-up sync after a start pauses its proposer);
// for each shard whose proposer, drawn from the beacon head state (the
// state the block references, docs/protocol.md §3.1), is a hosted key, a
// block is built on the shard head with the pooled transactions and claims,
// imported and published; then the relayer publishes the claims that became
// claimable. The fisherman proves every fraudulent block it imports (a
// first proof at once, a second one with the crosslink votes for the block
// that beacon blocks include, and the rollback when that crosslink is on the
// shard's current chain); proofs go to the beacon node's pool and the fraud
// proof topic once the beacon head is past the block's beacon reference.
//
// # Persistence
//
// DataDir/beacon is the embedded beacon node's database, DataDir/shard the
// shard chains' (see shard/store), DataDir/p2p.key the node identity, and
// DataDir/beacon.head and DataDir/shard-<n>.head the head markers that let a
// restart tell lost writes from a clean state (markers.go; the databases are
// opened with Verify, and corruption or loss is never silent: see
// docs/architecture.md, "Data directories").
// Pools, pending blocks, relaying (including the proven inbox nonces of
// unserved destinations) and fisherman state live in memory.
//
// This package must not import sim.
package node
