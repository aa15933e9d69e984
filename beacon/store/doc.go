// Package store is the beacon node's persistent store: blocks, the canonical
// slot index, states, chain metadata (head, justified and finalized
// checkpoints, genesis) and the in-process validator client's slashing
// protection, all on a kv.DB (package kv: Pebble on disk or in memory, or a
// map).
//
// # Key schema
//
// Integers in keys and values are 8-byte big-endian, so that a key scan
// visits slots in order. Containers are SSZ-encoded.
//
//	key                          value
//	meta/schema                  schema version (uint64), currently 2
//	meta/shape                   the config values that shape stored states
//	                             and blocks (shapeFields, uint64 each)
//	meta/config                  the consensus config the chain was made
//	                             with: params.ConsensusRecord.Encode
//	meta/genesis                 genesis block root (32 bytes)
//	meta/head                    head block root (32 bytes)
//	meta/justified               justified Checkpoint (SSZ, 40 bytes)
//	meta/finalized               finalized Checkpoint (SSZ, 40 bytes)
//	blk/<root>                   BeaconBlock or, from SHARD_FORK_EPOCH on,
//	                             ShardBeaconBlock (SSZ; the kind follows from
//	                             the slot, types.DecodeBlock);
//	                             root = signing_root(block)
//	idx/<slot>                   canonical block root at slot (32 bytes)
//	st/<root>                    BeaconState (SSZ): the post-state of block root
//	sp/b/<validator>             slashing protection, last signed proposal:
//	                             slot (uint64) ++ block signing root (32 bytes)
//	sp/a/<validator>             slashing protection, last signed attestation:
//	                             source epoch ++ target epoch (uint64 each) ++
//	                             signing root (32 bytes)
//
// New writes meta/schema and meta/shape into an empty database and checks
// them on every later open: another schema version is ErrSchemaVersion, a
// database written under a config whose shape differs (the state shape,
// SLOTS_PER_EPOCH, GENESIS_SLOT, or SHARD_FORK_EPOCH, on which the kind of a
// stored block depends) is ErrConfigMismatch. New also records the whole
// consensus config (meta/config, BindConsensus) and later refuses a config
// that differs in any consensus parameter, naming every differing key, with
// ErrConfigMismatch (and params.ErrConsensusMismatch); a database written
// before meta/config existed gets the current config recorded. The store expects a database
// of its own (or a kv.Prefix view): a non-empty database without meta/schema
// is refused.
//
// Schema versions: 1 stored phase 0 blocks only (the chain service kept
// shard-fork blocks beside the store, under chain/blk/) and its shape had no
// SHARD_FORK_EPOCH; 2 stores both kinds under blk/. There is no migration:
// a version 1 database is ErrSchemaVersion, and the node must start from an
// empty data directory (losing its slashing protection records too).
//
// # States
//
// States are large (a minimal-preset state with 10,000 validators is about
// 1.3 MB, a mainnet one about 8 MB), so the store keeps only the states its
// caller saves: typically the genesis state, the states of the finalized and
// justified checkpoints, and the head state on shutdown. Any other state is
// rebuilt by replaying blocks from the nearest saved one. DeleteState prunes.
//
// # Atomicity
//
// Every write goes through a kv.Batch. Update runs a function on a Tx whose
// writes (a block, the canonical index, the head, ...) are committed
// atomically and durably when the function returns nil, and discarded when it
// returns an error. The single-write methods (SaveBlock, SaveHead, ...) are
// one-write Updates. A Tx's writes are not visible to reads until Update
// returns.
//
// # Slashing protection
//
// See slashing_protection.go: CheckAndRecordProposal and
// CheckAndRecordAttestation keep, per validator, the last signed proposal
// and the last signed attestation, and refuse anything that could conflict
// with the signed history (EIP-3076's minimal strategy adapted to v0.8.3). A
// nil return means the record is on disk; only then may the caller sign.
//
// A Store is safe for concurrent use. It does not own its kv.DB: close the
// database after the last use of the Store. Only one Store may use a database
// at a time (slashing protection serialises its check-and-write in the Store).
package store
