package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/corebench"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/shard/shardbench"
)

const categoryBench = "Benchmark"

func init() { register(benchCommand) }

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure shardlab's performance",
		Subcommands: []*cli.Command{
			benchCoreCommand(),
			benchThroughputCommand(),
			benchReportCommand(),
		},
	}
}

func benchCoreCommand() *cli.Command {
	def := corebench.DefaultOptions()
	sdef := shardbench.DefaultOptions()
	return &cli.Command{
		Name:  "core",
		Usage: "benchmark the beacon core (shuffle, epoch transition, state root, block processing) and the shard layer",
		Description: "Measures, as the median of --runs runs with a baseline from the same process:\n" +
			"  shuffle     whole-list shuffle of --shuffle-size indices (90 rounds) vs a plain single-pass shuffle\n" +
			"  epoch       process_epoch with --validators validators and full participation (mainnet config)\n" +
			"  state_root  hash_tree_root after one slot, incremental vs a full rehash\n" +
			"  block       process_block with --attestations full-committee attestations, signatures\n" +
			"              included, vs the same BLS checks alone (the overhead target), batched and skipped\n" +
			"Building the fixtures (interop keys for every validator, signed attestations) takes a while.\n" +
			"Then the shard layer (--only shard runs just these), on one core (GOMAXPROCS=1), minimal config\n" +
			"with the shard fork and 64 validators:\n" +
			"  shard_exec    a block of --shard-txs signed transfers (a quarter cross-shard) over --shard-accounts\n" +
			"                accounts: execute + state root + receipts root, vs ed25519.Verify of the same messages\n" +
			"                alone (target: rate >= 80% of it); also signatures skipped, the roots alone,\n" +
			"                and the whole core.ProcessBlock (header checks and proposer BLS signature added)\n" +
			"  claim_verify  one receipt claim through a crosslink chain of 1 and of 4 (per claim, in a block of\n" +
			"                --claims claims)\n" +
			"  fraud_proof   build and verify (BLS included) a fraud proof against a block of --fraud-txs\n" +
			"                transfers, vs re-executing it on a full state; proof size in bytes",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "runs", Usage: "measured runs per benchmark (the median is reported)", Value: def.Runs, Category: categoryBench},
			&cli.Uint64Flag{Name: "validators", Usage: "validators of the epoch, state-root and block fixtures", Value: def.Validators, Category: categoryBench},
			&cli.UintFlag{Name: "shuffle-size", Usage: "list length of the shuffle benchmark", Value: uint(def.ShuffleN), Category: categoryBench},
			&cli.IntFlag{Name: "attestations", Usage: "attestations in the block benchmark", Value: def.Attestations, Category: categoryBench},
			&cli.IntFlag{Name: "shard-txs", Usage: "transfers in the shard_exec block", Value: sdef.Transfers, Category: categoryBench},
			&cli.Uint64Flag{Name: "shard-accounts", Usage: "SHARD_ACCOUNTS of the shard benchmarks", Value: sdef.Accounts, Category: categoryBench},
			&cli.IntFlag{Name: "claims", Usage: "claims in the claim_verify block (times are per claim)", Value: sdef.Claims, Category: categoryBench},
			&cli.IntFlag{Name: "fraud-txs", Usage: "transfers in the block the fraud proof convicts", Value: sdef.FraudTransfers, Category: categoryBench},
			&cli.StringFlag{Name: "only", Usage: "run only the benchmarks whose name starts with this (shuffle, epoch, state_root, block, shard_exec, claim_verify, fraud_proof; shard: all the shard ones)", Category: categoryBench},
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
	sopts := shardbench.DefaultOptions()
	sopts.Runs = opts.Runs
	sopts.Transfers = c.Int("shard-txs")
	sopts.Accounts = c.Uint64("shard-accounts")
	sopts.Claims = c.Int("claims")
	sopts.FraudTransfers = c.Int("fraud-txs")
	sopts.Only = opts.Only
	for _, n := range []struct {
		flag   string
		v, max int
	}{{"shard-txs", sopts.Transfers, params.MaxShardTransactions}, {"fraud-txs", sopts.FraudTransfers, params.MaxShardTransactions}, {"claims", sopts.Claims, params.MaxShardClaims}} {
		if n.v < 1 || n.v > n.max {
			return cli.Exit(fmt.Sprintf("bench core: --%s must be between 1 and %d", n.flag, n.max), 2)
		}
	}
	if sopts.Accounts < 2 || sopts.Accounts > 1<<params.MaxShardAccountsLog2 {
		return cli.Exit(fmt.Sprintf("bench core: --shard-accounts must be between 2 and 2^%d", params.MaxShardAccountsLog2), 2)
	}
	out := c.App.Writer
	if !c.Bool("json") {
		opts.Progress = func(msg string) { fmt.Fprintf(c.App.ErrWriter, "bench core: %s\n", msg) }
		sopts.Progress = opts.Progress
	}
	var results []shardbench.Result
	if opts.Only != shardbench.Group {
		core, err := corebench.Run(opts)
		if err != nil {
			return cli.Exit(fmt.Sprintf("bench core: %v", err), 1)
		}
		for _, r := range core {
			results = append(results, shardbench.Result{Result: r})
		}
	}
	shard, err := shardbench.Run(sopts)
	if err != nil {
		return cli.Exit(fmt.Sprintf("bench core: %v", err), 1)
	}
	results = append(results, shard...)
	if len(results) == 0 {
		return cli.Exit(fmt.Sprintf("bench core: --only %q selects no benchmark", opts.Only), 2)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	printBenchResults(out, results)
	return nil
}

func printBenchResults(w io.Writer, rs []shardbench.Result) {
	ms := func(d time.Duration) string {
		if d < 100*time.Microsecond {
			return fmt.Sprintf("%.2f µs", float64(d)/float64(time.Microsecond))
		}
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	width := 14
	for _, r := range rs {
		width = max(width, len(r.Name))
	}
	indent := strings.Repeat(" ", width+1)
	for _, r := range rs {
		fmt.Fprintf(w, "%-*s median %-11s (min %s, max %s, %d runs)\n", width, r.Name, ms(r.Median), ms(r.Min), ms(r.Max), r.Runs)
		fmt.Fprintf(w, "%s%s\n", indent, r.Detail)
		if r.BaselineName != "" {
			fmt.Fprintf(w, "%svs %s: %s, ratio %.3f\n", indent, r.BaselineName, ms(r.Baseline), r.Ratio)
		}
		if len(r.Extra) > 0 {
			keys := make([]string, 0, len(r.Extra))
			for k := range r.Extra {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + " " + formatExtra(r.Extra[k])
			}
			fmt.Fprintf(w, "%s%s\n", indent, strings.Join(parts, ", "))
		}
		if r.Target != "" {
			mark := "met"
			if !r.TargetMet {
				mark = "NOT met"
			}
			fmt.Fprintf(w, "%starget %s: %s\n", indent, r.Target, mark)
		}
	}
}

// formatExtra prints whole numbers and large values without decimals, small
// ones with three significant digits.
func formatExtra(v float64) string {
	if v == math.Trunc(v) || math.Abs(v) >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
