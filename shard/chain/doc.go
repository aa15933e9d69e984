// Package chain is the shard node's chain service for one shard
// (docs/protocol.md §3.3, §4, §5): the tree of valid blocks with their
// post-states, the shard fork choice (shard/core.ForkChoice) rooted at the
// last crosslinked block, the transaction and receipt-claim pools, the
// crosslinks seen in the beacon chain with the header lists behind their
// data roots, and the honest attester's data roots. It reads the beacon
// chain through the small Beacon interface (beacon/chain.Service implements
// it) and persists through shard/store.
//
// A Service is safe for concurrent use: one lock guards its state, and the
// expensive parts of an import (signature check and execution) run outside
// it on private copies. States handed out are copies the caller owns; blocks
// handed out are shared and must not be modified.
//
// # Import
//
// ImportBlock validates a block in full (docs/protocol.md §3.3) against the
// post-state of its parent and the post-state of its beacon reference
// (Beacon.StateAt). It tells apart "not now" (ErrUnknownParent,
// ErrUnknownBeaconBlock, ErrTooOld, ErrDuplicate), a block whose header is
// wrong (proposer, signature: ErrInvalidHeader, not fraud-provable) and one
// whose execution breaks a rule or gives other roots (a *FraudError, which
// carries what shard/core.FraudVerifier.BuildFraudProof needs). Invalid
// blocks are remembered, with their descendants, and never enter the fork choice.
//
// # Fork choice
//
// Valid blocks enter the fork choice when their beacon reference is on the
// beacon node's canonical chain (§4.5 rule 1); on a beacon reorg the fork
// choice is rebuilt from the tree. ObserveBeacon is fed the beacon head
// state: when the shard's current crosslink changes, its data root is mapped
// to a header list (the lists this node answered as an attester, else the
// lists ending at each known block of the range), and the fork choice is
// re-rooted at the last header it lists (or, for a crosslink without
// headers, at its parent's). A crosslink whose data cannot be matched, or
// whose list holds an invalid block, keeps the old root.
//
// # Persistence (shard/store)
//
// Every valid block is written with its receipts and post-state in one
// batch; post-states are deleted once the block is older than the anchor,
// blocks off the canonical chain once they leave the retained window. The
// anchor, the head, the canonical index, the crosslink records and the
// invalid roots are written as they change. New on a store with data
// rebuilds the tree from the anchor's state and the stored states after it,
// without re-executing anything (a restarted node's beacon follower may no
// longer hold the beacon states old blocks reference). A node that cannot
// re-execute a shard's history at all (its beacon references are pruned)
// restarts from a crosslinked block with Checkpoint, given the crosslink's
// blocks and the last one's post-state, which it checks against the
// crosslink's data root and the header's state root.
//
// This package must not import p2p, the nodes, or sim.
package chain
