// Package spectest holds shardlab's own test vectors for the shard layer
// (shard/testdata): their generator and their handlers for the
// beacon/spectest runner.
//
// The vectors use the layout of the official v0.8.3 vectors under the fork
// directory "shard":
//
//	shard/testdata/tests/minimal/shard/config.yaml
//	shard/testdata/tests/minimal/shard/<runner>/<handler>/pyspec_tests/<case>/
//
// with the runners/handlers shard_block/process, shard_block/claims,
// crosslink/data_root and fraud_proof/verify (shard/testdata/README.md
// describes each case's files). Register adds their handlers to a
// beacon/spectest Registry; `shardlab spectest --dir shard/testdata` and
// `go test ./shard/spectest` run them.
//
// Generate writes every case deterministically; `go test ./shard/spectest
// -run TestVectors -rewrite` regenerates shard/testdata, and without
// -rewrite TestVectorsUpToDate fails when the checked-in vectors differ from
// what the code generates, so a protocol change shows up as a vector diff.
package spectest
