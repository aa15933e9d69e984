// Package handler is the decision-making half of a beacon node: one
// Handler per node validates and imports gossip (blocks, attestations,
// exits, slashings, shard fraud proofs), answers requests (status, blocks
// by range and by root, crosslink data roots), runs the validator duties at
// slot start and when attestations are due, keeps the peers' statuses and
// syncs from them, all through a small Env interface (time, publish,
// request with a callback, timers, peers, seeded randomness, logger).
//
// Two hosts drive the same Handler: beacon/node (libp2p, the system clock,
// goroutines, pebble on disk) in production and sim/netsim (a discrete-event
// loop with a simulated network) in simulations. A host serialises every
// call into the Handler, including the callbacks and timers it runs for it,
// so the Handler holds no locks and starts no goroutines; nothing in it
// depends on map iteration order, the wall clock or unseeded randomness.
//
// handler uses p2p only for the topic and protocol names; it must not use
// a p2p.Node, libp2p's host or network packages, net, os or goroutines: it
// names peers by their peer.ID only.
package handler
