// Package core is the v0.8.3 phase 0 beacon-chain state transition: genesis,
// process_slots, block processing, epoch processing, the swap-or-not shuffle and
// committee computations. One spec section per file; every exported function
// quotes or names the spec function it implements.
//
// Everything is a pure function of its arguments: a *Transition carries the
// config and value caches (shufflings, decompressed public keys), never global
// state. States are modified in place; when a function returns an error the
// state must be discarded. Consensus failures wrap ErrInvalid.
//
// Signatures are checked inline, or collected into a *bls.Batch that the caller
// verifies once (see SigMode), or skipped for simulations that do not need them.
//
// This package must not import p2p, stores, chain services, libp2p, pebble,
// net, os, log/slog, math/rand or time.
package core
