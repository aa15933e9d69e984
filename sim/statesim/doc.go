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
// fixed order, and BLS signing is deterministic. The same Config therefore
// gives the same blocks, states and reports, except for the wall-clock
// timings, which are measurements kept apart in EpochReport.Timing.
//
// statesim drives beacon/core and beacon/validator directly; it knows nothing
// of nodes, p2p, stores or the fork choice (every block extends the previous
// one). It does not log; the command that runs it does.
package statesim
