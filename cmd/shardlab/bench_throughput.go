package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/sim/bench"
	"github.com/shardlab/shardlab/sim/testnet"
)

const categoryLoad = "Load"

func benchThroughputCommand() *cli.Command {
	def := bench.DefaultConfig()
	tn := def.Testnet
	return &cli.Command{
		Name:  "throughput",
		Usage: "measure transactions per second and latency of a real-process testnet (one network per sweep point)",
		Description: "Starts a testnet (like `testnet up`), drives it with pre-signed transfers through the shard nodes'\n" +
			"batch route and follows each to its shard block, crosslink, finality and (cross-shard) claim.\n" +
			"Figures are over a window after the warm-up (docs/benchmarks.md). Lists in --shards, --cross-shard\n" +
			"and --slot-time make a sweep: one network per combination, with a scaling table.\n" +
			"Writes results.json, results.csv and report.html into --out.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "engine", Usage: "testnet (real processes) or sim (the deterministic simulator: protocol-level throughput and latency on virtual time, no CPU; fixed --rate only)", Value: bench.EngineTestnet, Category: categoryBench},
			&cli.StringFlag{Name: "shards", Usage: "SHARD_COUNT, or a comma-separated list to sweep", Value: strconv.FormatUint(tn.Shards, 10), Category: categoryBench},
			&cli.StringFlag{Name: "cross-shard", Usage: "fraction of cross-shard transfers, or a list to sweep", Value: "0.5", Category: categoryLoad},
			&cli.StringFlag{Name: "slot-time", Usage: "slot time in whole seconds (2 or 2s), or a list to sweep", Value: "2", Category: categoryBench},
			&cli.Float64Flag{Name: "rate", Usage: "offered transactions per second (find-max: the first rate tried; 0 an eighth of the cap)", Value: def.Rate, Category: categoryLoad},
			&cli.Float64Flag{Name: "cap-fraction", Usage: "offer this fraction of each point's protocol cap instead of --rate (e.g. 0.9 in a shard sweep)", Category: categoryLoad},
			&cli.DurationFlag{Name: "ramp", Usage: "raise the rate linearly from 0 over this long before the warm-up", Category: categoryLoad},
			&cli.BoolFlag{Name: "find-max", Usage: "search the highest sustainable rate, then measure it", Category: categoryLoad},
			&cli.DurationFlag{Name: "step", Usage: "find-max: how long each rate is tried (0: one epoch)", Category: categoryLoad},
			&cli.Float64Flag{Name: "step-factor", Usage: "find-max: the rate's growth per step", Value: def.StepFactor, Category: categoryLoad},
			&cli.DurationFlag{Name: "max-p99", Usage: "find-max: largest sustainable p99 submission-to-inclusion latency (0: 4 slots)", Category: categoryLoad},
			&cli.DurationFlag{Name: "warmup", Usage: "load before the measured window", Value: def.Warmup, Category: categoryLoad},
			&cli.DurationFlag{Name: "duration", Usage: "the measured window", Value: def.Duration, Category: categoryLoad},
			&cli.DurationFlag{Name: "drain", Usage: "longest follow-up after the load for crosslinks, finality and claims", Value: def.Drain, Category: categoryLoad},
			&cli.Uint64Flag{Name: "accounts", Usage: "sending accounts per shard (0: all SHARD_ACCOUNTS)", Category: categoryLoad},
			&cli.Float64Flag{Name: "zipf", Usage: "Zipf exponent (> 1) of the senders, account 0 the hottest (0: uniform)", Category: categoryLoad},
			&cli.DurationFlag{Name: "burst-every", Usage: "period of the bursts", Category: categoryLoad},
			&cli.DurationFlag{Name: "burst-length", Usage: "length of each burst", Category: categoryLoad},
			&cli.Float64Flag{Name: "burst-factor", Usage: "rate multiplier during a burst (0: no bursts)", Category: categoryLoad},
			&cli.IntFlag{Name: "lanes", Usage: "parallel submission connections", Value: def.Lanes, Category: categoryLoad},
			&cli.IntFlag{Name: "batch", Usage: "most transactions per batch request", Value: def.BatchSize, Category: categoryLoad},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the workload", Value: def.Workload.Seed, Category: categoryLoad},
			&cli.IntFlag{Name: "nodes", Usage: "beacon nodes", Value: tn.BeaconNodes, Category: categoryBench},
			&cli.IntFlag{Name: "shard-nodes", Usage: "shard nodes (at most one per shard)", Value: tn.ShardNodes, Category: categoryBench},
			&cli.Uint64Flag{Name: "validators", Usage: "validators of the genesis", Value: tn.Validators, Category: categoryBench},
			&cli.StringFlag{Name: "preset", Usage: "minimal or mainnet", Value: tn.Preset, Category: categoryBench},
			&cli.PathFlag{Name: "dir", Usage: "the testnet directory (wiped)", Value: tn.Dir, Category: categoryBench},
			&cli.IntFlag{Name: "base-port", Usage: "first port (0: free ports)", Value: tn.BasePort, Category: categoryBench},
			&cli.StringFlag{Name: "node-log-level", Usage: "the nodes' --log-level", Value: tn.LogLevel, Category: categoryBench},
			&cli.PathFlag{Name: "out", Usage: "directory of results.json, results.csv and report.html", Value: "bench-results", Category: categoryOutput},
			&cli.PathFlag{Name: "compare", Usage: "an earlier results.json to compare with", Category: categoryOutput},
			&cli.PathFlag{Name: "cpuprofile", Usage: "write CPU profiles of every node and of the benchmark over the measured window into this directory (one subdirectory per sweep point); the nodes serve pprof on 127.0.0.1. With --engine sim: the simulator's own profile of the whole run (bench.pprof)", Category: categoryOutput},
			&cli.BoolFlag{Name: "plain", Usage: "print progress as lines even on a terminal", Category: categoryOutput},
		},
		Action: runBenchThroughput,
	}
}

// parseList parses a comma-separated list with parse.
func parseList[T any](flag, s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for part := range strings.SplitSeq(s, ",") {
		v, err := parse(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("--%s %q: %w", flag, s, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseSlotTime(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// benchPoints turns the flags into one config per sweep point.
func benchPoints(c *cli.Context) ([]bench.Config, error) {
	shards, err := parseList("shards", c.String("shards"), func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) })
	if err != nil {
		return nil, err
	}
	cross, err := parseList("cross-shard", c.String("cross-shard"), func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	if err != nil {
		return nil, err
	}
	slots, err := parseList("slot-time", c.String("slot-time"), parseSlotTime)
	if err != nil {
		return nil, err
	}
	bin, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the shardlab binary: %w", err)
	}
	base := bench.DefaultConfig()
	base.Testnet.Binary = bin
	base.Testnet.Dir = c.Path("dir")
	base.Testnet.BeaconNodes = c.Int("nodes")
	base.Testnet.Validators = c.Uint64("validators")
	base.Testnet.Preset = c.String("preset")
	base.Testnet.BasePort = c.Int("base-port")
	base.Testnet.LogLevel = c.String("node-log-level")
	base.Rate = c.Float64("rate")
	base.CapFraction = c.Float64("cap-fraction")
	base.Ramp = c.Duration("ramp")
	base.FindMax = c.Bool("find-max")
	base.Step = c.Duration("step")
	base.StepFactor = c.Float64("step-factor")
	base.MaxP99 = c.Duration("max-p99")
	base.Warmup, base.Duration, base.Drain = c.Duration("warmup"), c.Duration("duration"), c.Duration("drain")
	base.Workload.Accounts = c.Uint64("accounts")
	base.Workload.Zipf = c.Float64("zipf")
	base.Workload.Seed = c.Uint64("seed")
	base.BurstEvery, base.BurstLength, base.BurstFactor = c.Duration("burst-every"), c.Duration("burst-length"), c.Float64("burst-factor")
	base.Lanes = c.Int("lanes")
	base.BatchSize = c.Int("batch")
	preset, err := params.Preset(base.Testnet.Preset)
	if err != nil {
		return nil, fmt.Errorf("--preset: %w", err)
	}
	var out []bench.Config
	for _, sh := range shards {
		if sh == 0 {
			return nil, fmt.Errorf("--shards 0: at least 1 (the %s preset's SLOTS_PER_EPOCH is %d; fewer shards get their own chain config)",
				base.Testnet.Preset, preset.SlotsPerEpoch)
		}
		for _, x := range cross {
			for _, st := range slots {
				cfg := base
				// Below SLOTS_PER_EPOCH shards the point gets its own chain
				// config, written next to the results.
				if _, err := bench.FitShards(&cfg, sh, filepath.Join(c.Path("out"), "chain")); err != nil {
					return nil, err
				}
				cfg.Testnet.SlotTime, cfg.Workload.CrossShard = st, x
				cfg.Testnet.ShardNodes = min(c.Int("shard-nodes"), int(sh))
				if p := c.Path("cpuprofile"); p != "" {
					cfg.CPUProfile = p
					if len(shards)*len(cross)*len(slots) > 1 {
						cfg.CPUProfile = filepath.Join(p, fmt.Sprintf("%dshards-%ds-x%.0f", sh, int(st/time.Second), 100*x))
					}
				}
				if err := cfg.Validate(); err != nil {
					return nil, err
				}
				if err := cfg.Testnet.Validate(); err != nil {
					return nil, err
				}
				out = append(out, cfg)
			}
		}
	}
	return out, nil
}

func runBenchThroughput(c *cli.Context) error {
	points, err := benchPoints(c)
	if err != nil {
		return cli.Exit("bench throughput: "+err.Error(), 2)
	}
	var old *bench.Results
	if p := c.Path("compare"); p != "" {
		if old, err = bench.ReadResults(p); err != nil {
			return cli.Exit("bench throughput: --compare: "+err.Error(), 2)
		}
	}
	run, err := benchEngine(c.String("engine"))
	if err != nil {
		return cli.Exit("bench throughput: "+err.Error(), 2)
	}
	if c.String("engine") == bench.EngineSim {
		for _, p := range points {
			if err := p.ValidateSim(); err != nil {
				return cli.Exit("bench throughput: "+err.Error(), 2)
			}
		}
	}
	if c.String("engine") == bench.EngineTestnet && !testnet.HasShardCommand(points[0].Testnet.Binary) {
		return cli.Exit("bench throughput: this shardlab binary has no shard command", 2)
	}
	out, errw := c.App.Writer, c.App.ErrWriter
	tty := showBar(c, false) && !c.Bool("plain")
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rs := &bench.Results{Created: time.Now().UTC(), Command: strings.Join(os.Args, " "), Machine: bench.ThisMachine()}
	for i, cfg := range points {
		shards := fmt.Sprintf("%d shards", cfg.Testnet.Shards)
		if cfg.LoadShards > 0 {
			shards = fmt.Sprintf("%d loaded of %d shards", cfg.LoadShards, cfg.Testnet.Shards)
		}
		label := fmt.Sprintf("[%d/%d] %s, %v slots, %.0f%% cross-shard", i+1, len(points), shards, cfg.Testnet.SlotTime, 100*cfg.Workload.CrossShard)
		fmt.Fprintf(errw, "bench throughput %s\n", label)
		cfg.Testnet.Out = testnetLines{w: errw}
		cfg.Log = slog.Default()
		cfg.Progress = benchProgress(errw, tty)
		r, err := run(ctx, cfg)
		if tty {
			fmt.Fprintln(errw)
		}
		if err != nil {
			if len(rs.Runs) > 0 {
				_ = rs.Write(c.Path("out"))
			}
			return cli.Exit(fmt.Sprintf("bench throughput %s: %v", label, err), 1)
		}
		rs.Runs = append(rs.Runs, *r)
		// Written after every point: an interrupted sweep keeps its results.
		if err := rs.Write(c.Path("out")); err != nil {
			return cli.Exit("bench throughput: "+err.Error(), 1)
		}
	}
	rs.WriteTable(out)
	if old != nil {
		fmt.Fprintln(out)
		bench.WriteCompare(out, old, rs)
	}
	fmt.Fprintf(out, "\nwrote %s/{%s,%s,%s}\n", c.Path("out"), bench.ResultsJSON, bench.ResultsCSV, bench.ReportHTML)
	return nil
}

// benchEngine returns the run function of --engine.
func benchEngine(name string) (func(context.Context, bench.Config) (*bench.Result, error), error) {
	switch name {
	case bench.EngineTestnet:
		return bench.Run, nil
	case bench.EngineSim:
		return bench.RunSim, nil
	}
	return nil, fmt.Errorf("--engine %q: testnet or sim", name)
}

// testnetLines prefixes the testnet's progress lines.
type testnetLines struct{ w io.Writer }

func (t testnetLines) Write(p []byte) (int, error) {
	if _, err := fmt.Fprintf(t.w, "  %s", p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// benchProgress shows a run's progress: a progress bar over each phase
// with the live figures on a terminal, a line every 10 seconds otherwise.
func benchProgress(w io.Writer, tty bool) func(bench.Progress) {
	var n int
	var bar *progressbar.ProgressBar
	var phase string
	return func(p bench.Progress) {
		n++
		frac := 0.0
		if p.Total > 0 {
			frac = min(1, p.Elapsed.Seconds()/p.Total.Seconds())
		}
		line := fmt.Sprintf("%-22s %4.0f/%.0fs rate %6.0f tx/s  offered %d  included %d  refused %d",
			p.Phase, p.Elapsed.Seconds(), p.Total.Seconds(), p.Rate, p.Offered, p.Included, p.Rejected)
		if tty {
			if bar == nil || p.Phase != phase {
				bar, phase = newBar(w, int64(p.Total.Seconds()), "", false), p.Phase
			}
			_ = bar.Set64(int64(frac * p.Total.Seconds()))
			bar.Describe(line)
			return
		}
		if n%10 == 0 {
			fmt.Fprintln(w, "  "+line)
		}
	}
}

func benchReportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "rewrite the table, results.csv and report.html of a results.json (e.g. after an upgrade)",
		ArgsUsage: "RESULTS.json",
		Flags: []cli.Flag{
			&cli.PathFlag{Name: "out", Usage: "directory to write into (default: the results.json's)", Category: categoryOutput},
			&cli.PathFlag{Name: "compare", Usage: "an earlier results.json to compare with", Category: categoryOutput},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("bench report: want one RESULTS.json argument", 2)
			}
			rs, err := bench.ReadResults(c.Args().First())
			if err != nil {
				return cli.Exit("bench report: "+err.Error(), 1)
			}
			dir := c.Path("out")
			if dir == "" {
				dir = filepath.Dir(c.Args().First())
			}
			if err := rs.Write(dir); err != nil {
				return cli.Exit("bench report: "+err.Error(), 1)
			}
			rs.WriteTable(c.App.Writer)
			if p := c.Path("compare"); p != "" {
				old, err := bench.ReadResults(p)
				if err != nil {
					return cli.Exit("bench report: --compare: "+err.Error(), 1)
				}
				fmt.Fprintln(c.App.Writer)
				bench.WriteCompare(c.App.Writer, old, rs)
			}
			return nil
		},
	}
}
