package bench

import (
	"fmt"
	"io"

	"github.com/shardlab/shardlab/beacon/params"
)

// engineLabel prefixes a run's heading with its engine when it is the
// simulator.
func engineLabel(p Point) string {
	if p.Engine == EngineSim {
		return "[simulator, virtual time] "
	}
	return ""
}

// shardsLabel is "N shards", naming the chain's shard count and
// SLOTS_PER_EPOCH when the point has its own chain config (FitShards).
func shardsLabel(p Point) string {
	s := fmt.Sprintf("%d shards", p.Shards)
	if p.ChainShards > p.Shards {
		s = fmt.Sprintf("%d loaded of %d shards", p.Shards, p.ChainShards)
	}
	if p.SlotsPerEpoch > 0 && p.SlotsPerEpoch != params.Minimal().SlotsPerEpoch && p.Preset == "minimal" {
		s += fmt.Sprintf(" (SLOTS_PER_EPOCH %d)", p.SlotsPerEpoch)
	}
	return s
}

// writeSimLines ends a simulator run's table: the shard slots, the notes
// and the bottleneck; no CPU, memory, network bytes or submission figures
// (the simulator measures none).
func writeSimLines(w io.Writer, r *Result) {
	fmt.Fprintf(w, "shard slots in the window: %d, %d without a canonical block, %d blocks full (%d transactions)\n",
		r.ShardSlots, r.EmptySlots, r.FullBlocks, params.MaxShardTransactions)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "simulator trace hash: %s\n", r.SimTrace)
	fmt.Fprintf(w, "bottleneck (protocol level): %s\n", r.Bottleneck)
}
