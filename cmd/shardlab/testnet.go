package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/sim/testnet"
)

// Flag categories of the testnet command.
const (
	categoryTestnet  = "Testnet"
	categoryWorkload = "Workload"
)

func init() { register(testnetCommand) }

func testnetCommand() *cli.Command {
	dirFlag := func() cli.Flag {
		return &cli.PathFlag{Name: "dir", Usage: "testnet directory (genesis, one directory per node with its data, log and pid file, testnet.json)", Value: "testnet", Category: categoryTestnet}
	}
	return &cli.Command{
		Name:  "testnet",
		Usage: "run a local testnet of beacon and shard node processes (up), show its status, stop leftovers (down), stop|start|restart|kill one node, render it for Docker or Kubernetes (render)",
		Subcommands: append([]*cli.Command{
			testnetUpCommand(dirFlag()), testnetRenderCommand(),
			{
				Name:      "down",
				Usage:     "stop the processes a testnet left running (pid files under --dir)",
				UsageText: "shardlab testnet down [--dir DIR]",
				Description: `Reads DIR/<node>/pid and, for each pid that is a shardlab process running
on that node's data dir, sends SIGTERM to its process group, then SIGKILL after
10 seconds. Pid files of processes that are gone are removed; a pid now used
by another program is left alone.`,
				Flags:  []cli.Flag{dirFlag()},
				Action: runTestnetDown,
			},
			{
				Name:      "status",
				Usage:     "print the status table of a running testnet once",
				UsageText: "shardlab testnet status [--dir DIR]",
				Flags:     []cli.Flag{dirFlag()},
				Action:    runTestnetStatus,
			},
		}, testnetNodeCommands(dirFlag)...),
	}
}

func testnetUpCommand(dir cli.Flag) *cli.Command {
	def := testnet.DefaultConfig()
	return &cli.Command{
		Name:      "up",
		Usage:     "write a genesis, start the nodes, drive transactions and show the status until --epochs or Ctrl-C",
		UsageText: "shardlab testnet up [--dir DIR] [--nodes N] [--shard-nodes N] [--validators N] [--shards N] [--slot-time 2s] [--epochs N] [--tx-rate R] [--cross-shard F] [--preset minimal] [--base-port 19000] [--keep]",
		Description: `Starts a local testnet on 127.0.0.1 from a fresh genesis (its time a few
seconds ahead, so that every process is up before slot 0): --nodes beacon nodes
(shardlab beacon) with the validators split evenly, and --shard-nodes shard
nodes (shardlab shard) with the shards split across them and every validator
key on each. beacon-0 is the bootnode; every later node gets the addresses of
the nodes started before it. Each node has DIR/<name>/ with its data dir, its
log (node.log) and its pid file. Process i listens on --base-port+i (libp2p),
+100+i (HTTP API) and +200+i (metrics).

From slot 1 a seeded workload posts --tx-rate signed transfers per second to
the shard nodes' HTTP API, a fraction --cross-shard of them to another shard.
Every slot the status table is refreshed (in place on a terminal, as lines
otherwise): per node its head slot, justified and finalized epochs, peers and
sync state; per shard its head, crosslinked epoch and state root, and
receipts sent, claimed and pending.

After --epochs epochs (0: until Ctrl-C), or on Ctrl-C, it prints a summary
(when finality was reached, agreement of the finalized roots, crosslinks per
shard, receipts, transactions, gossip latency of beacon blocks) and stops the
processes (SIGTERM, then SIGKILL after 10 s) unless --keep. It exits 1 when
the network did not finalize, the finalized roots disagree, or a process
exited on its own (and did not run again).

While it runs, 'shardlab testnet stop|start|restart|kill NODE' (another
terminal) acts on one node; up follows a node's current process, also one
restarted by hand on its data dir.

Without the shard command in this binary, or with --shard-nodes 0, only beacon
nodes run. docs/testnet.md has the details.`,
		Flags: []cli.Flag{
			dir,
			&cli.IntFlag{Name: "nodes", Usage: "number of beacon nodes", Value: def.BeaconNodes, Category: categoryTestnet},
			&cli.IntFlag{Name: "shard-nodes", Usage: "number of shard nodes (default 4 when this binary has the shard command, else 0)", Value: def.ShardNodes, Category: categoryTestnet},
			&cli.IntFlag{Name: "base-port", Usage: "first port: process i uses base+i (libp2p), base+100+i (HTTP), base+200+i (metrics); 0 picks free ports", Value: def.BasePort, Category: categoryTestnet},
			&cli.BoolFlag{Name: "keep", Usage: "leave the processes running at the end (stop them with shardlab testnet down)", Category: categoryTestnet},
			&cli.DurationFlag{Name: "genesis-delay", Usage: "time from start to genesis (0: 4s plus 0.5s per process)", Category: categoryTestnet},
			&cli.StringFlag{Name: "node-log-level", Usage: "--log-level of the node processes (their logs are DIR/<node>/node.log)", Value: def.LogLevel, Category: categoryTestnet},
			&cli.StringFlag{Name: "preset", Usage: "chain preset: minimal or mainnet", Value: def.Preset, Category: categoryChain},
			&cli.Uint64Flag{Name: "validators", Usage: "number of genesis validators", Value: def.Validators, Category: categoryChain},
			&cli.Uint64Flag{Name: "shards", Usage: "SHARD_COUNT (the shard fork from genesis); 0: a phase 0 chain", Value: def.Shards, Category: categoryChain},
			&cli.DurationFlag{Name: "slot-time", Usage: "SECONDS_PER_SLOT, whole seconds", Value: def.SlotTime, Category: categoryChain},
			&cli.Uint64Flag{Name: "epochs", Usage: "stop after this many epochs from genesis; 0: run until Ctrl-C", Value: def.Epochs, Category: categoryChain},
			&cli.Float64Flag{Name: "tx-rate", Usage: "transactions per second submitted through the shard nodes (0: none)", Value: def.TxRate, Category: categoryWorkload},
			&cli.Float64Flag{Name: "cross-shard", Usage: "fraction of the transactions sent to another shard", Value: def.CrossShard, Category: categoryWorkload},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the workload", Value: def.Seed, Category: categoryWorkload},
			&cli.BoolFlag{Name: "plain", Usage: "print the status as lines even on a terminal (no redrawing)", Category: categoryOutput},
		},
		Action: runTestnetUp,
	}
}

// testnetConfig turns the flags into a testnet config; errors are usage
// errors.
func testnetConfig(c *cli.Context) (testnet.Config, error) {
	cfg := testnet.DefaultConfig()
	bin, err := os.Executable()
	if err != nil {
		return cfg, fmt.Errorf("find the shardlab binary: %w", err)
	}
	cfg.Binary = bin
	cfg.Dir = c.Path("dir")
	cfg.BeaconNodes = c.Int("nodes")
	cfg.ShardNodes = c.Int("shard-nodes")
	cfg.BasePort = c.Int("base-port")
	cfg.Keep = c.Bool("keep")
	cfg.GenesisDelay = c.Duration("genesis-delay")
	cfg.LogLevel = c.String("node-log-level")
	cfg.Preset = c.String("preset")
	cfg.Validators = c.Uint64("validators")
	cfg.Shards = c.Uint64("shards")
	cfg.SlotTime = c.Duration("slot-time")
	cfg.Epochs = c.Uint64("epochs")
	cfg.TxRate = c.Float64("tx-rate")
	cfg.CrossShard = c.Float64("cross-shard")
	cfg.Seed = c.Uint64("seed")
	if cfg.Shards == 0 {
		cfg.ShardNodes = 0
	}
	return cfg, cfg.Validate()
}

func runTestnetUp(c *cli.Context) error {
	cfg, err := testnetConfig(c)
	if err != nil {
		return cli.Exit("testnet up: "+err.Error(), 2)
	}
	out := c.App.Writer
	if cfg.ShardNodes > 0 && !testnet.HasShardCommand(cfg.Binary) {
		if c.IsSet("shard-nodes") {
			return cli.Exit("testnet up: --shard-nodes: this shardlab binary has no shard command", 2)
		}
		fmt.Fprintln(out, "testnet: this shardlab binary has no shard command yet: running beacon nodes only (no shard chains, no transactions)")
		cfg.ShardNodes = 0
	}
	cfg.Out = out
	cfg.TTY = isTerminal(out) && os.Getenv("TERM") != "dumb" && !c.Bool("plain")

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	tn, err := testnet.New(cfg, slog.Default())
	if err != nil {
		return cli.Exit("testnet up: "+err.Error(), 2)
	}
	if err := tn.Start(ctx); err != nil {
		return cli.Exit("testnet up: "+err.Error(), 1)
	}
	sum, err := tn.Run(ctx)
	stop() // a second Ctrl-C ends the orchestrator; the nodes then get SIGTERM (Linux)
	if err != nil {
		tn.Stop()
		return cli.Exit("testnet up: "+err.Error(), 1)
	}
	if cfg.Keep {
		fmt.Fprintf(out, "testnet: the nodes keep running (--keep): shardlab testnet status --dir %s; shardlab testnet down --dir %s\n", cfg.Dir, cfg.Dir)
	} else {
		start := time.Now()
		fmt.Fprintf(out, "testnet: stopping %d processes\n", len(tn.Processes()))
		tn.Stop()
		fmt.Fprintf(out, "testnet: stopped in %.1fs; logs in %s/<node>/node.log, summary in %s/%s\n", time.Since(start).Seconds(), cfg.Dir, cfg.Dir, testnet.SummaryFile)
	}
	sum.Write(out)
	if !sum.OK() {
		return cli.Exit("", 1)
	}
	return nil
}

func runTestnetDown(c *cli.Context) error {
	dir := c.Path("dir")
	res, err := testnet.Down(dir)
	if err != nil {
		return cli.Exit("testnet down: "+err.Error(), 1)
	}
	out := c.App.Writer
	if len(res) == 0 {
		fmt.Fprintf(out, "testnet down: no process left in %s\n", dir)
		return nil
	}
	for _, r := range res {
		switch r.Action {
		case "stale":
			fmt.Fprintf(out, "%-10s not running (stale pid file removed)\n", r.Name)
		case "skipped":
			fmt.Fprintf(out, "%-10s pid %d is not this testnet's shardlab process: left alone\n", r.Name, r.Pid)
		default:
			fmt.Fprintf(out, "%-10s pid %d %s\n", r.Name, r.Pid, r.Action)
		}
	}
	return nil
}

func runTestnetStatus(c *cli.Context) error {
	ctx, cancel := context.WithTimeout(c.Context, 10*time.Second)
	defer cancel()
	snap, m, err := testnet.Status(ctx, c.Path("dir"))
	if err != nil {
		return cli.Exit("testnet status: "+err.Error(), 1)
	}
	out := c.App.Writer
	fmt.Fprint(out, snap.Table())
	fmt.Fprintf(out, "%d processes; genesis %s; APIs:", len(m.Nodes), time.Unix(m.GenesisTime, 0).Format(time.DateTime))
	for _, n := range m.Nodes {
		fmt.Fprintf(out, " %s=%s", n.Name, n.URL())
	}
	fmt.Fprintln(out)
	return nil
}
