package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/sim/scenario"
)

func init() { register(scenarioCommand) }

// scenarioCommand is `shardlab scenario`: scripted faults and attacks with
// expectations on the simulator (sim/scenario, docs/scenarios.md).
func scenarioCommand() *cli.Command {
	return &cli.Command{
		Name:  "scenario",
		Usage: "run scripted faults and attacks with expectations on the simulator",
		Subcommands: []*cli.Command{{
			Name:      "run",
			Usage:     "run a scenario file or built-in and check its expectations",
			UsageText: "shardlab scenario run FILE|NAME [--engine sim|testnet] [--seed N] [--seeds A..B] [--set key=value]... [--json] [--report DIR] [--out DIR [--out-node K]]",
			Description: `Runs the scenario (a YAML file, or a built-in by name: see 'shardlab scenario
list') on the deterministic simulator: the timeline's steps fire at their
slots, every node is sampled each slot, and each expectation is checked and
printed with the value observed. The exit code is 0 only when every
expectation holds; a failure prints the seed and the command that replays it.
--seeds runs once per seed and summarises the pass rate and the spread of the
final finalized epoch. --set overrides a field (network.seed=3,
network.loss=0.05). --report DIR writes report.json and report.html.
--engine testnet runs the scenario on a local testnet of real processes of
this binary instead (in --testnet-dir; minutes of wall time; not
deterministic). The format and the engines are in docs/scenarios.md.`,
			Flags: []cli.Flag{
				&cli.Uint64Flag{Name: "seed", Usage: "seed (overrides network.seed)", Category: categorySimulation},
				&cli.StringFlag{Name: "seeds", Usage: "run every seed of a range A..B (inclusive) and summarise", Category: categorySimulation},
				&cli.StringSliceFlag{Name: "set", Usage: "override a field, key=value (repeatable)", Category: categorySimulation},
				&cli.BoolFlag{Name: "json", Usage: "print the report (or, with --seeds, one report per seed) as JSON", Category: categoryOutput},
				&cli.StringFlag{Name: "report", Usage: "write report.json and report.html into `DIR` (with --seeds: DIR/seed-N)", Category: categoryOutput},
				&cli.StringFlag{Name: "out", Usage: "write node --out-node's canonical chain as a v0.8.3 sanity/blocks test case into `DIR` (with --seeds: DIR/seed-N)", Category: categoryOutput},
				&cli.IntFlag{Name: "out-node", Usage: "the node whose chain --out writes", Category: categoryOutput},
				engineFlag, testnetDirFlag, testnetKeepFlag,
			},
			Action: runScenario,
		}, {
			Name:      "list",
			Usage:     "list the built-in scenarios",
			UsageText: "shardlab scenario list",
			Action:    listScenarios,
		}, {
			Name:      "check",
			Usage:     "validate scenario files without running them",
			UsageText: "shardlab scenario check FILE|NAME...",
			Action:    checkScenarios,
		}},
	}
}

func listScenarios(c *cli.Context) error {
	list, err := scenario.Builtins()
	if err != nil {
		return cli.Exit("scenario list: "+err.Error(), 1)
	}
	for _, b := range list {
		fmt.Fprintf(c.App.Writer, "%-20s %s\n", b.Name, b.Description)
	}
	return nil
}

func checkScenarios(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.Exit("scenario check: expected FILE|NAME arguments", 2)
	}
	failed := false
	for _, arg := range c.Args().Slice() {
		sc, err := scenario.Load(arg)
		if err != nil {
			fmt.Fprintln(c.App.Writer, err)
			failed = true
			continue
		}
		fmt.Fprintf(c.App.Writer, "%s: ok (%s: %d steps, %d expectations, %d epochs)\n", sc.File, sc.Name, len(sc.Timeline), len(sc.Expect), sc.Network.Epochs)
	}
	if failed {
		return cli.Exit("scenario check: invalid scenario", 1)
	}
	return nil
}

// parseSeeds reads "A..B" (inclusive).
func parseSeeds(s string) (lo, hi uint64, err error) {
	a, b, ok := strings.Cut(s, "..")
	if ok {
		if lo, err = strconv.ParseUint(a, 10, 64); err == nil {
			hi, err = strconv.ParseUint(b, 10, 64)
		}
	}
	if !ok || err != nil || hi < lo {
		return 0, 0, fmt.Errorf("--seeds %q: want A..B with A <= B", s)
	}
	return lo, hi, nil
}

// runOptions are the run flags, given before or after FILE|NAME.
type runOptions struct {
	seed, seeds, report string
	sets                []string
	json                bool
	out                 string
	outNode             int
	engine, testnetDir  string
	keep                bool
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// scenarioRunOptions reads the flags before FILE|NAME (parsed by cli) and
// those after it (cli stops at the first argument).
func scenarioRunOptions(c *cli.Context) (string, runOptions, error) {
	o := runOptions{sets: c.StringSlice("set"), json: c.Bool("json"), report: c.String("report"), seeds: c.String("seeds"),
		out: c.String("out"), outNode: c.Int("out-node"),
		engine: c.String("engine"), testnetDir: c.String("testnet-dir"), keep: c.Bool("keep")}
	if c.IsSet("seed") {
		o.seed = strconv.FormatUint(c.Uint64("seed"), 10)
	}
	if c.NArg() < 1 {
		return "", o, fmt.Errorf("expected one FILE|NAME")
	}
	fs := flag.NewFlagSet("scenario run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.seed, "seed", o.seed, "")
	fs.StringVar(&o.seeds, "seeds", o.seeds, "")
	fs.StringVar(&o.report, "report", o.report, "")
	fs.BoolVar(&o.json, "json", o.json, "")
	fs.StringVar(&o.out, "out", o.out, "")
	fs.IntVar(&o.outNode, "out-node", o.outNode, "")
	fs.StringVar(&o.engine, "engine", o.engine, "")
	fs.StringVar(&o.testnetDir, "testnet-dir", o.testnetDir, "")
	fs.BoolVar(&o.keep, "keep", o.keep, "")
	sets := stringList(o.sets)
	fs.Var(&sets, "set", "")
	if err := fs.Parse(c.Args().Tail()); err != nil {
		return "", o, err
	}
	if fs.NArg() > 0 {
		return "", o, fmt.Errorf("expected one FILE|NAME, got also %q", fs.Args())
	}
	o.sets = sets
	return c.Args().First(), o, nil
}

func runScenario(c *cli.Context) error {
	arg, o, err := scenarioRunOptions(c)
	if err != nil {
		return cli.Exit("scenario run: "+err.Error(), 2)
	}
	sets := o.sets
	seeds := []uint64{}
	switch {
	case o.seeds != "":
		lo, hi, err := parseSeeds(o.seeds)
		if err != nil {
			return cli.Exit("scenario run: "+err.Error(), 2)
		}
		for s := lo; s <= hi; s++ {
			seeds = append(seeds, s)
		}
	case o.seed != "":
		seed, err := strconv.ParseUint(o.seed, 10, 64)
		if err != nil {
			return cli.Exit(fmt.Sprintf("scenario run: --seed %q: want a non-negative integer", o.seed), 2)
		}
		seeds = append(seeds, seed)
	}
	base, err := scenario.Load(arg, sets...)
	if err != nil {
		return cli.Exit("scenario run: "+err.Error(), 2)
	}
	if len(seeds) == 0 {
		seeds = append(seeds, base.Network.Seed)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	w, asJSON := c.App.Writer, o.json
	var reports []*scenario.Report
	for i, seed := range seeds {
		sc, err := scenario.Load(arg, append(sets, fmt.Sprintf("network.seed=%d", seed))...)
		if err != nil {
			return cli.Exit("scenario run: "+err.Error(), 2)
		}
		replay := replayCommand(arg, sets, seed) + engineReplay(o)
		var progress io.Writer = w
		if asJSON {
			progress = nil
		} else {
			fmt.Fprintf(w, "scenario %s, seed %d\n", sc.Name, seed)
		}
		opts := scenario.Options{Replay: replay, Progress: progress, Out: o.out, OutNode: o.outNode}
		if o.out != "" && len(seeds) > 1 {
			opts.Out = fmt.Sprintf("%s/seed-%d", o.out, seed)
		}
		var bar *progressbar.ProgressBar
		if showBar(c, asJSON) {
			opts.Progress = clearLine{w}
			opts.OnSlot = func(slot, end uint64) {
				if bar == nil {
					desc := fmt.Sprintf("scenario %s seed %d: slot", sc.Name, seed)
					if len(seeds) > 1 {
						desc = fmt.Sprintf("scenario %s seed %d (run %d/%d): slot", sc.Name, seed, i+1, len(seeds))
					}
					bar = newBar(c.App.ErrWriter, int64(end), desc, true)
				}
				_ = bar.Set64(int64(slot + 1))
			}
		}
		r, err := runOnEngine(ctx, c, o, sc, opts)
		if bar != nil {
			_ = bar.Clear()
		}
		if err != nil {
			return cli.Exit("scenario run: "+err.Error(), 1)
		}
		reports = append(reports, r)
		if dir := o.report; dir != "" {
			if len(seeds) > 1 {
				dir = fmt.Sprintf("%s/seed-%d", dir, seed)
			}
			if err := scenario.WriteReport(dir, r); err != nil {
				return cli.Exit("scenario run: "+err.Error(), 1)
			}
		}
		if asJSON {
			if err := json.NewEncoder(w).Encode(r); err != nil {
				return cli.Exit("scenario run: "+err.Error(), 1)
			}
			continue
		}
		printOutcomes(w, r)
	}
	failed := 0
	for _, r := range reports {
		if !r.Pass {
			failed++
		}
	}
	if len(reports) > 1 && !asJSON {
		printSeedSummary(w, reports)
	}
	if failed > 0 {
		return cli.Exit(fmt.Sprintf("scenario run: %d of %d runs failed", failed, len(reports)), 1)
	}
	return nil
}

// replayCommand is the command line that reruns one seed.
func replayCommand(arg string, sets []string, seed uint64) string {
	parts := []string{"shardlab", "scenario", "run", arg, "--seed", strconv.FormatUint(seed, 10)}
	for _, s := range sets {
		if !strings.HasPrefix(s, "network.seed=") {
			parts = append(parts, "--set", s)
		}
	}
	return strings.Join(parts, " ")
}

// printOutcomes prints the expectations table and, on failure, the replay.
func printOutcomes(w io.Writer, r *scenario.Report) {
	for _, o := range r.Expectations {
		res := "pass"
		if !o.Pass {
			res = "FAIL"
		}
		fmt.Fprintf(w, "  %-4s  %-40s expected %s; observed %s\n", res, o.Name, o.Expected, o.Observed)
	}
	if r.Pass {
		fmt.Fprintf(w, "PASS %s seed %d  trace %s\n", r.Name, r.Seed, r.TraceHash[:16])
		return
	}
	fmt.Fprintf(w, "FAIL %s seed %d  replay: %s\n", r.Name, r.Seed, r.Replay)
}

// printSeedSummary prints the pass rate and the spread of the final
// finalized epoch (lowest over the nodes) across the seeds.
func printSeedSummary(w io.Writer, reports []*scenario.Report) {
	pass := 0
	lo, hi, sum := ^uint64(0), uint64(0), 0.0
	for _, r := range reports {
		if r.Pass {
			pass++
		}
		last := r.Samples[len(r.Samples)-1]
		fin := last.Nodes[0].Finalized
		for _, n := range last.Nodes {
			fin = min(fin, n.Finalized)
		}
		lo, hi, sum = min(lo, fin), max(hi, fin), sum+float64(fin)
	}
	fmt.Fprintf(w, "seeds: %d/%d passed (%.0f%%); final finalized epoch min %d, mean %.2f, max %d\n",
		pass, len(reports), 100*float64(pass)/float64(len(reports)), lo, sum/float64(len(reports)), hi)
	for _, r := range reports {
		if !r.Pass {
			fmt.Fprintf(w, "  failed seed %d: %s\n", r.Seed, r.Replay)
		}
	}
}

// clearLine clears the terminal's progress line before each timeline line.
type clearLine struct{ w io.Writer }

func (c clearLine) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, "\r\033[K"); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
