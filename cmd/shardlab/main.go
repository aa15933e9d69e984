package main

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Flag categories shared by the commands.
const (
	categoryLogging = "Logging"
	categoryOutput  = "Output"
)

// commands builds the subcommands; each file registers its own in init.
// They are constructors because cli mutates a command while running it, and
// every newApp (the tests build several) needs fresh ones.
var commands []func() *cli.Command

// register adds the constructor of a subcommand to the app.
func register(newCommand func() *cli.Command) { commands = append(commands, newCommand) }

// globalFlags apply to every command.
var globalFlags = []cli.Flag{
	&cli.StringFlag{
		Name:     "log-level",
		Usage:    "minimum level of the log lines written to stderr: debug, info, warn or error",
		Value:    "info",
		EnvVars:  []string{"SHARDLAB_LOG_LEVEL"},
		Category: categoryLogging,
	},
	&cli.StringFlag{
		Name:     "log-format",
		Usage:    "format of the log lines: text or json",
		Value:    "text",
		Category: categoryLogging,
	},
}

// newApp assembles the app: its global flags and the registered commands,
// sorted by name.
func newApp() *cli.App {
	cmds := make([]*cli.Command, len(commands))
	for i, newCommand := range commands {
		cmds[i] = newCommand()
	}
	slices.SortFunc(cmds, func(a, b *cli.Command) int { return strings.Compare(a.Name, b.Name) })
	return &cli.App{
		Name:                 "shardlab",
		Usage:                "an eth2 v0.8.3 beacon chain with a phase 1 shard layer: testnets, simulations, spec tests and benchmarks",
		Version:              version,
		HideVersion:          true, // `shardlab version` says more
		Flags:                globalFlags,
		Commands:             cmds,
		Before:               setupLogging,
		EnableBashCompletion: true,
		Suggest:              true,
	}
}

// setupLogging installs the default slog logger from the global flags.
func setupLogging(c *cli.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return cli.Exit(fmt.Sprintf("shardlab: --log-level %q: want debug, info, warn or error", c.String("log-level")), 2)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch c.String("log-format") {
	case "text":
		h = slog.NewTextHandler(c.App.ErrWriter, opts)
	case "json":
		h = slog.NewJSONHandler(c.App.ErrWriter, opts)
	default:
		return cli.Exit(fmt.Sprintf("shardlab: --log-format %q: want text or json", c.String("log-format")), 2)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

func main() {
	app := newApp()
	app.ErrWriter = os.Stderr
	// Errors that carry an exit code (cli.Exit) end the process inside Run.
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "shardlab:", err)
		os.Exit(2)
	}
}
