// Package validator is the honest validator of the v0.8.3 phase 0 validator
// guide (specs/validator/0_beacon-chain-validator.md): interop keys and
// genesis, block proposal and attestation production.
//
// It is pure: everything it needs (the transition, states, keys, the pool of
// attestations a proposer may include) is passed in as arguments, and it owns
// no goroutines, clocks, randomness, network, disk or logging. Signing is
// deterministic, so the same inputs always give the same blocks and
// attestations. Deciding when to act (the slot clock, which head to follow)
// and gossiping the results belong to the callers.
//
// This package must not import p2p, stores, chain services, libp2p, pebble,
// net, os, log/slog, math/rand or time.
package validator
