package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	bt "github.com/shardlab/shardlab/beacon/types"
	shardnode "github.com/shardlab/shardlab/shard/node"
)

func init() { register(shardCommand) }

func shardCommand() *cli.Command {
	return &cli.Command{
		Name:      "shard",
		Usage:     "run a shard node (a beacon follower with shard chains) until SIGINT or SIGTERM",
		UsageText: "shardlab shard --genesis DIR --datadir DIR --shards 0,1 [--validators A-B] [--p2p-port N] [--p2p-host H] [--bootnodes MULTIADDR,...] [--mdns] [--http-port N] [--metrics-port N]",
		Description: `Runs a shard node of the testnet in --genesis (written by shardlab genesis with
--shards): it follows the beacon chain over libp2p without validating for it,
and follows, validates and serves the shard chains --shards (a list of shards
and ranges, such as 0,1 or 0-3,6). For them it:
  - imports shard blocks from gossip and from peers (shard_blocks_by_range),
    with the shard fork choice rooted at the last crosslinked block;
  - pools transactions and receipt claims from gossip and the HTTP API;
  - proposes the blocks whose shard proposer is one of the interop keys
    --validators A-B (inclusive; it never signs beacon messages with them);
  - relays the receipts its shards send as claims to their destination;
  - as a fisherman, proves invalid blocks to the beacon chain (signing the
    proofs with one of its keys);
  - answers beacon attesters' crosslink data root requests.
The node restarts from --datadir where it stopped.

At start it logs its multiaddrs as "p2p listening addrs=<addr>,<addr>,...";
give one of them to other nodes' --bootnodes.`,
		Flags:  shardNodeFlags(false),
		Action: func(c *cli.Context) error { return runShardNode(c, "shard", false) },
	}
}

// shardNodeFlags are the flags of shardlab shard and, with beacon duties,
// shardlab node.
func shardNodeFlags(beaconDuties bool) []cli.Flag {
	vals := "interop key range A-B (inclusive) whose shard proposer duties this node performs; empty: none"
	if beaconDuties {
		vals = "interop key range A-B (inclusive) whose beacon (propose, attest) and shard proposer duties this node performs; empty: none"
	}
	flags := []cli.Flag{
		&cli.PathFlag{Name: "genesis", Usage: "genesis directory written by shardlab genesis --shards N (config.yaml, genesis.ssz, genesis.yaml)", Required: true, Category: categoryNode},
		&cli.PathFlag{Name: "datadir", Usage: "data directory: the beacon and shard databases and the p2p key", Required: true, Category: categoryNode},
		genesisWaitFlag(),
		&cli.StringFlag{Name: "shards", Usage: "shards to follow and serve: a comma-separated list of shards and ranges, such as 0,1 or 0-3", Required: true, Category: categoryShards},
		&cli.StringFlag{Name: "validators", Usage: vals, Category: categoryValidator},
	}
	flags = append(flags, slasherFlags()...)
	flags = append(flags, debugAPIFlag())
	flags = append(flags, networkFlags("port of the HTTP API (Beacon API shape, and /shardlab/v1 for the shards) on --http-host; 0 disables it")...)
	flags = append(flags, pprofFlags()...)
	if beaconDuties {
		flags = append(flags, &cli.StringFlag{Name: "graffiti", Usage: "graffiti of proposed beacon blocks (at most 32 bytes)", Value: "shardlab", Category: categoryValidator})
	}
	return flags
}

// parseShards parses "0,1,4-7" into ascending shards below count.
func parseShards(s string, count uint64) ([]bt.Shard, error) {
	var out []bt.Shard
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse shards %q: %q is not a shard or range A-B", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("parse shards %q: %q is not a range A-B", s, part)
			}
		}
		if b >= count {
			return nil, fmt.Errorf("parse shards %q: shard %d >= SHARD_COUNT %d", s, b, count)
		}
		for x := a; x <= b; x++ {
			if !slices.Contains(out, bt.Shard(x)) {
				out = append(out, bt.Shard(x))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("parse shards %q: no shard", s)
	}
	slices.Sort(out)
	return out, nil
}

// shardNodeConfig turns the flags into a shard node config; errors are
// usage errors.
func shardNodeConfig(c *cli.Context, beaconDuties bool) (shardnode.Config, error) {
	g, err := loadNodeGenesis(c)
	if err != nil {
		return shardnode.Config{}, fmt.Errorf("--genesis: %w", err)
	}
	if !g.cfg.Shard.Enabled() {
		return shardnode.Config{}, fmt.Errorf("--genesis: the chain has no shard fork (write it with shardlab genesis --shards N)")
	}
	cfg := shardnode.DefaultConfig()
	if cfg.Transition, err = newTransition(g); err != nil {
		return cfg, fmt.Errorf("--genesis: %w", err)
	}
	cfg.Genesis = g.state
	cfg.DataDir = c.Path("datadir")
	if cfg.Shards, err = parseShards(c.String("shards"), g.cfg.ShardCount); err != nil {
		return cfg, fmt.Errorf("--shards: %w", err)
	}
	vals, err := validatorsFlag(c, g)
	if err != nil {
		return cfg, err
	}
	cfg.Validators = vals
	if beaconDuties {
		cfg.BeaconValidators = vals
		if cfg.Beacon.Graffiti, err = graffitiFlag(c); err != nil {
			return cfg, err
		}
	}
	if err := applySlasherFlags(c, &cfg.Beacon.Slasher); err != nil {
		return cfg, err
	}
	cfg.Beacon.DebugAPI = c.Bool("debug-api")
	if cfg.HTTPPort, err = applyNetworkFlags(c, &cfg.P2P); err != nil {
		return cfg, err
	}
	cfg.HTTPHost = c.String("http-host")
	// The embedded beacon node serves the profile of the whole process.
	if cfg.Beacon.PprofAddr, err = pprofAddrFlag(c); err != nil {
		return cfg, err
	}
	cfg.Version = nodeVersion()
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// runShardNode runs shardlab shard (or, with beacon duties, shardlab node).
func runShardNode(c *cli.Context, name string, beaconDuties bool) error {
	cfg, err := shardNodeConfig(c, beaconDuties)
	if err != nil {
		return cli.Exit(name+": "+err.Error(), 2)
	}
	reg := nodeRegistry()
	cfg.Registerer = reg
	return runNode(c, name, reg, func(logger *slog.Logger) (runner, error) {
		n, err := shardnode.New(cfg, logger)
		if err != nil {
			return nil, nameConfigFile(err, c.Path("genesis"))
		}
		return n, nil
	})
}
