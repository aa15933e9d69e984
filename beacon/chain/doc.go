// Package chain is the beacon node's chain service: it owns the v0.8.3 fork
// choice (beacon/forkchoice), the persistent store (beacon/store) and the
// operation pools, and is the one place where blocks and attestations enter
// the node. A Service is safe for concurrent use; all fork-choice calls are
// serialised behind one lock. States handed out (HeadState, StateAt,
// Genesis) are copies the caller owns; blocks handed out are shared and must
// not be modified.
//
// # What is persisted when
//
//   - New on an empty store: the genesis block, its state, the canonical index
//     at GENESIS_SLOT, the head and the justified and finalized checkpoints
//     (store.SaveGenesis, one atomic write).
//   - ImportBlock: in one atomic write, the block (of either kind), the
//     canonical index rewritten along the new head's chain back to the
//     common ancestor (entries of a replaced branch are deleted), the head
//     root, the fork choice's justified checkpoint, and, when finality
//     advances, the finalized checkpoint with the finalized block's
//     post-state (the previous finalized state is deleted, genesis's is
//     kept). Blocks that do not become the head are stored too, without
//     index entries, so they can be served by root.
//   - OnTick: the same head, index and checkpoint write when pending votes
//     move the head.
//   - Nothing else: attestations, pools and fork-choice votes live in memory.
//     (Slashing protection is written by the node's validator client through
//     the store.)
//
// A node killed at any point (kill -9) restarts from the last committed
// write: New loads the genesis state, replays the canonical blocks from the
// index up to the stored head through a fresh fork choice (signatures
// skipped, state roots checked; the attestations inside the blocks count as
// votes), and reconciles the store with the result, so the head and the
// finalized checkpoint are the ones persisted last. Stored blocks off the
// canonical chain are not replayed (they still serve by-root requests). A
// canonical block the store cannot read is an error (the database is
// damaged: New refuses); a block the rules reject ends the replay there,
// with an error log naming the slots that are gone, and the chain goes on
// from the block before it (the consensus config is bound to the store, so
// this is not an edited config.yaml).
// Replay cost grows with the chain; the fork choice has no anchor other than
// genesis (forkchoice.New), so the stored finalized state cannot shorten it
// yet.
//
// # Attestations
//
// OnAttestation validates an attestation on its target checkpoint state
// (cached) before the fork choice would (the fork choice counts a vote only
// once its slot is over): valid attestations enter the pool at once and the
// fork choice either at once or, pending, at the first OnTick after their
// slot. Attestations contained in imported blocks count as votes too.
//
// # Events
//
// Subscribe delivers NewBlock, NewHead (with reorg flag and depth) and
// Finalized events in order, synchronously after the lock is released.
//
// This package must not import p2p, libp2p, the shard packages or sim.
package chain
