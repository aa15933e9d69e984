package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// ErrInvalidConfig is wrapped by Config.Validate.
var ErrInvalidConfig = errors.New("invalid bench config")

// Config configures one benchmark run.
type Config struct {
	// Testnet is the network to start (its TxRate and Epochs are ignored:
	// the benchmark drives the load and the length).
	Testnet  testnet.Config
	Workload Workload

	// Rate is the offered rate (transactions per second); Ramp, when set,
	// raises it linearly from 0 over that long before the warm-up.
	Rate float64
	// CapFraction, when set, replaces Rate with that fraction of the
	// run's protocol cap (Cap): a sweep offers each point the same share
	// of its own cap.
	CapFraction float64
	Ramp        time.Duration
	// FindMax searches the highest sustainable rate: from Rate (0: an
	// eighth of the protocol cap) it raises the rate by StepFactor every
	// Step until the included rate falls below 95% of the offered one,
	// fewer than 95% are accepted, or the p99 inclusion latency passes
	// MaxP99; then, after a Step without load for the pools to drain, it
	// holds the last sustainable rate for the window.
	FindMax    bool
	Step       time.Duration
	StepFactor float64
	MaxP99     time.Duration
	// Bursts: every BurstEvery, for BurstLength, the rate is multiplied
	// by BurstFactor (0: no bursts).
	BurstEvery  time.Duration
	BurstLength time.Duration
	BurstFactor float64

	// Warmup precedes the measured window of length Duration; Drain is
	// how long the nodes are still followed after the load stops, for
	// the window's transactions to reach crosslinks, finality and claims
	// (it ends early once they all have).
	Warmup, Duration, Drain time.Duration

	// Lanes is the number of parallel submission connections (each with
	// its own signer); BatchSize the most transactions of one batch;
	// Flush the longest a transaction waits for its batch to fill.
	Lanes     int
	BatchSize int
	Flush     time.Duration

	// LoadShards, when set, loads only shards 0 to LoadShards-1 (the rest
	// of the chain's shards stay idle) and the cap counts those (see
	// FitShards); 0 loads every shard.
	LoadShards uint64
	// CPUProfile, when set, is a directory: every node serves pprof
	// (testnet.Config.Pprof) and a CPU profile of each, and of the
	// benchmark, is written there for the measured window.
	CPUProfile string

	// Progress, when set, is called about once a second.
	Progress func(Progress)
	// Log receives diagnostics (nil: none).
	Log *slog.Logger
}

// Progress is the state of a run for a live line.
type Progress struct {
	Phase             string
	Elapsed, Total    time.Duration
	Rate              float64
	Offered, Included uint64
	Rejected          uint64
}

// DefaultConfig returns the defaults of `shardlab bench throughput`: the
// default testnet (8 shards, 2 s slots, 4 beacon and 4 shard nodes), 1,000
// tx/s, half cross-shard, 2 epochs of warm-up, 4 measured, 8 lanes.
func DefaultConfig() Config {
	tn := testnet.DefaultConfig()
	tn.Dir = "bench-testnet"
	tn.TxRate, tn.Epochs = 0, 0
	return Config{
		Testnet:    tn,
		Workload:   Workload{CrossShard: 0.5, Seed: 1},
		Rate:       1000,
		StepFactor: 1.25,
		Warmup:     32 * time.Second,
		Duration:   64 * time.Second,
		Drain:      96 * time.Second,
		Lanes:      8,
		BatchSize:  512,
		Flush:      100 * time.Millisecond,
	}
}

// Validate checks the configuration (not the testnet's, which
// testnet.New checks).
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Testnet.ShardNodes < 1 || c.Testnet.Shards < 1:
		return bad("no shard nodes or no shards: nothing to load")
	case c.Rate < 0 || c.Rate > 1e6:
		return bad("rate %v: 0 to 1e6 per second", c.Rate)
	case c.CapFraction < 0 || c.CapFraction > 4:
		return bad("cap fraction %v: 0 to 4", c.CapFraction)
	case c.CapFraction > 0 && c.FindMax:
		return bad("a cap fraction and find-max exclude each other")
	case c.Rate == 0 && !c.FindMax && c.CapFraction == 0:
		return bad("rate 0 without find-max")
	case c.Workload.CrossShard < 0 || c.Workload.CrossShard > 1:
		return bad("cross-shard fraction %v: 0 to 1", c.Workload.CrossShard)
	case c.Workload.Zipf != 0 && c.Workload.Zipf <= 1:
		return bad("zipf exponent %v: above 1 (or 0 for uniform senders)", c.Workload.Zipf)
	case c.Duration <= 0 || c.Warmup < 0 || c.Drain < 0 || c.Ramp < 0:
		return bad("durations: a positive window, non-negative warm-up, ramp and drain")
	case c.FindMax && (c.StepFactor <= 1 || c.StepFactor > 4):
		return bad("find-max step factor %v: above 1, at most 4", c.StepFactor)
	case c.BurstFactor < 0 || (c.BurstFactor > 0 && (c.BurstEvery <= 0 || c.BurstLength <= 0 || c.BurstLength >= c.BurstEvery)):
		return bad("bursts: a factor > 0 needs 0 < burst length < burst period")
	case c.Lanes < 1 || c.Lanes > 64:
		return bad("%d lanes: 1 to 64", c.Lanes)
	case c.BatchSize < 1 || c.BatchSize > 1024:
		return bad("batch size %d: 1 to 1024 (the node's batch bound)", c.BatchSize)
	case c.LoadShards > c.Testnet.Shards:
		return bad("%d loaded shards of %d", c.LoadShards, c.Testnet.Shards)
	case c.Flush <= 0:
		return bad("flush interval %v: positive", c.Flush)
	}
	return nil
}
