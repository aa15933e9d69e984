// Package shardbench holds the shard-layer benchmarks behind `shardlab bench
// core` (selected alone with `--only shard`) and `go test -bench
// ./shard/shardbench`:
//
//   - shard_exec: a shard block of N signed transfers (1,024 by default,
//     MAX_SHARD_TRANSACTIONS; mixed intra-shard and
//     cross-shard sends, senders and recipients drawn from SHARD_ACCOUNTS
//     accounts) executed on one core with every ed25519 signature verified,
//     followed by the post-state root and the receipts root, and checked
//     against the roots the block commits to: that is what accepting a block
//     costs a node. The baseline is plain ed25519.Verify of the same N
//     messages on one core; the target is an execution rate of at least 80%
//     of the verification rate (exec time / verify time <= 1.25). Variants
//     skip the signatures (the pure state transition plus roots), time the
//     two roots alone, and run the whole of core.ProcessBlock (adding the
//     header checks: proposer index and its BLS signature over the block
//     root, which hashes the body). The main figure leaves the header checks
//     out: they are per block, not per transfer, and the brief's figure is
//     execution; shard_exec_process_block shows what they add.
//   - claim_verify: receipt claims verified through a crosslink chain of
//     length 1 and 4 (receipt branch, header branch into the first
//     crosslink's data root, the chain of crosslink roots up to the beacon
//     state's current crosslink, the challenge-window branch of the
//     crosslink current at the window slot into the state root state_roots
//     recorded for that slot, then the inbox nonce and the credit), as the
//     per-claim time of a block of MAX_SHARD_CLAIMS (1024) claims, with the
//     block's SSZ and gossip (snappy) sizes. The
//     fixture's beacon chain is real: the crosslinks are written one per
//     epoch and the chain advanced with process_slots, so the window state
//     is the one whose root the referenced state recorded.
//   - fraud_proof: a fisherman's proof against a block of 1,024 transfers
//     (MAX_SHARD_TRANSACTIONS) with a wrong state root: building it
//     (recording re-execution, multiproof witness, BLS signature, SSZ
//     encoding) and verifying it statelessly
//     with the proposer's and whistleblower's BLS signatures checked, against
//     the baseline of re-executing the block on a full state.
//
// Every figure is the median of the runs, each preceded by an untimed
// runtime.GC, after one untimed warm-up; the benchmarks of a group run
// interleaved, round by round, so drift affects them alike. Run pins
// GOMAXPROCS to 1 while it measures: shard execution is single-threaded, and
// one core means the garbage collector cannot borrow a second one for free.
//
// Results embed beacon/corebench.Result, with Extra for figures that are not
// durations (rates, bytes, counts).
package shardbench
