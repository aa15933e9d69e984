package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/sim/netsim"
)

func init() { register(simCommand) }

// categoryNetwork is the flag category of the simulated network.
const categoryNetwork = "Network"

// simCommand is `shardlab sim`: the discrete-event simulator (sim/netsim).
func simCommand() *cli.Command {
	return &cli.Command{
		Name:  "sim",
		Usage: "run beacon and shard nodes in a deterministic discrete-event simulation",
		Subcommands: []*cli.Command{{
			Name:      "run",
			Usage:     "simulate a beacon (and shard) network in virtual time and report every epoch",
			UsageText: "shardlab sim run [--nodes N] [--shard-nodes N] [--shards N] [--tx-rate R] [--cross-shard F] [--validators N] [--epochs N] [--slot-time D] [--latency 50ms±20ms] [--loss P] [--bandwidth B] [--peers N] [--mesh-degree D] [--reorder] [--seed N] [--fake-bls] [--no-shared-caches] [--json] [--cpuprofile FILE] [--memprofile FILE]",
			Description: `Runs --nodes beacon nodes (minimal preset, the --validators interop keys split
evenly between them) for --epochs epochs in virtual time, through the first
slot of the epoch after the last, whose block carries the last epoch's
closing transition (its justification and finality are reported). Every node runs the
production beacon handler (beacon/handler, what 'shardlab beacon' runs over
libp2p) on its own in-memory store; the simulated network carries the real SSZ
messages with the given latency (50ms fixed, 50ms±20ms normal, 50ms~20ms
uniform), loss and bandwidth; each node connects to --peers random others
(plus a server of every shard), and gossips to them all or on a mesh of degree
--mesh-degree among them. One line per epoch reports the head, the distinct heads, the
lowest justified and finalized epochs and the first node's previous-epoch
participation; the summary ends with the trace hash (the same flags always
give the same hash), the wall time and the speed-up over real time.

With --shard-nodes N, N shard nodes run the production shard handler
(shard/handler, what 'shardlab shard' runs) on top of a beacon follower, the
--shards shards split between them, with a workload of --tx-rate signed
transfers a second (--cross-shard of them to another shard); the epoch lines
add the crosslinked shards, the receipts sent and claimed and the accepted
transactions (docs/simulator.md).`,
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "nodes", Usage: "number of beacon nodes", Value: 4, Category: categorySimulation},
				&cli.Uint64Flag{Name: "validators", Usage: "number of genesis validators (at least 64, the minimal preset's MIN_GENESIS_ACTIVE_VALIDATOR_COUNT)", Value: 64, Category: categorySimulation},
				&cli.Uint64Flag{Name: "epochs", Usage: "epochs to simulate", Value: 8, Category: categorySimulation},
				&cli.DurationFlag{Name: "slot-time", Usage: "slot duration, whole seconds", Value: 2 * time.Second, Category: categorySimulation},
				&cli.Uint64Flag{Name: "seed", Usage: "seed of every random choice", Value: 1, Category: categorySimulation},
				&cli.StringFlag{Name: "latency", Usage: "one-way link latency: 50ms (fixed), 50ms±20ms or 50ms+-20ms (normal), 50ms~20ms (uniform)", Value: "50ms±20ms", Category: categoryNetwork},
				&cli.Float64Flag{Name: "loss", Usage: "probability that a message is lost, in [0, 1)", Category: categoryNetwork},
				&cli.Float64Flag{Name: "bandwidth", Usage: "link bandwidth in bytes per second (0: unlimited)", Category: categoryNetwork},
				&cli.IntFlag{Name: "peers", Usage: "peers each node connects to, as a real node's --target-peers, plus one server of every shard none of them serves (0: every node)", Value: netsim.DefaultPeers, Category: categoryNetwork},
				&cli.IntFlag{Name: "mesh-degree", Usage: "gossip mesh degree among a node's peers (0: flood to every peer)", Category: categoryNetwork},
				&cli.BoolFlag{Name: "reorder", Usage: "let messages on a link overtake each other (default: first in, first out)", Category: categoryNetwork},
				&cli.IntFlag{Name: "shard-nodes", Usage: "number of shard nodes (0: a beacon-only run)", Category: categoryShards},
				&cli.Uint64Flag{Name: "shards", Usage: "SHARD_COUNT with shard nodes (at least SLOTS_PER_EPOCH)", Value: 8, Category: categoryShards},
				&cli.Float64Flag{Name: "tx-rate", Usage: "transactions per second submitted to the shard nodes", Value: 10, Category: categoryShards},
				&cli.Float64Flag{Name: "cross-shard", Usage: "share of the transactions sent to another shard, in [0, 1]", Value: 0.5, Category: categoryShards},
				&cli.BoolFlag{Name: "fake-bls", Usage: "verify no signature (they are still made), for very large runs; every output line says so", Category: categorySimulation},
				&cli.BoolFlag{Name: "no-shared-caches", Usage: "give every node its own signature and state caches, as real processes have (same results, slower)", Category: categorySimulation},
				&cli.BoolFlag{Name: "json", Usage: "print one JSON object per epoch and one for the summary", Category: categoryOutput},
				&cli.StringFlag{Name: "memprofile", Usage: "write a heap profile at the end of the run to `FILE` (go tool pprof)", Category: categoryOutput},
				&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the run to `FILE` (go tool pprof)", Category: categoryOutput},
			},
			Action: runSim,
		}},
	}
}

// simConfig turns the flags into a simulation config; its errors name the
// flag at fault.
func simConfig(c *cli.Context) (netsim.Config, error) {
	cfg := netsim.DefaultConfig()
	cfg.Nodes, cfg.Validators, cfg.Epochs = c.Int("nodes"), c.Uint64("validators"), c.Uint64("epochs")
	cfg.SlotTime, cfg.Seed = c.Duration("slot-time"), c.Uint64("seed")
	cfg.Unshared, cfg.FakeBLS = c.Bool("no-shared-caches"), c.Bool("fake-bls")
	cfg.Loss, cfg.Bandwidth, cfg.MeshDegree, cfg.Reorder = c.Float64("loss"), c.Float64("bandwidth"), c.Int("mesh-degree"), c.Bool("reorder")
	cfg.Peers = c.Int("peers")
	if n := c.Int("shard-nodes"); n != 0 {
		cfg.Shard = netsim.ShardConfig{Nodes: n, Shards: c.Uint64("shards"), TxRate: c.Float64("tx-rate"), CrossShard: c.Float64("cross-shard")}
	}
	lat, err := netsim.ParseLatency(c.String("latency"))
	if err != nil {
		return cfg, fmt.Errorf("--latency: %w", err)
	}
	cfg.Latency = lat
	if cfg.SlotTime <= 0 {
		return cfg, fmt.Errorf("--slot-time %s must be positive", cfg.SlotTime)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// simSummary is the closing report of a run.
type simSummary struct {
	Nodes      int    `json:"nodes"`
	ShardNodes int    `json:"shard_nodes,omitempty"`
	Shards     uint64 `json:"shards,omitempty"`
	// Shard is the last epoch's shard side (nil: a beacon-only run).
	Shard      *netsim.ShardReport `json:"shard,omitempty"`
	Validators uint64              `json:"validators"`
	Epochs     uint64              `json:"epochs"`
	Peers      int                 `json:"peers"`
	Finalized  uint64              `json:"finalized_epoch"`
	Events     uint64              `json:"events"`
	Gossip     uint64              `json:"gossip_delivered"`
	Duplicates uint64              `json:"gossip_duplicates"`
	Unsent     uint64              `json:"gossip_duplicates_unsent"`
	Requests   uint64              `json:"requests"`
	Dropped    uint64              `json:"dropped"`
	Bytes      uint64              `json:"bytes"`
	SimSeconds float64             `json:"simulated_seconds"`
	WallMillis int64               `json:"wall_ms"`
	Speedup    float64             `json:"speedup"`
	TraceHash  string              `json:"trace_hash"`
	// The shared caches: signature checks and block transitions saved.
	VerifyHits   uint64 `json:"verify_cache_hits"`
	VerifyMisses uint64 `json:"verify_cache_misses"`
	StateHits    uint64 `json:"state_cache_hits"`
	StateMisses  uint64 `json:"state_cache_misses"`
	// FakeBLS: no signature was verified (--fake-bls).
	FakeBLS bool `json:"fake_bls"`
}

func runSim(c *cli.Context) error {
	cfg, err := simConfig(c)
	if err != nil {
		return cli.Exit("sim run: "+err.Error(), 2)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := netsim.New(cfg)
	if err != nil {
		return cli.Exit("sim run: "+err.Error(), 1)
	}
	defer s.Close()
	if path := c.String("cpuprofile"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			return cli.Exit("sim run: --cpuprofile: "+err.Error(), 1)
		}
		defer stopProfile()
	}
	w, asJSON := c.App.Writer, c.Bool("json")
	var bar *progressbar.ProgressBar
	if showBar(c, asJSON) {
		bar = newBar(c.App.ErrWriter, int64(cfg.Epochs), "sim: epoch", true)
	}
	res, err := s.Run(ctx, func(r netsim.EpochReport) {
		if asJSON {
			_ = json.NewEncoder(w).Encode(r)
			return
		}
		if bar != nil {
			_ = bar.Clear()
		}
		fmt.Fprintln(w, r)
		if bar != nil {
			if r.FakeBLS {
				bar.Describe("sim (FAKE BLS): epoch")
			}
			_ = bar.Set64(int64(r.Epoch + 1))
		}
	})
	if bar != nil {
		_ = bar.Clear()
	}
	if path := c.String("memprofile"); path != "" && err == nil {
		if perr := writeHeapProfile(path); perr != nil {
			return cli.Exit("sim run: --memprofile: "+perr.Error(), 1)
		}
	}
	if err != nil {
		return cli.Exit("sim run: "+err.Error(), 1)
	}
	sum := simSummary{
		Nodes: cfg.Nodes, ShardNodes: cfg.Shard.Nodes, Shards: cfg.Shard.Shards, Validators: cfg.Validators, Epochs: cfg.Epochs,
		Peers:  cfg.Peers,
		Events: res.Events, Gossip: res.Stats.Gossip, Duplicates: res.Stats.Duplicates, Unsent: res.Stats.Unsent,
		Requests: res.Stats.Requests, Dropped: res.Stats.Dropped, Bytes: res.Stats.Bytes,
		SimSeconds: res.SimTime.Seconds(), WallMillis: res.Wall.Milliseconds(),
		Speedup: res.Speedup(), TraceHash: res.TraceHex(),
		VerifyHits: res.Caches.Verify.Hits, VerifyMisses: res.Caches.Verify.Misses,
		StateHits: res.Caches.States.Hits, StateMisses: res.Caches.States.Misses,
		FakeBLS: res.FakeBLS,
	}
	if n := len(res.Epochs); n > 0 {
		sum.Finalized = uint64(res.Epochs[n-1].Finalized)
		sum.Shard = res.Epochs[n-1].Shard
	}
	return printSimSummary(w, sum, asJSON)
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// writeHeapProfile writes the live heap (after a collection) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write profile: %w", err)
	}
	return f.Close()
}

func printSimSummary(w io.Writer, s simSummary, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(s)
	}
	shards := ""
	if s.Shard != nil {
		shards = fmt.Sprintf("  shards: %d shard nodes, %s\n", s.ShardNodes, s.Shard)
	}
	if s.FakeBLS {
		if _, err := fmt.Fprintln(w, "FAKE BLS: no signature was verified in this run (--fake-bls); its results say nothing about signature checks"); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "summary: %d nodes (%s), %d validators, %d epochs, finalized epoch %d\n%s"+
		"  events %d, gossip %d delivered (%d duplicates, %d of them never sent), %d requests, %d dropped, %d bytes\n"+
		"  shared caches: signatures %d hits / %d misses, states %d hits / %d misses\n"+
		"  trace %s  wall %s  speed-up %.1fx over %s of slots\n",
		s.Nodes, peersText(s.Peers), s.Validators, s.Epochs, s.Finalized, shards, s.Events, s.Gossip, s.Duplicates, s.Unsent, s.Requests, s.Dropped, s.Bytes,
		s.VerifyHits, s.VerifyMisses, s.StateHits, s.StateMisses,
		s.TraceHash, time.Duration(s.WallMillis)*time.Millisecond, s.Speedup, time.Duration(s.SimSeconds*float64(time.Second)))
	return err
}

// peersText describes the --peers setting for the summary.
func peersText(peers int) string {
	if peers == 0 {
		return "all connected"
	}
	return fmt.Sprintf("%d peers each", peers)
}
