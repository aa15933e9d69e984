package netsim

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/p2p"
)

// Config configures a simulation.
type Config struct {
	// Chain is the chain config (nil: the minimal preset). SlotTime
	// overrides its SECONDS_PER_SLOT.
	Chain *params.Config
	// Nodes is the number of beacon nodes; Validators are split evenly
	// between them (interop keys).
	Nodes      int
	Validators uint64
	// Epochs is how long the run lasts.
	Epochs uint64
	// SlotTime is the slot duration (whole seconds; 0: the preset's).
	SlotTime time.Duration
	// Latency is the one-way delay of every link.
	Latency Latency
	// Loss is the probability that a message (gossip, request or
	// response) is lost.
	Loss float64
	// Bandwidth is each link's rate in bytes per second (0: unlimited);
	// a message of n bytes takes n/Bandwidth more to arrive.
	Bandwidth float64
	// Peers is the peer count each node connects to, as the real node's
	// --target-peers (plus, with shard nodes, one server of every shard
	// none of them serves); 0, or at least the node count less one:
	// every node is every node's peer (see buildPeers in network.go).
	Peers int
	// MeshDegree is the gossip mesh degree D among a node's peers (0, or
	// at least the node count less one: flooding to every peer).
	MeshDegree int
	// Reorder lets messages on one link overtake each other; false keeps
	// each link first in, first out.
	Reorder bool
	// Slasher runs a slasher on every node (sim/netsim/slasher.go).
	Slasher bool
	// Unshared gives every node its own signature and state caches, as
	// real processes have, instead of the caches all nodes share (see
	// docs/simulator.md); the results are the same, only slower.
	Unshared bool
	// FakeBLS verifies no signature (signatures are still made): for very
	// large runs only. Every report of such a run says so.
	FakeBLS bool
	// Seed seeds every random choice of the run.
	Seed uint64
	// Logger receives the handlers' logs (nil: discarded).
	Logger *slog.Logger
	// Shard is the shard side: shard nodes, shards and workload (zero: a
	// beacon-only run; see shard.go).
	Shard ShardConfig
	// Score is the peer scoring (score.go) of the nodes (nil: p2p's
	// default, p2p.DefaultConfig().Score; Enabled false: none).
	Score *p2p.ScoreConfig
}

// DefaultConfig is 4 nodes, 64 validators, 8 epochs of 2-second slots,
// 50ms±20ms links, 16 peers a node (the real node's default target),
// flooding, seed 1.
func DefaultConfig() Config {
	return Config{
		Nodes: 4, Validators: 64, Epochs: 8, SlotTime: 2 * time.Second, Peers: DefaultPeers,
		Latency: Latency{Mean: 50 * time.Millisecond, Jitter: 20 * time.Millisecond, Dist: Normal},
		Seed:    1,
	}
}

// DefaultPeers is the default Config.Peers, p2p's default discovery target.
const DefaultPeers = 16

// Validate checks c.
func (c Config) Validate() error {
	switch {
	case c.Nodes < 1:
		return fmt.Errorf("%w: %d nodes", ErrInvalidConfig, c.Nodes)
	case c.Validators < uint64(c.Nodes):
		return fmt.Errorf("%w: %d validators for %d nodes", ErrInvalidConfig, c.Validators, c.Nodes)
	case c.Epochs < 1:
		return fmt.Errorf("%w: %d epochs", ErrInvalidConfig, c.Epochs)
	case c.SlotTime < 0 || c.SlotTime%time.Second != 0:
		return fmt.Errorf("%w: slot time %s is not whole seconds", ErrInvalidConfig, c.SlotTime)
	case c.Loss < 0 || c.Loss >= 1 || math.IsNaN(c.Loss):
		return fmt.Errorf("%w: loss %v not in [0, 1)", ErrInvalidConfig, c.Loss)
	case c.Bandwidth < 0 || math.IsNaN(c.Bandwidth):
		return fmt.Errorf("%w: bandwidth %v", ErrInvalidConfig, c.Bandwidth)
	case c.MeshDegree < 0:
		return fmt.Errorf("%w: mesh degree %d", ErrInvalidConfig, c.MeshDegree)
	case c.Peers < 0:
		return fmt.Errorf("%w: %d peers", ErrInvalidConfig, c.Peers)
	}
	spe := params.Minimal().SlotsPerEpoch
	if c.Chain != nil {
		spe = c.Chain.SlotsPerEpoch
	}
	if err := c.Shard.validate(spe); err != nil {
		return err
	}
	return c.Latency.validate()
}

// Distribution is a latency distribution.
type Distribution int

// The latency distributions.
const (
	// Fixed is always Mean.
	Fixed Distribution = iota
	// Uniform is uniform in [Mean-Jitter, Mean+Jitter].
	Uniform
	// Normal is normal with mean Mean and standard deviation Jitter,
	// clipped at zero.
	Normal
)

// Latency is a link delay distribution.
type Latency struct {
	Mean, Jitter time.Duration
	Dist         Distribution
}

func (l Latency) validate() error {
	if l.Mean < 0 || l.Jitter < 0 || (l.Dist == Uniform && l.Jitter > l.Mean) || l.Dist < Fixed || l.Dist > Normal {
		return fmt.Errorf("%w: latency %s", ErrInvalidConfig, l)
	}
	return nil
}

// sample draws one delay.
func (l Latency) sample(r *rand.Rand) time.Duration {
	switch l.Dist {
	case Uniform:
		if l.Jitter == 0 {
			return l.Mean
		}
		return l.Mean - l.Jitter + time.Duration(r.Int64N(int64(2*l.Jitter)+1))
	case Normal:
		return max(0, l.Mean+time.Duration(r.NormFloat64()*float64(l.Jitter)))
	}
	return l.Mean
}

// String formats l as ParseLatency reads it.
func (l Latency) String() string {
	switch l.Dist {
	case Uniform:
		return fmt.Sprintf("%s~%s", l.Mean, l.Jitter)
	case Normal:
		return fmt.Sprintf("%s±%s", l.Mean, l.Jitter)
	}
	return l.Mean.String()
}

// ParseLatency reads "50ms" (fixed), "50ms±20ms" or "50ms+-20ms" (normal,
// standard deviation 20ms) and "50ms~20ms" (uniform in [30ms, 70ms]).
func ParseLatency(s string) (Latency, error) {
	var l Latency
	mean, jitter, found := s, "", false
	for _, sep := range []struct {
		s string
		d Distribution
	}{{"±", Normal}, {"+-", Normal}, {"~", Uniform}} {
		if m, j, ok := strings.Cut(s, sep.s); ok {
			mean, jitter, found, l.Dist = m, j, true, sep.d
			break
		}
	}
	var err error
	if l.Mean, err = time.ParseDuration(strings.TrimSpace(mean)); err != nil {
		return Latency{}, fmt.Errorf("%w: latency %q: %w", ErrInvalidConfig, s, err)
	}
	if found {
		if l.Jitter, err = time.ParseDuration(strings.TrimSpace(jitter)); err != nil {
			return Latency{}, fmt.Errorf("%w: latency %q: %w", ErrInvalidConfig, s, err)
		}
	}
	if err := l.validate(); err != nil {
		return Latency{}, err
	}
	return l, nil
}
