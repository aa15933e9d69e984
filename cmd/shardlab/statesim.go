package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/sim/statesim"
)

// Flag categories of the statesim command (output flags use categoryOutput).
const (
	categoryChain      = "Chain"
	categorySimulation = "Simulation"
	categoryShards     = "Shard layer"
)

func init() { register(statesimCommand) }

// statesimCommand runs sim/statesim: a whole beacon chain in one process.
func statesimCommand() *cli.Command {
	return &cli.Command{
		Name:      "statesim",
		Usage:     "run a beacon chain in one process, without a network, and report every epoch",
		UsageText: "shardlab statesim [--preset minimal|mainnet | --config FILE] [--validators N] [--epochs N] [--participation P] [--seed N] [--shards N [--tx-rate R] [--cross-shard F] [--fraud-at SLOT]] [--json] [--out DIR]",
		Description: `Builds an interop genesis (validator i holds interop key i), then at every slot
the proposer builds a block from the attestation pool, the block is applied with
every signature verified, and each committee of the slot attests, each member
with probability --participation. Every slot has a block. One line per epoch
reports the justified and finalized epochs after the epoch's processing, the
shards whose crosslink it updated, the previous-epoch target participation,
and the time per slot and per epoch. The same flags and --seed always give the
same chain; only the timings vary.

With --out DIR the run is also written as an official v0.8.3 sanity/blocks test
case (pre.ssz, blocks_<i>.ssz, post.ssz, meta.yaml), replayable by any v0.8.3
client's test runner.

With --shards N the chain runs shardlab's shard layer from genesis with
SHARD_COUNT = N: beacon blocks are shard-fork blocks carrying fraud proofs, and
one node runs the production shard handler for every shard (the code shard
nodes run): at every slot each shard's proposer builds a block on its shard's
head from the transaction pool and the relayer's receipt claims, and
attesters vote the data roots the handler serves for their shard. --tx-rate R
transactions per second of simulated time are spread over the shards, a
fraction --cross-shard of them sending to another shard (claimed there once
their crosslink has been in the beacon state for SHARD_CHALLENGE_WINDOW
epochs). --fraud-at SLOT makes a
shard proposer publish a block with a wrong state root at SLOT and its shard's
next crosslink committee crosslink it: the handler's fisherman rejects the
block and its fraud proofs slash them and roll the crosslink back. Each epoch adds the shard layer's lines (heads,
crosslinked state roots, receipts, claim latency, the conservation check), and
the run ends with a summary; a broken conservation fails the run. With --out a
shard run also writes config.yaml and shards/<n>/ (genesis, blocks, post-state)
and meta.yaml says fork: shard.`,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:     "preset",
				Usage:    "chain preset: minimal or mainnet",
				Value:    "minimal",
				Category: categoryChain,
			},
			&cli.PathFlag{
				Name:      "config",
				Usage:     "consensus-specs style YAML chain config (PRESET_BASE picks the preset it amends); replaces --preset",
				TakesFile: true,
				Category:  categoryChain,
			},
			&cli.Uint64Flag{
				Name:     "validators",
				Usage:    "number of genesis validators, at least the config's MIN_GENESIS_ACTIVE_VALIDATOR_COUNT (0: exactly that many, 64 for minimal, 65536 for mainnet)",
				Value:    0,
				Category: categorySimulation,
			},
			&cli.Uint64Flag{
				Name:     "epochs",
				Usage:    "number of epochs to run",
				Value:    8,
				Category: categorySimulation,
			},
			&cli.Float64Flag{
				Name:     "participation",
				Usage:    "probability in (0, 1] that a committee member attests at its slot",
				Value:    1,
				Category: categorySimulation,
			},
			&cli.Uint64Flag{
				Name:     "seed",
				Usage:    "seed of the participation draws and the shard workload; the same seed gives the same chain",
				Value:    1,
				Category: categorySimulation,
			},
			&cli.BoolFlag{
				Name:     "fast-genesis",
				Usage:    "build genesis without deposit signatures (much faster for large registries; the genesis deposit root differs)",
				Category: categorySimulation,
			},
			&cli.Uint64Flag{
				Name:     "shards",
				Usage:    "run the shard layer with this many shards (SHARD_COUNT; at least SLOTS_PER_EPOCH, at most 1024, at most --validators); 0: a phase 0 chain",
				Category: categoryShards,
			},
			&cli.Float64Flag{
				Name:     "tx-rate",
				Usage:    "shard transactions per second of simulated time, over all shards (needs --shards)",
				Category: categoryShards,
			},
			&cli.Float64Flag{
				Name:     "cross-shard",
				Usage:    "fraction in [0, 1] of the transactions that send to another shard (needs --shards)",
				Category: categoryShards,
			},
			&cli.Uint64Flag{
				Name:     "fraud-at",
				Usage:    "slot at which a shard proposer publishes a block with a wrong state root, crosslinked by its complicit committee (needs --shards)",
				Category: categoryShards,
			},
			&cli.BoolFlag{
				Name:     "json",
				Usage:    "print one JSON object per epoch (JSON lines) instead of text; timings are in the \"timing\" field",
				Category: categoryOutput,
			},
			&cli.PathFlag{
				Name:     "out",
				Usage:    "write the run as a v0.8.3 sanity/blocks test case into this directory (must not exist or be empty)",
				Category: categoryOutput,
			},
		},
		Action: runStatesim,
	}
}

// statesimConfig turns the flags into a simulation config. Its errors are
// usage errors and name the flag at fault.
func statesimConfig(c *cli.Context) (statesim.Config, error) {
	var chain *params.Config
	var err error
	if c.IsSet("config") {
		if c.IsSet("preset") {
			return statesim.Config{}, fmt.Errorf("--preset and --config exclude each other: set PRESET_BASE in the config file")
		}
		if chain, err = loadConfigFile(c.Path("config")); err != nil {
			return statesim.Config{}, fmt.Errorf("--config: %w", err)
		}
	} else if chain, err = params.Preset(c.String("preset")); err != nil {
		return statesim.Config{}, fmt.Errorf("--preset: %w", err)
	}
	cfg := statesim.Config{
		Chain:                 chain,
		Validators:            c.Uint64("validators"),
		Epochs:                c.Uint64("epochs"),
		Participation:         c.Float64("participation"),
		Seed:                  c.Uint64("seed"),
		SkipDepositSignatures: c.Bool("fast-genesis"),
		OutDir:                c.Path("out"),
		Shards:                c.Uint64("shards"),
		TxRate:                c.Float64("tx-rate"),
		CrossShard:            c.Float64("cross-shard"),
		FraudAt:               c.Uint64("fraud-at"),
	}
	if cfg.Validators == 0 {
		cfg.Validators = chain.MinGenesisActiveValidatorCount
	}
	if p := cfg.Participation; math.IsNaN(p) || p <= 0 || p > 1 {
		return cfg, fmt.Errorf("--participation %v is outside (0, 1]", p)
	}
	if cfg.Validators < chain.MinGenesisActiveValidatorCount {
		return cfg, fmt.Errorf("--validators %d is below MIN_GENESIS_ACTIVE_VALIDATOR_COUNT of the %s config: use at least %d",
			cfg.Validators, chain.Name, chain.MinGenesisActiveValidatorCount)
	}
	if cfg.Epochs == 0 {
		return cfg, fmt.Errorf("--epochs must be at least 1")
	}
	if err := shardFlags(c, chain, &cfg); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// shardFlags checks the shard-layer flags against the chain config.
func shardFlags(c *cli.Context, chain *params.Config, cfg *statesim.Config) error {
	if cfg.Shards == 0 {
		for _, name := range []string{"shards", "tx-rate", "cross-shard", "fraud-at"} {
			if c.IsSet(name) && name != "shards" {
				return fmt.Errorf("--%s needs --shards", name)
			}
		}
		if c.IsSet("shards") {
			return fmt.Errorf("--shards must be at least 1 (leave it out for a phase 0 chain)")
		}
		return nil
	}
	switch spe := chain.SlotsPerEpoch; {
	case cfg.Shards < spe:
		return fmt.Errorf("--shards %d is below SLOTS_PER_EPOCH of the %s config: use at least %d", cfg.Shards, chain.Name, spe)
	case cfg.Shards > params.MaxShards:
		return fmt.Errorf("--shards %d is above the shard fork's limit: use at most %d", cfg.Shards, params.MaxShards)
	case cfg.Validators < cfg.Shards:
		return fmt.Errorf("--validators %d is below --shards %d: every shard committee needs a member", cfg.Validators, cfg.Shards)
	}
	if r := cfg.TxRate; math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return fmt.Errorf("--tx-rate %v must be a finite number >= 0", r)
	}
	if f := cfg.CrossShard; math.IsNaN(f) || f < 0 || f > 1 {
		return fmt.Errorf("--cross-shard %v is outside [0, 1]", f)
	}
	if c.IsSet("fraud-at") {
		if last := cfg.Epochs*chain.SlotsPerEpoch - 1; cfg.FraudAt == 0 || cfg.FraudAt > last {
			return fmt.Errorf("--fraud-at %d must be a slot from 1 to the run's last, %d", cfg.FraudAt, last)
		}
	}
	return nil
}

func runStatesim(c *cli.Context) error {
	cfg, err := statesimConfig(c)
	if err != nil {
		return cli.Exit("statesim: "+err.Error(), 2)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := []any{"config", cfg.Chain.Name, "validators", cfg.Validators,
		"epochs", cfg.Epochs, "participation", cfg.Participation, "seed", cfg.Seed}
	if cfg.Shards > 0 {
		args = append(args, "shards", cfg.Shards, "tx_rate", cfg.TxRate, "cross_shard", cfg.CrossShard, "fraud_at", cfg.FraudAt)
	}
	slog.Info("starting simulation", args...)
	asJSON := c.Bool("json")
	res, err := statesim.Run(ctx, cfg, statesimPrinter(c.App.Writer, asJSON))
	if err != nil {
		return cli.Exit("statesim: "+err.Error(), 1)
	}
	if res.Shard != nil {
		if err := printShardSummary(c.App.Writer, &res.Shard.Summary, asJSON); err != nil {
			return cli.Exit("statesim: "+err.Error(), 1)
		}
	}
	slog.Info("simulation done", "blocks", res.Blocks, "root", res.HeadRoot,
		"genesis_ms", res.GenesisTime.Milliseconds(), "run_ms", res.RunTime.Milliseconds())
	if cfg.OutDir != "" {
		slog.Info("wrote sanity/blocks test case", "dir", cfg.OutDir, "blocks", res.Blocks)
	}
	return nil
}

// statesimPrinter returns the per-epoch callback printing reports as text
// lines or JSON lines.
func statesimPrinter(w io.Writer, asJSON bool) func(statesim.EpochReport) error {
	if asJSON {
		enc := json.NewEncoder(w)
		return func(r statesim.EpochReport) error {
			if err := enc.Encode(r); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
			return nil
		}
	}
	return func(r statesim.EpochReport) error {
		if _, err := fmt.Fprintln(w, r); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
}

// printShardSummary prints a shard run's summary: text lines, or one JSON
// line {"summary": ...}.
func printShardSummary(w io.Writer, s *statesim.ShardSummary, asJSON bool) error {
	if asJSON {
		if err := json.NewEncoder(w).Encode(struct {
			Summary *statesim.ShardSummary `json:"summary"`
		}{s}); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
		return nil
	}
	if _, err := fmt.Fprintln(w, s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
