package testnet

import (
	"slices"
	"time"
)

// Latency is the gossip latency of beacon blocks across the testnet's
// processes, from every node's first-seen times (block_arrivals): for each
// block seen by at least two nodes, the delay of every node's first-seen
// time after the earliest one, which is the proposer's (it records its own
// block when it publishes it).
type Latency struct {
	// Processes is the number of processes whose arrivals were read.
	Processes int `json:"processes"`
	// Blocks is the number of blocks measured, Samples the number of
	// delays (one per block and non-earliest node).
	Blocks  int           `json:"blocks"`
	Samples int           `json:"samples"`
	P50     time.Duration `json:"p50_ns"`
	P90     time.Duration `json:"p90_ns"`
	P99     time.Duration `json:"p99_ns"`
	Max     time.Duration `json:"max_ns"`
}

// GossipLatency computes Latency from each node's arrivals.
func GossipLatency(byNode map[string][]Arrival) Latency {
	seen := make(map[string][]time.Time)
	l := Latency{Processes: len(byNode)}
	for _, arrivals := range byNode {
		for _, a := range arrivals {
			seen[a.Root] = append(seen[a.Root], a.Seen)
		}
	}
	var delays []time.Duration
	for _, times := range seen {
		if len(times) < 2 {
			continue
		}
		first := slices.MinFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		skipped := false
		for _, t := range times {
			if t.Equal(first) && !skipped {
				skipped = true // the earliest node itself
				continue
			}
			delays = append(delays, t.Sub(first))
		}
		l.Blocks++
	}
	if len(delays) == 0 {
		return l
	}
	slices.Sort(delays)
	l.Samples = len(delays)
	l.P50, l.P90, l.P99 = percentile(delays, 50), percentile(delays, 90), percentile(delays, 99)
	l.Max = delays[len(delays)-1]
	return l
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}
