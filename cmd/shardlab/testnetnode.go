package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/sim/testnet"
)

// nodeAction is one of `testnet stop|start|restart|kill NODE`.
type nodeAction struct {
	name, usage, description string
	fn                       func(context.Context, string, string, testnet.NodeOptions) (testnet.NodeChange, error)
	grace, wipe              bool // the command takes --grace, --wipe
}

func testnetNodeCommands(dirFlag func() cli.Flag) []*cli.Command {
	actions := []nodeAction{
		{name: "stop", usage: "stop one node of a running testnet (SIGTERM, then SIGKILL after --grace)", fn: testnet.StopNode, grace: true,
			description: `Sends SIGTERM to the node's process group, and SIGKILL if it still runs
after --grace. A running 'testnet up' then shows the node as down (not as
exited on its own). The node's data dir is kept: 'testnet start' resumes it.`},
		{name: "kill", usage: "kill one node of a running testnet (SIGKILL)", fn: testnet.KillNode,
			description: `Sends SIGKILL to the node's process group (a crash on purpose). A running
'testnet up' shows the node as down, not as exited on its own.`},
		{name: "start", usage: "start a stopped node of a testnet again on its data dir", fn: testnet.StartNode, wipe: true,
			description: `Runs the node's last command line again (DIR/<node>/command.json: same
flags, same data dir, same ports), with the nodes running now as bootnodes,
and waits for it to listen. The process outlives this command. A running
'testnet up' follows the new pid: its rows keep updating. --wipe empties the
data dir first: the node rejoins with an empty database and syncs.`},
		{name: "restart", usage: "stop (if running) and start one node of a testnet", fn: testnet.RestartNode, grace: true, wipe: true,
			description: `stop, then start (see their help). A node that is not running is started.`},
	}
	cmds := make([]*cli.Command, len(actions))
	for i, a := range actions {
		flags := []cli.Flag{dirFlag()}
		opts := ""
		if a.grace {
			flags = append(flags, &cli.DurationFlag{Name: "grace", Usage: "time from SIGTERM to SIGKILL", Value: 10 * time.Second, Category: categoryTestnet})
			opts += " [--grace 10s]"
		}
		if a.wipe {
			flags = append(flags, &cli.BoolFlag{Name: "wipe", Usage: "empty the node's data dir before it starts (it rejoins and syncs)", Category: categoryTestnet})
			opts += " [--wipe]"
		}
		cmds[i] = &cli.Command{
			Name:        a.name,
			Usage:       a.usage,
			UsageText:   "shardlab testnet " + a.name + " [--dir DIR]" + opts + " NODE",
			Description: a.description,
			Flags:       flags,
			Action:      func(c *cli.Context) error { return runTestnetNode(c, a) },
		}
	}
	return cmds
}

func runTestnetNode(c *cli.Context, a nodeAction) error {
	if c.NArg() != 1 {
		return cli.Exit(fmt.Sprintf("testnet %s: want one node name (e.g. beacon-1), got %d arguments", a.name, c.NArg()), 2)
	}
	opts := testnet.NodeOptions{Wipe: a.wipe && c.Bool("wipe")}
	if a.grace {
		opts.Grace = c.Duration("grace")
		if opts.Grace <= 0 {
			return cli.Exit("testnet "+a.name+": --grace must be positive", 2)
		}
	}
	ch, err := a.fn(c.Context, c.Path("dir"), c.Args().First(), opts)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	out := c.App.Writer
	if ch.Stopped != 0 {
		fmt.Fprintf(out, "%s %s (pid %d)\n", ch.Name, ch.Action, ch.Stopped)
	}
	if ch.Pid != 0 {
		fmt.Fprintf(out, "%s started (pid %d), p2p %s\n", ch.Name, ch.Pid, ch.Addr)
	}
	return nil
}
