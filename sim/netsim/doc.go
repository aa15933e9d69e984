// Package netsim is a deterministic discrete-event simulator of a beacon
// network running the production node logic: every simulated node is a
// beacon/handler.Handler (the same code beacon/node drives over libp2p) on
// its own chain service and in-memory Pebble store, driven by one event
// queue ordered by (virtual time, sequence number) instead of goroutines and
// the wall clock.
//
// The simulated network carries the real SSZ bytes the handlers publish and
// request, with per-link latency (fixed, uniform or normal with jitter),
// loss, bandwidth, partitions cut and healed at any time, and per-link FIFO
// delivery or free reordering. Gossip is flooded to every peer or forwarded
// on a random mesh of degree D (gossipsub-like), deduplicated by message id
// and forwarded only when the receiving handler accepts the message.
//
// A run depends only on its Config (seed included): every delivered message
// and fired timer is folded into a trace hash, so two runs of the same
// configuration give the same hash and the same final state roots. See
// docs/simulator.md.
//
// netsim must not import beacon/node or p2p's host: it drives handlers
// only.
package netsim
