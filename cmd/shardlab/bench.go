package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/corebench"
	"github.com/shardlab/shardlab/beacon/params"
)

const categoryBench = "Benchmark"

func init() { register(benchCommand) }

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure shardlab's performance",
		Subcommands: []*cli.Command{
			benchCoreCommand(),
		},
	}
}

func benchCoreCommand() *cli.Command {
	def := corebench.DefaultOptions()
	return &cli.Command{
		Name:  "core",
		Usage: "benchmark the beacon core: shuffle, epoch transition, state root, block processing",
		Description: "Measures, as the median of --runs runs with a baseline from the same process:\n" +
			"  shuffle     whole-list shuffle of --shuffle-size indices (90 rounds) vs a plain single-pass shuffle\n" +
			"  epoch       process_epoch with --validators validators and full participation (mainnet config)\n" +
			"  state_root  hash_tree_root after one slot, incremental vs a full rehash\n" +
			"  block       process_block with --attestations full-committee attestations, signatures\n" +
			"              included, vs the same BLS checks alone (the overhead target), batched and skipped\n" +
			"Building the fixtures (interop keys for every validator, signed attestations) takes a while.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "runs", Usage: "measured runs per benchmark (the median is reported)", Value: def.Runs, Category: categoryBench},
			&cli.Uint64Flag{Name: "validators", Usage: "validators of the epoch, state-root and block fixtures", Value: def.Validators, Category: categoryBench},
			&cli.UintFlag{Name: "shuffle-size", Usage: "list length of the shuffle benchmark", Value: uint(def.ShuffleN), Category: categoryBench},
			&cli.IntFlag{Name: "attestations", Usage: "attestations in the block benchmark", Value: def.Attestations, Category: categoryBench},
			&cli.StringFlag{Name: "only", Usage: "run only the benchmarks whose name starts with this (shuffle, epoch, state_root, block)", Category: categoryBench},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON", Category: categoryOutput},
		},
		Action: runBenchCore,
	}
}

func runBenchCore(c *cli.Context) error {
	opts := corebench.Options{
		Cfg:          params.Mainnet(),
		Runs:         c.Int("runs"),
		Validators:   c.Uint64("validators"),
		ShuffleN:     uint32(c.Uint("shuffle-size")),
		Attestations: c.Int("attestations"),
		Only:         c.String("only"),
	}
	if opts.Runs < 1 {
		return cli.Exit("bench core: --runs must be at least 1", 2)
	}
	if opts.Validators < opts.Cfg.MinGenesisActiveValidatorCount {
		// The benchmarks build states of the mainnet shape; below the
		// genesis minimum they use a copy with the minimum lowered.
		opts.Cfg.MinGenesisActiveValidatorCount = opts.Validators
	}
	if c.Uint("shuffle-size") > 1<<32-1 || opts.ShuffleN < 1 {
		return cli.Exit("bench core: --shuffle-size must be between 1 and 2^32-1", 2)
	}
	if opts.Attestations < 1 || opts.Attestations > int(opts.Cfg.MaxAttestations) {
		return cli.Exit(fmt.Sprintf("bench core: --attestations must be between 1 and %d", opts.Cfg.MaxAttestations), 2)
	}
	out := c.App.Writer
	if !c.Bool("json") {
		opts.Progress = func(msg string) { fmt.Fprintf(c.App.ErrWriter, "bench core: %s\n", msg) }
	}
	results, err := corebench.Run(opts)
	if err != nil {
		return cli.Exit(fmt.Sprintf("bench core: %v", err), 1)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	printBenchResults(out, results)
	return nil
}

func printBenchResults(w io.Writer, rs []corebench.Result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	for _, r := range rs {
		fmt.Fprintf(w, "%-14s median %-11s (min %s, max %s, %d runs)\n", r.Name, ms(r.Median), ms(r.Min), ms(r.Max), r.Runs)
		fmt.Fprintf(w, "               %s\n", r.Detail)
		if r.BaselineName != "" {
			fmt.Fprintf(w, "               vs %s: %s, ratio %.3f\n", r.BaselineName, ms(r.Baseline), r.Ratio)
		}
		if r.Target != "" {
			mark := "met"
			if !r.TargetMet {
				mark = "NOT met"
			}
			fmt.Fprintf(w, "               target %s: %s\n", r.Target, mark)
		}
	}
}
