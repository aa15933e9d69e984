package bench

import (
	"context"
	"testing"
	"time"
)

// TestRunSimClaimsBelowEightShards runs the sweep's points below the
// preset's SLOTS_PER_EPOCH (FitShards: 2 and 4 shards with SLOTS_PER_EPOCH
// 2 and 4) at 90% of their cap, half cross-shard, as `bench throughput
// --engine sim --shards 1,2,4,8,16 --cap-fraction 0.9` does: every
// cross-shard transfer of the window is claimed within the drain. Before
// the relayer paged past claims it had just published (shard/handler
// dueReceipts) and MAX_SHARD_CLAIMS became 1,024, none was: the warm-up's
// receipts alone took longer than the drain to claim.
func TestRunSimClaimsBelowEightShards(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates about 70 s of a 2- and a 4-shard network (10 to 20 s)")
	}
	for _, tc := range []struct {
		name   string
		shards uint64
		spe    uint64
	}{
		{"2 shards", 2, 2},
		{"4 shards", 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if _, err := FitShards(&cfg, tc.shards, t.TempDir()); err != nil {
				t.Fatal(err)
			}
			cfg.Rate, cfg.CapFraction = 0, 0.9
			cfg.Warmup, cfg.Duration, cfg.Drain = 8*time.Second, 8*time.Second, 80*time.Second
			r, err := RunSim(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Point.SlotsPerEpoch != tc.spe {
				t.Fatalf("SLOTS_PER_EPOCH %d, want %d", r.Point.SlotsPerEpoch, tc.spe)
			}
			c := r.Counts
			if c.CrossShard == 0 || c.Included != c.Offered {
				t.Fatalf("counts %+v: want every offered transaction included, some cross-shard", c)
			}
			if c.Claimed != c.CrossShard {
				t.Fatalf("claimed %d of the window's %d cross-shard transfers within the %v drain (claim p50 %.1fs)",
					c.Claimed, c.CrossShard, cfg.Drain, r.Latency.Claim.P50)
			}
		})
	}
}
