// Package kv is the small ordered key-value interface under shardlab's beacon
// and shard stores, with three implementations:
//
//   - OpenPebble: a Pebble database in a directory on disk. Every write (Put,
//     Delete, Batch.Commit) is synced to the write-ahead log before it returns,
//     so a crash or kill -9 after a successful Commit loses nothing.
//   - OpenPebbleMem: the same Pebble code path on Pebble's in-memory file
//     system, for the simulator and tests.
//   - NewMemory: a plain Go map, for tiny tests.
//
// Prefix gives a namespaced view of a DB, so several stores can share one
// database.
//
// # Contract
//
// Keys are compared bytewise; Iterate and IterateRange visit keys in
// ascending order. Every slice a DB returns (from Get, or passed to an
// iteration callback) is a private copy the caller may keep and modify; every
// slice a caller passes in (to Put, Delete, Batch.Put, ...) may be reused as
// soon as the call returns. An iteration sees the database as it was when the
// iteration started: the callback may write to the DB, and those writes are
// not visited by the running iteration.
//
// A Batch collects writes and applies them atomically on Commit: either all
// are visible or none. A batch that is never committed writes nothing. A DB is
// safe for concurrent use; a Batch is not.
//
// After Close, every method returns an error wrapping ErrClosed; Close itself
// is idempotent. Close waits for running calls to finish, so it must not be
// called from inside an iteration callback. The storetest package checks
// every implementation against this contract.
//
// Errors wrap ErrNotFound (a missing key), ErrClosed (use after Close) or
// ErrCorrupt (the data on disk failed a checksum or could not be read).
package kv
