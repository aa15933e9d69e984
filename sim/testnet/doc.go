// Package testnet runs a local testnet of shardlab processes: it writes a
// genesis (`shardlab genesis`, a few seconds ahead), starts beacon nodes
// (`shardlab beacon`, the validators split evenly) and shard nodes
// (`shardlab shard`, the shards split, every validator key on each) on
// 127.0.0.1 with os/exec, each in its own process group with its own data
// dir, log file and pid file under the testnet directory, drives a seeded
// transaction workload through the shard nodes' HTTP API, polls every node's
// HTTP API once per slot for the status table, and ends with a summary:
// finality and when it was reached, agreement of the finalized checkpoints,
// crosslinks per shard, receipts, and the gossip latency of beacon blocks
// across processes (from every node's block arrival times).
//
// It owns the many-process logic of `shardlab testnet
// up|down|status|stop|start|restart|kill` and of the end-to-end tests
// (e2e_test.go): Testnet (Start, Run, Stop, Kill, Restart, AddBeaconNode,
// Poll, CheckAgreement), Process (which follows a node started again
// outside it), Down, Status, StopNode, KillNode, StartNode, RestartNode
// (lifecycle.go: one node of a testnet directory, from any process), Load
// and GossipLatency. docs/testnet.md describes the layout, the ports, the
// status columns, the lifecycle commands and the latency measurement.
//
// It talks to the nodes only through their command lines, logs and HTTP
// API, never in process, so it imports no node package: beacon/params and
// shard/core (to sign transactions and compute the empty crosslink data
// root), beacon/api (the JSON codec), the types.
package testnet
