// Package apitest builds small real chains and in-memory backends for
// testing the HTTP API (beacon/api, shard/api) and code that talks to it:
// NewChain produces a minimal-preset interop chain in the shard fork with
// full attestations (so it justifies and finalizes), a skipped slot and an
// orphaned block; Backend serves it as an api.Backend and api.NodeBackend.
//
// It is a test helper: production code must not import it.
package apitest
