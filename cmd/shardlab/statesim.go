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
)

func init() { register(statesimCommand) }

// statesimCommand runs sim/statesim: a whole beacon chain in one process.
func statesimCommand() *cli.Command {
	return &cli.Command{
		Name:      "statesim",
		Usage:     "run a beacon chain in one process, without a network, and report every epoch",
		UsageText: "shardlab statesim [--preset minimal|mainnet | --config FILE] [--validators N] [--epochs N] [--participation P] [--seed N] [--json] [--out DIR]",
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
client's test runner.`,
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
				Usage:    "seed of the participation draws; the same seed gives the same chain",
				Value:    1,
				Category: categorySimulation,
			},
			&cli.BoolFlag{
				Name:     "fast-genesis",
				Usage:    "build genesis without deposit signatures (much faster for large registries; the genesis deposit root differs)",
				Category: categorySimulation,
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
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func runStatesim(c *cli.Context) error {
	cfg, err := statesimConfig(c)
	if err != nil {
		return cli.Exit("statesim: "+err.Error(), 2)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	slog.Info("starting simulation", "config", cfg.Chain.Name, "validators", cfg.Validators,
		"epochs", cfg.Epochs, "participation", cfg.Participation, "seed", cfg.Seed)
	res, err := statesim.Run(ctx, cfg, statesimPrinter(c.App.Writer, c.Bool("json")))
	if err != nil {
		return cli.Exit("statesim: "+err.Error(), 1)
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
