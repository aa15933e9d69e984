// Package p2ptest runs many p2p.Nodes in one process over go-libp2p's mock
// network (p2p/net/mock), for tests and for the simulator: per-link latency
// and bandwidth (mocknet.LinkOptions), topologies, and Partition / Heal.
//
// Why mocknet and not go-libp2p's x/simlibp2p: in go-libp2p v0.51.0,
// x/simlibp2p builds real QUIC hosts on a simulated UDP network from the
// separate module github.com/marcopolo/simnet (not in our go.mod), and its
// non-test code imports "testing" and testify. It is meant for go-libp2p's
// own synctest tests. mocknet is in the go-libp2p module we already pin,
// needs no transport handshakes (fast: hundreds of nodes per process), and
// its links model latency and bandwidth and can be cut and restored, which
// is what partitions need. Mocknet streams ignore deadlines; p2p enforces
// its request/response timeouts with timers that reset the stream, so the
// same code times out correctly on both.
//
// p2ptest imports p2p and the go-libp2p mock network; production code other
// than the simulator must not import it.
package p2ptest
