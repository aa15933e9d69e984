// Package sigcache remembers which signatures have verified, so that a node
// (or every node of a simulation sharing one cache) checks each distinct
// signature once.
//
// A Cache is a bounded, concurrency-safe set of 32-byte digests with
// least-recently-used eviction. A digest names one verification exactly: it
// is a SHA-256 over a scheme tag and every input the verification reads
// (domain, messages, public keys, signature), length-prefixed, so that two
// checks share a digest only if they are the same check. Only successful
// verifications are added; a failure is never remembered, so a cache can
// only ever save work, never change a result (see docs/architecture.md,
// "Verified-signature caches").
//
// The scheme-specific wrappers live beside their schemes: bls.VerifyCache
// for BLS, and Cache.VerifyEd25519 here for the shard transactions'
// ed25519 signatures. A nil *Cache is valid and caches nothing, which is
// how pure core code runs by default.
package sigcache
