// Package statesim runs a beacon chain in one process, without a network:
// interop genesis, then at every slot the proposer's block (built by
// beacon/validator from the attestation pool) applied with full signature
// verification, and every committee of the slot attesting with a chosen
// participation. It reports justification, finalization, crosslinks,
// participation and timings per epoch, and can write the run as an official
// v0.8.3 sanity/blocks test case.
//
// A run is deterministic: the only randomness is which committee members
// attest, drawn from one math/rand/v2 PCG stream seeded by Config.Seed in a
// fixed order (and, in shard runs, the workload, drawn from a second stream
// of the same seed), and BLS and ed25519 signing are deterministic. The same Config therefore
// gives the same blocks, states and reports, except for the wall-clock
// timings, which are measurements kept apart in EpochReport.Timing.
//
// With Config.Shards set, the run includes shardlab's shard layer (shard/core)
// from genesis: beacon blocks are ShardBeaconBlocks; at every slot a seeded
// workload of signed transfers (some cross-shard) arrives in the shards'
// pools, every shard's proposer builds a block on its canonical head with
// those transactions and the receipt claims a relayer proves through the
// beacon chain's crosslinks (with the challenge-window proof against the
// canonical beacon state at the window slot, rebuilt from the kept block
// post-states), a fisherman re-executes every block, and
// attesters vote the data roots of their shard's chain. The shard layer's
// balances plus the unclaimed receipts must equal the genesis total at every
// slot. Config.FraudAt adds a fraudulent shard block, a complicit crosslink
// committee, the fisherman's fraud proofs, the slashings and the crosslink
// rollback. Shard blocks are built and re-executed on all CPUs, one shard
// per goroutine at a time, and applied in shard order.
//
// statesim drives beacon/core and beacon/validator directly; it knows nothing
// of nodes, p2p, stores or the fork choice (every beacon block extends the
// previous one; every shard block extends its shard's newest valid block). It does not log; the command that runs it does.
package statesim
