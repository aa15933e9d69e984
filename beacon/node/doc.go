// Package node wires a beacon node together: the chain service
// (beacon/chain) on a Pebble store, the p2p node (gossip topics and
// request/response protocols), the slasher, the HTTP API and metrics, and
// it hosts the node's beacon/handler.Handler, which makes every decision
// described below (gossip, requests, sync, validator duties). The Node
// implements the handler's Env with libp2p, the node's clock and goroutines
// and serialises every handler call (including request callbacks and timers)
// with one mutex; sim/netsim hosts the same handler in virtual time. The
// node holds no consensus logic of its own.
//
// # Network
//
// Gossip topics (p2p's names): beacon_block, beacon_attestation,
// voluntary_exit, proposer_slashing, attester_slashing, shard_fraud_proof.
// Every message is fully processed inside its gossip validator, so only
// valid messages are forwarded: undecodable or invalid input is rejected
// (which lowers the sender's peer score), input that is merely not useful
// now (duplicate, unknown parent or target, not yet its slot, too old) is
// ignored. A block is decoded strictly by the fork of its slot (its first 8
// bytes; types.DecodeBlock); a block more than one slot ahead of the clock or
// at or before the finalized epoch's start slot is rejected; importing it is
// its validation. A block with an unknown parent is ignored and its missing
// ancestors are fetched by root from the sender; an attestation with an
// unknown target has its target fetched.
//
// Request/response protocols (SSZ containers in beacon/handler/messages.go):
//
//	status                 Status -> Status (the request is the requester's)
//	beacon_blocks_by_range BlocksByRangeRequest -> canonical blocks, one per chunk
//	beacon_blocks_by_root  BlocksByRootRequest -> blocks, one per chunk
//	crosslink_data_root    CrosslinkDataRequest -> CrosslinkDataResponse (served by
//	                       shard nodes; a beacon node serves it only with
//	                       Config.ServeCrosslinkData)
//
// A response chunk of a blocks request is the block's SSZ, decoded by slot.
//
// # Sync
//
// Statuses are exchanged on every new connection and every
// Sync.StatusInterval slots. When a peer's status (or, at a slot start, the
// best known one) shows a head ahead of ours, the node
// asks the best such peer for blocks by range, Sync.BatchSize slots at a
// time, from its head on (from its finalized epoch when the peer's chain
// does not extend its head), and imports them; the validator client pauses
// meanwhile. A node started late syncs from genesis, a restarted one from
// its restored head.
//
// # Validator client
//
// At each slot start, if a hosted key proposes, the block is produced by
// beacon/validator on the head with the pooled attestations, fraud proofs,
// slashings and exits as inputs of one production; its signing root then goes through slashing
// protection (store.CheckAndRecordProposal, durable) and only then is the
// block imported and published. At one third of the slot, each committee
// with hosted members gets attestation data on the head (with the crosslink
// data root from Config.CrosslinkData, asked on a goroutine, in the shard
// fork, or the empty-range root when it has no answer), each member is checked and recorded by
// slashing protection (store.CheckAndRecordAttestation), and one aggregate of
// the allowed members is signed, counted locally and published. Protection
// records live in the node's database, so they survive restarts.
//
// # Data dir
//
// DataDir/beacon is the database (opened with kv.PebbleOptions.Verify, and
// bound to the consensus config by the store), DataDir/beacon.head the head
// marker (durability.go) that tells lost writes apart at the next start:
// they are reported exactly and synced again, or, with hosted validators,
// refused (ErrDataLost). Damaged files are refused with what to do
// (DescribeDamage). See docs/architecture.md, "Data directories".
//
// This package must not import the shard packages or sim.
package node
