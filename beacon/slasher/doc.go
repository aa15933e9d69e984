// Package slasher detects slashable behaviour in the blocks and attestations
// a beacon node receives and builds the evidence for it: ProposerSlashing
// for two different signed headers of one proposer in one slot, and
// AttesterSlashing for a double vote (two different AttestationData with one
// target epoch) or a surround vote, in either direction (v0.8.3
// is_slashable_attestation_data).
//
// Surround votes are found with min/max spans per validator and source
// epoch, the structure Prysm's and Lighthouse's slashers use: minSpan[e] is
// the smallest target-e over the attestations with a source after e, maxSpan[e]
// the largest target-e over those with a source before e. A new attestation
// (s, t) surrounds a recorded one if minSpan[s] < t-s, and is surrounded by
// one if maxSpan[s] > t-s; the span also says the other attestation's target
// epoch, under which its IndexedAttestation is found. Spans are uint16
// distances stored in chunks of ChunkValidators validators by ChunkEpochs
// epochs, so one honest attestation touches a chunk or two.
//
// Everything is kept for a window of Config.HistoryEpochs epochs before the
// current epoch and pruned past it, in a kv.DB (the node gives it a prefixed
// view of its Pebble database), so detection survives restarts and disk use
// is bounded by validators × window. Memory is bounded by
// Config.MaxCachedChunks span chunks.
//
// The slasher trusts its input: callers hand it only attestations and
// headers whose signatures were verified (gossip validation, block import).
// It never verifies signatures itself, and it does not check the evidence
// against a state: the node does that (process_proposer_slashing and
// process_attester_slashing on its head state) before publishing.
//
// It imports beacon/types, beacon/core (pure helpers) and beacon/store/kv;
// it must not import p2p, beacon/chain or beacon/node.
package slasher
