package bench

import (
	"fmt"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/shardlab/shardlab/beacon/params"
)

// FitShards sets cfg up to measure shards loaded shards. A preset's
// genesis needs SHARD_COUNT >= SLOTS_PER_EPOCH (every shard gets a
// crosslink committee each epoch), and SLOTS_PER_EPOCH is at least 2. So
// below the preset's SLOTS_PER_EPOCH the chain gets its own config,
// written into dir: the preset with SLOTS_PER_EPOCH lowered to the largest
// power of two at most max(shards, 2), and SHARD_COUNT = max(shards, 2);
// with 1 shard the chain has 2 and the load goes to shard 0 only
// (LoadShards), so the cap counts 1 shard. At or above SLOTS_PER_EPOCH
// the preset is used as it is. It returns the config file written ("" for
// none).
func FitShards(cfg *Config, shards uint64, dir string) (string, error) {
	preset, err := params.Preset(cfg.Testnet.Preset)
	if err != nil {
		return "", fmt.Errorf("fit shards: %w", err)
	}
	cfg.Testnet.Shards, cfg.LoadShards, cfg.Testnet.ChainConfig = shards, 0, ""
	if shards == 0 || shards >= preset.SlotsPerEpoch {
		return "", nil
	}
	chain := max(shards, 2)
	spe := uint64(1) << (bits.Len64(chain) - 1)
	c := preset.Copy()
	c.SlotsPerEpoch, c.ShardCount = spe, chain
	if err := c.WithShards().Validate(); err != nil {
		return "", fmt.Errorf("fit shards: %d shards with SLOTS_PER_EPOCH %d: %w", chain, spe, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("fit shards: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("chain-%s-slots-per-epoch-%d.yaml", cfg.Testnet.Preset, spe))
	body := fmt.Sprintf("# %d shards on the %s preset: SLOTS_PER_EPOCH lowered from %d so that SHARD_COUNT >= SLOTS_PER_EPOCH\n"+
		"PRESET_BASE: %s\nSLOTS_PER_EPOCH: %d\n", shards, cfg.Testnet.Preset, preset.SlotsPerEpoch, cfg.Testnet.Preset, spe)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		return "", fmt.Errorf("fit shards: %w", err)
	}
	cfg.Testnet.Shards, cfg.Testnet.ChainConfig = chain, path
	if chain > shards {
		cfg.LoadShards = shards
	}
	return path, nil
}
