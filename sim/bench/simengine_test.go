package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// simTestConfig is a small sim run: 2 shards (SLOTS_PER_EPOCH 2), 100
// tx/s, half cross-shard, an 8-second window.
func simTestConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	if _, err := FitShards(&cfg, 2, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	cfg.Testnet.ShardNodes = 2
	cfg.Rate, cfg.Warmup, cfg.Duration, cfg.Drain = 100, 4*time.Second, 8*time.Second, 24*time.Second
	return cfg
}

// TestRunSim drives the simulator with the benchmark's load: every
// offered transaction of the window is included at the offered rate within
// a few slots, crosslinked and (cross-shard) partly claimed; the run is
// labelled as the simulator's, and the same config gives the same result.
func TestRunSim(t *testing.T) {
	cfg := simTestConfig(t)
	r, err := RunSim(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Point.Engine != EngineSim || r.Point.Shards != 2 || r.Point.SlotsPerEpoch != 2 || r.Cap != 1024 || r.SimTrace == "" {
		t.Fatalf("point %+v cap %v trace %q", r.Point, r.Cap, r.SimTrace)
	}
	if r.Counts.Offered != 800 || r.Counts.Included != r.Counts.Offered || r.Rates.Included < 99 {
		t.Fatalf("counts %+v rates %+v", r.Counts, r.Rates)
	}
	if l := r.Latency.Inclusion; l.P50 <= 0 || l.P99 > 3*2 {
		t.Fatalf("inclusion latency %+v, want within 3 slots", l)
	}
	if r.Counts.Crosslinked == 0 || r.Latency.Crosslink.P50 <= r.Latency.Inclusion.P50 || r.Counts.Claimed == 0 {
		t.Fatalf("crosslinked %d (p50 %.1fs), claimed %d", r.Counts.Crosslinked, r.Latency.Crosslink.P50, r.Counts.Claimed)
	}
	if r.CPUSeconds != 0 || len(r.Processes) != 0 {
		t.Fatalf("the simulator reported CPU: %v %v", r.CPUSeconds, r.Processes)
	}
	again, err := RunSim(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if again.SimTrace != r.SimTrace || again.Counts != r.Counts || again.Latency.Claim.P99 != r.Latency.Claim.P99 {
		t.Fatalf("not deterministic: %s %+v vs %s %+v", again.SimTrace, again.Counts, r.SimTrace, r.Counts)
	}
}

// TestRunSimRefuses: the wall-clock rate controls are refused on the
// simulator.
func TestRunSimRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"find-max", func(c *Config) { c.FindMax = true }},
		{"ramp", func(c *Config) { c.Ramp = time.Second }},
		{"bursts", func(c *Config) { c.BurstFactor, c.BurstEvery, c.BurstLength = 2, 10*time.Second, time.Second }},
		{"cap fraction with find-max", func(c *Config) { c.CapFraction, c.FindMax = 0.5, true }},
		{"cap fraction out of range", func(c *Config) { c.CapFraction = 5 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := simTestConfig(t)
			tc.set(&cfg)
			if _, err := RunSim(context.Background(), cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// TestRunSimCapFraction: a cap fraction offers that share of the point's
// cap (2 shards, 2 s slots: 1,024 tx/s).
func TestRunSimCapFraction(t *testing.T) {
	cfg := simTestConfig(t)
	cfg.Rate, cfg.CapFraction = 0, 0.25
	cfg.Drain = 0
	r, err := RunSim(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.HeldRate != 256 || r.Counts.Offered != 2048 {
		t.Fatalf("held %v, offered %d; want 256 tx/s, 2048 in 8 s", r.HeldRate, r.Counts.Offered)
	}
}

// TestRunSimCPUProfile: with a CPU profile directory the simulator's run
// writes its own profile there (bench.pprof, gzipped pprof) and lists it.
func TestRunSimCPUProfile(t *testing.T) {
	cfg := simTestConfig(t)
	cfg.Drain = 0
	cfg.CPUProfile = filepath.Join(t.TempDir(), "prof")
	r, err := RunSim(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(cfg.CPUProfile, "bench.pprof")
	if len(r.Profiles) != 1 || r.Profiles[0].Name != "bench" || r.Profiles[0].Path != want {
		t.Fatalf("profiles %+v notes %q, want %s", r.Profiles, r.Notes, want)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s: %d bytes, not a gzipped pprof profile", want, len(b))
	}
}
