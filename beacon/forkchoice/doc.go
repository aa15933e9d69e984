// Package forkchoice is the v0.8.3 phase 0 beacon-chain fork choice
// (specs/core/0_fork-choice.md): a Store holding the block tree, the post-state
// of every block, the checkpoint states and every validator's latest message,
// updated by the handlers on_tick (OnTick), on_block (OnBlock) and
// on_attestation (OnAttestation), and queried by get_head (Head).
//
// The package is pure: no goroutines, clocks, logging, randomness, network or
// disk. Time is an argument (OnTick, in Unix seconds). A Store is not safe for
// concurrent use, not even for concurrent reads (Head reuses scratch fields of
// the tree); callers serialise all calls, typically behind one mutex.
//
// # Efficiency
//
// The spec's get_head is quadratic: for every child on the path it sums the
// balance of every validator whose latest message descends from it. Head gives
// the same answer in one pass: each block keeps its children; each vote's
// balance is added to the block it names and the sums are pushed up the
// justified subtree in reverse pre-order, so every block's weight is the
// spec's get_latest_attesting_balance; then the descent picks, at each step,
// the eligible child with the largest (weight, root). The tests check Head
// against a literal transcription of the spec on random trees.
//
// Prune drops the blocks, states and checkpoint states that can no longer
// matter (those not descending from the finalized root, or from the justified
// root, and checkpoint states older than the finalized epoch), so memory stays
// bounded in long runs.
//
// # Deviations from the v0.8.3 text
//
//   - on_attestation checks `store.time >= (attestation_slot + 1) *
//     SECONDS_PER_SLOT`, forgetting genesis_time (with a real genesis time any
//     attestation passes). OnAttestation checks
//     `store.time >= genesis_time + (attestation_slot + 1) * SECONDS_PER_SLOT`,
//     which is what the comment above that assert says and what later
//     versions of the spec do.
//   - The spec adds a block to store.blocks before asserting that it descends
//     from the finalized block and before running the state transition, so a
//     rejected block stays in store.blocks (and get_head may even pick it);
//     on_attestation stores a checkpoint state before its last asserts. Here
//     every handler is atomic: when it returns an error the store is unchanged.
//   - on_attestation does not require the voted-for block
//     (beacon_block_root) to be known, and the spec's get_head then fails on
//     a missing key. Here such a vote is recorded and counts for nothing until
//     the block arrives; from then on it counts like any other.
//   - get_latest_attesting_balance reads checkpoint_states[justified], which
//     the spec only fills from on_attestation; a justified checkpoint learnt
//     from a block that no processed attestation targeted makes get_head fail
//     on a missing key. OnBlock computes that checkpoint state when it adopts
//     the justified checkpoint (process_slots of the justified block's state to
//     the epoch start, exactly what on_attestation would have stored).
//   - OnBlock of a block already in the store is a no-op returning nil.
//   - OnBlock checks the block's slot against the finalized epoch before
//     looking up the parent, so a block that can never be accepted is reported
//     as such (ErrFinalizedSlot) rather than as ErrUnknownParent. The set of
//     accepted blocks is the spec's; only the error reported differs.
//   - Times are computed without wrapping: a slot or epoch whose start does not
//     fit in a uint64 of seconds is in the future.
//   - After Prune, attestations whose target was pruned are rejected with
//     ErrUnknownTarget and blocks built on a pruned block with
//     ErrUnknownParent; the spec, which never forgets, would accept such an
//     attestation (it cannot change the head, but it could replace the
//     validator's latest message). Head is unchanged by pruning.
//
// The descendant-of-finalized check of on_block is
// get_ancestor(store, root, store.blocks[finalized.root].slot) == finalized.root,
// as in the v0.8.3 text (the slot of the finalized block, which may precede the
// start of the finalized epoch when that slot was empty).
//
// This package imports only beacon/core, beacon/params, beacon/types and the
// standard library. It must not import p2p, stores, chain services, libp2p,
// pebble, net, os, log/slog, math/rand or time.
package forkchoice
