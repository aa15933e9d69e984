package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/spectest"
	shardspectest "github.com/shardlab/shardlab/shard/spectest"
)

const (
	categoryVectors = "Vectors"
	categoryRun     = "Run"
)

func init() { register(spectestCommand) }

func spectestCommand() *cli.Command {
	return &cli.Command{
		Name:  "spectest",
		Usage: "run the official eth2 v0.8.3 test vectors",
		Description: "Runs every case under DIR/tests/<config>/phase0/<runner>/<handler>/<suite>/<case> that\n" +
			"--preset and --run select, and prints one line per runner/handler with its passed, failed and\n" +
			"not-run counts, then the failures and a final \"N passed, M failed\" line. A case whose\n" +
			"runner/handler has no handler yet is counted as not run. Exits 1 when a case fails or no case\n" +
			"matches, 2 when the vectors cannot be read.",
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:      "dir",
				Usage:     "directory holding the vectors as tests/{minimal,mainnet,general} (the npm package's package/ directory)",
				EnvVars:   []string{"SPEC_TESTS_DIR"},
				TakesFile: true,
				Category:  categoryVectors,
			},
			&cli.StringFlag{
				Name:     "preset",
				Usage:    "vectors to run besides general: minimal, mainnet or all (all includes mainnet when DIR has it)",
				Value:    spectest.ConfigMinimal,
				Category: categoryVectors,
			},
			&cli.StringFlag{
				Name:     "run",
				Usage:    "run only the cases whose config/runner/handler/suite/case path matches this regular expression",
				Category: categoryRun,
			},
			&cli.IntFlag{
				Name:     "workers",
				Usage:    "number of cases run at once (0: GOMAXPROCS)",
				Category: categoryRun,
			},
			&cli.BoolFlag{
				Name:     "json",
				Usage:    "print the report as JSON instead of text",
				Category: categoryOutput,
			},
		},
		Action: runSpectest,
	}
}

// spectestConfigs returns the configs --preset selects under dir: the preset's
// own plus general when dir has it.
func spectestConfigs(dir, preset string) ([]string, error) {
	avail, err := spectest.AvailableConfigs(dir)
	if err != nil {
		return nil, err
	}
	var configs []string
	switch preset {
	case spectest.ConfigMinimal, spectest.ConfigMainnet:
		configs = []string{preset}
	case "all":
		configs = []string{spectest.ConfigMinimal}
		if slices.Contains(avail, spectest.ConfigMainnet) {
			configs = append(configs, spectest.ConfigMainnet)
		} else {
			slog.Warn("no mainnet vectors: running minimal and general only", "dir", dir)
		}
	default:
		return nil, fmt.Errorf("--preset %q: want minimal, mainnet or all", preset)
	}
	for _, c := range configs {
		if !slices.Contains(avail, c) {
			hint := ""
			if c == spectest.ConfigMainnet {
				hint = " (`make spectest-mainnet` fetches them)"
			}
			return nil, fmt.Errorf("%w: %s has no %s vectors%s", spectest.ErrNoTests, dir, c, hint)
		}
	}
	if slices.Contains(avail, spectest.ConfigGeneral) {
		configs = append(configs, spectest.ConfigGeneral)
	} else {
		slog.Warn("no general vectors: bls and ssz_generic are not run", "dir", dir)
	}
	return configs, nil
}

func runSpectest(c *cli.Context) error {
	dir := c.String("dir")
	if dir == "" {
		return cli.Exit("spectest: --dir (or SPEC_TESTS_DIR) is required: the directory holding tests/minimal and tests/general", 2)
	}
	configs, err := spectestConfigs(dir, c.String("preset"))
	if err != nil {
		return cli.Exit("spectest: "+err.Error(), 2)
	}
	reg := spectest.Default()
	shardspectest.Register(reg) // shardlab's shard vectors (shard/testdata, fork "shard")
	opts := spectest.Options{
		Dir:      dir,
		Configs:  configs,
		Filter:   c.String("run"),
		Workers:  c.Int("workers"),
		Registry: reg,
	}
	if isTerminal(c.App.ErrWriter) {
		opts.Progress = progressPrinter(c.App.ErrWriter)
	}
	slog.Debug("running spec tests", "dir", dir, "configs", configs, "filter", opts.Filter)
	rep, err := spectest.Run(opts)
	if err != nil {
		return cli.Exit("spectest: "+err.Error(), 2)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return cli.Exit("spectest: write report: "+err.Error(), 2)
		}
	} else if err := rep.WriteText(c.App.Writer); err != nil {
		return cli.Exit("spectest: "+err.Error(), 2)
	}
	slog.Debug("spec tests done", "passed", rep.Passed, "failed", rep.Failed, "not_run", rep.NotRun, "seconds", rep.Seconds)
	switch {
	case rep.Total() == 0:
		return cli.Exit(fmt.Sprintf("spectest: no case matches --run %q", opts.Filter), 1)
	case !rep.OK():
		return cli.Exit("", 1)
	}
	return nil
}

// progressPrinter rewrites one "done/total" line on w, about every percent.
func progressPrinter(w io.Writer) func(done, total int, _ *spectest.Result) {
	step := 1
	return func(done, total int, _ *spectest.Result) {
		if total >= 100 {
			step = total / 100
		}
		switch {
		case done == total:
			fmt.Fprintf(w, "\r%*s\r", 40, "")
		case done%step == 0:
			fmt.Fprintf(w, "\rspectest: %d/%d cases", done, total)
		}
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
