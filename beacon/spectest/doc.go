// Package spectest runs the official eth2 v0.8.3 test vectors against
// shardlab.
//
// The vectors are laid out as
//
//	<dir>/tests/<config>/<fork>/<runner>/<handler>/<suite>/<case>/
//
// where config is minimal, mainnet or general (the config-independent
// vectors: bls and ssz_generic). Discover walks that tree into Cases; a
// Registry maps each (runner, handler) pair to the Handler that checks one
// case; Run discovers, filters and runs the cases on a worker pool and returns
// a Report with per-handler counts and the failures.
//
// A case whose (runner, handler) has no registered Handler is counted as not
// run, never as passed. A Handler can also decline a single case by returning
// an error that wraps ErrNotRun.
//
// Default returns the registry of every handler shardlab implements:
// ssz_static for all phase 0 containers, and ssz_generic for the uints,
// boolean, basic_vector, bitvector, bitlist and containers handlers. The
// ssz_generic containers are Go structs: those sszgen v0.1.4 can generate are
// generated (generic_containers_encoding.go, `make gen`), and the two it cannot
// (List[uint16] and Vector[container] fields) are written by hand on the same
// fastssz runtime helpers. The parameterised basic shapes (uint_<bits>,
// vec_<type>_<n>, bitvec_<n>, bitlist_<n>, bool) use a small strict codec built
// on those helpers too.
//
// The package is a library so that both `go test ./beacon/spectest` and
// `shardlab spectest` run the vectors. It does no logging.
package spectest
