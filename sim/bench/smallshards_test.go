package bench

import (
	"os"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
)

// TestFitShards checks each sweep point's chain: below SLOTS_PER_EPOCH a
// config file lowering it, and at 1 shard a 2-shard chain with 1 loaded.
func TestFitShards(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		shards            uint64
		chain, load, spe  uint64
		configFileWritten bool
	}{
		{name: "1 shard", shards: 1, chain: 2, load: 1, spe: 2, configFileWritten: true},
		{name: "2 shards", shards: 2, chain: 2, spe: 2, configFileWritten: true},
		{name: "3 shards", shards: 3, chain: 3, spe: 2, configFileWritten: true},
		{name: "4 shards", shards: 4, chain: 4, spe: 4, configFileWritten: true},
		{name: "6 shards", shards: 6, chain: 6, spe: 4, configFileWritten: true},
		{name: "8 shards", shards: 8, chain: 8, spe: 8},
		{name: "16 shards", shards: 16, chain: 16, spe: 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			path, err := FitShards(&cfg, tc.shards, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Testnet.Shards != tc.chain || cfg.LoadShards != tc.load || (path != "") != tc.configFileWritten || cfg.Testnet.ChainConfig != path {
				t.Fatalf("chain %d load %d config %q, want %d %d written %v", cfg.Testnet.Shards, cfg.LoadShards, path, tc.chain, tc.load, tc.configFileWritten)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			spe := params.Minimal().SlotsPerEpoch
			if path != "" {
				raw, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				c, err := params.Parse(raw)
				if err != nil {
					t.Fatalf("parse %s: %v\n%s", path, err, raw)
				}
				spe = c.SlotsPerEpoch
				c.ShardCount = cfg.Testnet.Shards
				if err := c.WithShards().Validate(); err != nil {
					t.Fatalf("the written config with %d shards: %v", c.ShardCount, err)
				}
				if !strings.Contains(string(raw), "PRESET_BASE: minimal") {
					t.Fatalf("config without its preset:\n%s", raw)
				}
			}
			if spe != tc.spe {
				t.Fatalf("SLOTS_PER_EPOCH %d, want %d", spe, tc.spe)
			}
		})
	}
	cfg := DefaultConfig()
	cfg.Testnet.Preset = "nonesuch"
	if _, err := FitShards(&cfg, 1, t.TempDir()); err == nil {
		t.Fatal("unknown preset accepted")
	}
}
