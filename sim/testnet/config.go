package testnet

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// ErrInvalidConfig is wrapped by Config.Validate.
var ErrInvalidConfig = errors.New("invalid testnet config")

// Roles of the testnet's processes.
const (
	RoleBeacon = "beacon"
	RoleShard  = "shard"
)

// Port layout: with a base port B, process i (beacon nodes first, then
// shard nodes, then nodes added later) listens on B+i (libp2p, TCP and
// UDP), B+100+i (HTTP API) and B+200+i (metrics).
const (
	httpPortOffset    = 100
	metricsPortOffset = 200
	// MaxProcesses bounds the processes of one testnet (the port layout).
	MaxProcesses = 100
)

// Config configures a local testnet.
type Config struct {
	// Dir holds everything: genesis/, one directory per node (data dir, log,
	// pid file), testnet.json and summary.json. Up wipes a previous
	// testnet's directory; a directory holding anything else is refused.
	Dir string
	// Binary is the shardlab executable the processes run.
	Binary string

	// BeaconNodes run `shardlab beacon` with the validators split evenly.
	BeaconNodes int
	// ShardNodes run `shardlab shard`, the shards split across them and
	// every validator key on each (for shard proposals). 0: none.
	ShardNodes int
	// Fishermen are extra shard nodes (shard-N after the others) serving
	// every shard with the keys FishermanKeys only: they follow the shard
	// chains and prove fraud (a proof is signed by a hosted validator, the
	// whistleblower), so that every shard has a fisherman besides its
	// proposing node. 0: none.
	Fishermen int
	// LateBeacon are beacon nodes (indices among BeaconNodes) that Start
	// lays out but does not start: late joiners, each started later with
	// an empty data dir by Join, hosting its share of the validators.
	LateBeacon []int
	// DebugAPI starts every node with --debug-api (the routes that stage
	// faults and byzantine behaviour; docs/api.md).
	DebugAPI bool

	// Chain: the preset, validator count, SHARD_COUNT (the shard fork at
	// genesis) and SECONDS_PER_SLOT (whole seconds) of the genesis.
	Preset     string
	Validators uint64
	Shards     uint64
	SlotTime   time.Duration
	// ChainConfig, when set, is a consensus-specs style YAML chain config
	// (PRESET_BASE picks the preset it amends) the genesis is written
	// from, instead of Preset; Shards and SlotTime still apply.
	ChainConfig string
	// Pprof gives every node a pprof endpoint on 127.0.0.1 (NodeSpec's
	// PprofPort: BasePort+300+i in the layout, or a free port).
	Pprof bool
	// GenesisDelay is how far ahead of the start the genesis time is set,
	// so that every process is up before slot 0. 0: 4 s plus 0.5 s per
	// process.
	GenesisDelay time.Duration

	// Epochs is how long Run lasts after genesis (it stops at the first
	// slot of epoch Epochs); 0 runs until its context ends.
	Epochs uint64
	// TxRate is the transactions per second the workload submits through
	// the shard nodes' HTTP API (0: none); CrossShard the fraction sent to
	// another shard; Seed seeds the workload.
	TxRate     float64
	CrossShard float64
	Seed       uint64

	// BasePort is the first port of the layout above; 0 picks free ports
	// (tests).
	BasePort int
	// LogLevel is the processes' --log-level.
	LogLevel string
	// Keep leaves the processes running when the orchestrator exits (stop
	// them with Down). Without it they get SIGTERM when it dies (Linux).
	Keep bool

	// Out receives the progress lines, the status table and the summary;
	// nil discards them. TTY redraws the table in place (ANSI escapes)
	// instead of printing lines.
	Out io.Writer
	TTY bool
}

// FishermanKeys are the interop keys of a fisherman: two, so that one can
// sign a proof against a block of the other. The fisherman proposes these
// validators' shard blocks too, as their shard's other node does (with no
// workload both build the same block).
const FishermanKeys = "0-1"

// DefaultConfig returns the defaults of `shardlab testnet up`: 4 beacon
// nodes and 4 shard nodes, 64 validators, the minimal preset with 8 shards
// and 2-second slots, 8 epochs, 10 transactions per second, half of them
// cross-shard, ports from 19000.
func DefaultConfig() Config {
	return Config{
		Dir:         "testnet",
		BeaconNodes: 4,
		ShardNodes:  4,
		Preset:      "minimal",
		Validators:  64,
		Shards:      8,
		SlotTime:    2 * time.Second,
		Epochs:      8,
		TxRate:      10,
		CrossShard:  0.5,
		Seed:        1,
		BasePort:    19000,
		LogLevel:    "info",
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Dir == "":
		return bad("no directory")
	case c.Binary == "":
		return bad("no shardlab binary")
	case c.BeaconNodes+c.ShardNodes+c.Fishermen > MaxProcesses/2:
		return bad("%d processes: at most %d (the rest of the port layout is for restarts and late nodes)", c.BeaconNodes+c.ShardNodes+c.Fishermen, MaxProcesses/2)
	case c.BasePort < 0 || (c.BasePort > 0 && c.BasePort < 1024) || c.BasePort+metricsPortOffset+MaxProcesses > 65536:
		return bad("base port %d: 1024 to %d, or 0 for free ports", c.BasePort, 65536-metricsPortOffset-MaxProcesses)
	case c.Pprof && c.BasePort > 0 && c.BasePort+pprofPortOffset+MaxProcesses > 65536:
		return bad("base port %d with pprof: at most %d", c.BasePort, 65536-pprofPortOffset-MaxProcesses)
	}
	return c.ValidateNetwork()
}

// ValidateNetwork checks the network alone (nodes, chain, workload): what
// a deployment on an engine that gives every node its own address needs
// (sim/deploy), without the directory, binary and port layout of a local
// testnet.
func (c Config) ValidateNetwork() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.BeaconNodes < 1:
		return bad("%d beacon nodes: at least one", c.BeaconNodes)
	case len(c.LateBeacon) >= c.BeaconNodes:
		return bad("%d late beacon nodes of %d: at least one must start at genesis", len(c.LateBeacon), c.BeaconNodes)
	case c.ShardNodes < 0:
		return bad("%d shard nodes", c.ShardNodes)
	case c.Validators < uint64(c.BeaconNodes):
		return bad("%d validators for %d beacon nodes", c.Validators, c.BeaconNodes)
	case c.ShardNodes+c.Fishermen > 0 && c.Shards == 0:
		return bad("shard nodes without shards")
	case c.Fishermen < 0:
		return bad("%d fishermen", c.Fishermen)
	case c.Fishermen > 0 && c.Validators < 2:
		return bad("fishermen need 2 validators for their keys")
	case c.SlotTime < time.Second || c.SlotTime%time.Second != 0:
		return bad("slot time %v: whole seconds, at least 1s", c.SlotTime)
	case c.GenesisDelay < 0:
		return bad("negative genesis delay")
	case c.TxRate < 0 || c.TxRate > 10000:
		return bad("tx rate %v: 0 to 10000 per second", c.TxRate)
	case c.CrossShard < 0 || c.CrossShard > 1:
		return bad("cross-shard fraction %v: 0 to 1", c.CrossShard)
	}
	for i, n := range c.LateBeacon {
		if n < 0 || n >= c.BeaconNodes || slices.Contains(c.LateBeacon[:i], n) {
			return bad("late beacon node %d: expected distinct nodes among 0..%d", n, c.BeaconNodes-1)
		}
	}
	return nil
}

// genesisDelay is the configured or automatic genesis delay.
func (c Config) genesisDelay() time.Duration {
	if c.GenesisDelay > 0 {
		return c.GenesisDelay
	}
	return 4*time.Second + time.Duration(c.BeaconNodes+c.ShardNodes+c.Fishermen)*500*time.Millisecond
}

// ports returns process i's ports in the layout from BasePort (zeros when
// BasePort is 0: free ports are picked at start).
func (c Config) ports(i int) (p2p, http, metrics int) {
	if b := c.BasePort; b > 0 {
		return b + i, b + httpPortOffset + i, b + metricsPortOffset + i
	}
	return 0, 0, 0
}

// ValidatorSplit returns node i's share of n validators among nodes: an
// inclusive range [start, end] of interop keys, the remainder going to the
// last nodes. ok is false when the share is empty.
func ValidatorSplit(n uint64, nodes, i int) (start, end uint64, ok bool) {
	lo := n * uint64(i) / uint64(nodes)
	hi := n * uint64(i+1) / uint64(nodes)
	if hi == lo {
		return 0, 0, false
	}
	return lo, hi - 1, true
}

// ShardSplit returns the shards shard node i of nodes serves: contiguous
// ranges (8 shards on 4 nodes: 0-1, 2-3, 4-5, 6-7); with more nodes than
// shards, node i serves shard i mod shards.
func ShardSplit(shards uint64, nodes, i int) []uint64 {
	if shards == 0 || nodes == 0 {
		return nil
	}
	if uint64(nodes) > shards {
		return []uint64{uint64(i) % shards}
	}
	var out []uint64
	for s := shards * uint64(i) / uint64(nodes); s < shards*uint64(i+1)/uint64(nodes); s++ {
		out = append(out, s)
	}
	return out
}
