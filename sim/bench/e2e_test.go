package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestRunEndToEnd runs a short benchmark on real processes (2 beacon
// nodes, 1 shard node serving 8 shards) and checks that the load was
// offered, accepted and included, that every stage was tracked, and that
// the resources were read. The binary is $SHARDLAB_BIN or built from
// ./cmd/shardlab. About a minute of real processes, so it runs only with
// SHARDLAB_BENCH_E2E=1 (make bench-e2e), not in make test.
func TestRunEndToEnd(t *testing.T) {
	if os.Getenv("SHARDLAB_BENCH_E2E") == "" || testing.Short() {
		t.Skip("end-to-end benchmark on real processes (about a minute): set SHARDLAB_BENCH_E2E=1 (make bench-e2e)")
	}
	bin := os.Getenv("SHARDLAB_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "shardlab")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/shardlab/shardlab/cmd/shardlab").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	cfg := DefaultConfig()
	cfg.Testnet.Binary = bin
	cfg.Testnet.Dir = filepath.Join(t.TempDir(), "tn")
	cfg.Testnet.BasePort = 0
	cfg.Testnet.BeaconNodes, cfg.Testnet.ShardNodes = 2, 1
	cfg.Rate = 100
	cfg.Warmup, cfg.Duration, cfg.Drain = 4*time.Second, 10*time.Second, 20*time.Second
	var progressed bool
	cfg.Progress = func(Progress) { progressed = true }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Counts
	if c.Offered < 800 || c.Accepted < c.Offered*9/10 || c.Included < c.Accepted*9/10 {
		t.Errorf("counts %+v for 10 s at 100 tx/s", c)
	}
	if r.Latency.Inclusion.N == 0 || r.Latency.Inclusion.P50 <= 0 || r.Latency.Inclusion.P99 > 10 {
		t.Errorf("inclusion latency %+v", r.Latency.Inclusion)
	}
	if r.Cap != 4096 || r.ShardSlots == 0 || len(r.Timeline) < 14 || !progressed {
		t.Errorf("cap %v, shard slots %d, timeline %d s, progress %v", r.Cap, r.ShardSlots, len(r.Timeline), progressed)
	}
	if len(r.Processes) != 3 || r.CPUSeconds <= 0 || r.NetBytes == 0 || r.Processes[0].MaxRSS == 0 {
		t.Errorf("resources: %d processes, %.2f CPU s, %d net bytes, %+v", len(r.Processes), r.CPUSeconds, r.NetBytes, r.Processes)
	}
	t.Logf("included %.1f tx/s, inclusion p50 %.2fs, bottleneck %s", r.Rates.Included, r.Latency.Inclusion.P50, r.Bottleneck)
}
