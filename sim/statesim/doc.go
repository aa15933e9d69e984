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
// of the same seed; the shard handler's Env.Rand is a third), and BLS and
// ed25519 signing are deterministic. The same Config therefore
// gives the same blocks, states and reports, except for the wall-clock
// timings, which are measurements kept apart in EpochReport.Timing.
//
// With Config.Shards set, the run includes shardlab's shard layer from
// genesis, on the production shard roles: beacon blocks are
// ShardBeaconBlocks, imported (every signature verified) by one node's
// beacon/chain service, and that node's shard/handler serves every shard on
// shard/chain services with every validator's key. At every slot a seeded
// workload of signed transfers (some cross-shard) reaches the shards'
// pools; after the beacon block, the handler's slot start has each shard's
// proposer build its block on the shard's head (shard/chain.Propose, with
// the pooled claims), its relayer build the claims the beacon chain's
// crosslinks make claimable (shard/core.ClaimBuilder, against the
// challenge-window state the handler looks up), and its fisherman submit
// fraud proofs; attesters vote the crosslink data roots the handler serves.
// The shard layer's balances plus the unclaimed receipts must equal the
// genesis total at every slot. Config.FraudAt adds the byzantine parts:
// a fraudulent shard block, gossiped to the node (whose fisherman proves
// it), and a complicit crosslink committee; the handler's second proof
// slashes the committee and rolls the crosslink back.
//
// statesim drives beacon/core and beacon/validator directly for the beacon
// chain (every beacon block extends the previous one) and holds no shard
// role of its own: it drives the handler, plays the byzantine parts and
// reports. It does not log; the command that runs it does.
package statesim
