// Package clock is the beacon node's notion of time: a Clock interface with a
// real implementation (Real, time.Now) and a manual one for tests and
// simulations (Manual), plus slot arithmetic from a genesis time and
// SECONDS_PER_SLOT (Slots).
//
// Slot arithmetic is done with time.Time and time.Duration rather than the
// spec's whole seconds, so that duties can be scheduled at fractions of a
// slot (attestations at one third). Under testing/synctest the Real clock
// reads the bubble's fake time, so node tests use Real with fake time.
//
// This package imports only beacon/types and the standard library. It must
// not import p2p, stores, chain services, libp2p or pebble.
package clock
