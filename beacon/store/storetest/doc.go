// Package storetest is the conformance suite for kv.DB implementations, in
// the spirit of go-ethereum's ethdb/dbtest: every backend runs the same
// tests of reads, writes, batches, iteration, aliasing and Close, so the
// beacon and shard stores can rely on the contract documented in package kv
// whatever backend they are given.
package storetest
