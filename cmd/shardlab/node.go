package main

import "github.com/urfave/cli/v2"

func init() { register(nodeCommand) }

func nodeCommand() *cli.Command {
	return &cli.Command{
		Name:      "node",
		Usage:     "run a beacon node and a shard node in one process (validators with beacon and shard duties) until SIGINT or SIGTERM",
		UsageText: "shardlab node --genesis DIR --datadir DIR --shards 0,1 [--validators A-B] [--graffiti S] [--p2p-port N] [--p2p-host H] [--bootnodes MULTIADDR,...] [--mdns] [--http-port N] [--metrics-port N]",
		Description: `Runs shardlab shard with the beacon node's validator client too: the interop
keys --validators A-B (inclusive) propose and attest on the beacon chain (with
slashing protection in --datadir) and propose the shard blocks of --shards. Its
attesters read crosslink data roots from the local shard chains for --shards,
and ask peers serving the other shards. One p2p node and one --datadir serve
both roles.

At start it logs its multiaddrs as "p2p listening addrs=<addr>,<addr>,...";
give one of them to other nodes' --bootnodes.`,
		Flags:  shardNodeFlags(true),
		Action: func(c *cli.Context) error { return runShardNode(c, "node", true) },
	}
}
