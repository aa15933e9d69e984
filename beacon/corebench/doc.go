// Package corebench holds the beacon-core benchmarks behind `shardlab bench
// core` and `go test -bench ./beacon/corebench`: the whole-list shuffle against
// a plain baseline, an epoch transition and the state root after a slot at
// 100,000 validators, and a block of 128 attestations against the same BLS
// checks alone. Fixtures build realistic states (interop keys, full
// committees) so the numbers reflect a busy chain; every figure is a median
// with its baseline measured in the same process.
package corebench
