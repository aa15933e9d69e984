// Package bench measures the throughput and latency of a running shardlab
// network: it starts a testnet of real processes (sim/testnet), drives it
// with a load generator of pre-signed transfers (intra- and cross-shard,
// uniform or Zipf-hot accounts, bursts) at a fixed, ramped or searched
// (find-max) rate through the shard nodes' batch submission route, follows
// every transaction to its inclusion, crosslink, finality and (cross-shard)
// claim, samples the processes' CPU and memory, and reports the figures of
// a steady-state window (docs/benchmarks.md): a table, results.json,
// results.csv and a self-contained report.html with SVG charts.
package bench
