package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/sim/scenario"
)

// The testnet engine of `shardlab scenario run` (--engine testnet): the
// scenario on real processes of this binary (sim/scenario/testnet.go).

var (
	engineFlag = &cli.StringFlag{Name: "engine", Value: scenario.EngineSim, Category: categorySimulation,
		Usage: "where the scenario runs: sim (the deterministic simulator) or testnet (real beacon and shard node processes of this binary on 127.0.0.1, " +
			"started with --debug-api; network.nodes beacon nodes, 2 shard nodes and 1 fisherman; minutes of wall time)"}
	testnetDirFlag = &cli.StringFlag{Name: "testnet-dir", Value: scenario.DefaultTestnetOptions().Dir, Category: categorySimulation,
		Usage: "directory of the testnet engine's processes (wiped at start; logs in DIR/<node>/node.log)"}
	testnetKeepFlag = &cli.BoolFlag{Name: "keep", Category: categorySimulation,
		Usage: "testnet engine: leave the processes running after the run (stop them with shardlab testnet down --dir DIR)"}
)

// runOnEngine runs sc on the engine of o.
func runOnEngine(ctx context.Context, c *cli.Context, o runOptions, sc *scenario.Scenario, opts scenario.Options) (*scenario.Report, error) {
	switch o.engine {
	case "", scenario.EngineSim:
		return scenario.Run(ctx, sc, opts)
	case scenario.EngineTestnet:
		bin, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the shardlab binary: %w", err)
		}
		to := scenario.DefaultTestnetOptions()
		to.Binary, to.Keep = bin, o.keep
		if o.testnetDir != "" {
			to.Dir = o.testnetDir
		}
		if opts.Progress != nil {
			to.TestnetOut = opts.Progress
		}
		if opts.OnSlot != nil { // the testnet prints its own lines: no in-place progress line
			opts.OnSlot = func(slot, end uint64) {
				fmt.Fprintf(c.App.ErrWriter, "\r\033[Kscenario %s on the testnet: slot %d/%d", sc.Name, slot+1, end)
			}
		}
		return scenario.RunTestnet(ctx, sc, opts, to)
	}
	return nil, fmt.Errorf("--engine %q: expected %s or %s", o.engine, scenario.EngineSim, scenario.EngineTestnet)
}

// engineReplay is the replay command's engine flags.
func engineReplay(o runOptions) string {
	if o.engine == scenario.EngineTestnet {
		return " --engine testnet"
	}
	return ""
}
