package node

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/slasher"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// ErrInvalidConfig is wrapped by Config.Validate.
var ErrInvalidConfig = errors.New("invalid node config")

// Config configures a beacon node.
type Config struct {
	// Transition is the chain's state transition (its config is the chain
	// config; for the shard fork it must carry the fraud-proof verifier).
	// Required.
	Transition *core.Transition
	// Genesis is the genesis state. Required on a fresh data dir; checked
	// against the stored one otherwise.
	Genesis *types.BeaconState
	// DataDir holds the node's database (DataDir/beacon) and, unless
	// P2P.KeyFile is set, its p2p key. Empty: an in-memory Pebble database
	// (tests, simulations), lost on Close.
	DataDir string

	// P2P configures the libp2p node the beacon node builds (New), on Host
	// when set (NewWithHost: the simulator's mock hosts). Ignored when
	// Network is set.
	P2P  p2p.Config
	Host host.Host
	// Network, when set, is an existing p2p node to run on (p2ptest); the
	// caller owns it (Close does not close it) and must not have subscribed
	// to the beacon topics.
	Network *p2p.Node

	// Validators is the range of interop keys hosted by the validator client
	// (key i is validator i of an interop genesis). Empty: no duties.
	Validators ValidatorRange
	// Graffiti is put in proposed blocks (at most 32 bytes).
	Graffiti string
	// CrosslinkData gives attesters the data roots of shard crosslinks in
	// the shard fork. Nil: ask peers that serve the shard (RemoteCrosslinkData).
	CrosslinkData CrosslinkData
	// CrosslinkDataTimeout bounds one data-root lookup of an attester.
	CrosslinkDataTimeout time.Duration
	// ServeCrosslinkData, when set, answers CrosslinkDataRootProtocol
	// requests for ServedShards, which the node's status announces.
	ServeCrosslinkData CrosslinkData
	ServedShards       []uint64

	// Registerer receives the node's and chain's metrics; nil registers
	// nothing. p2p metrics go to it too when the node builds its p2p node.
	Registerer prometheus.Registerer
	// Clock is the node's time source; nil means the system clock.
	Clock clock.Clock

	// HTTPPort is the port of the HTTP API (beacon/api on the node, see
	// api.go); 0 disables it. HTTPHost is its listen address (empty:
	// 127.0.0.1). Run serves it and shuts it down gracefully.
	HTTPPort int
	HTTPHost string
	// PprofAddr, when set (host:port, an empty host meaning 127.0.0.1),
	// serves Go's net/http/pprof profiles there (PprofPrefix) while Run
	// runs; empty: off. Anyone reaching it can profile the process and
	// read its command line: keep it on a loopback address.
	PprofAddr string
	// Version is reported by /eth/v1/node/version ("" for the default,
	// shardlab/dev/<os>-<arch>).
	Version string

	// Chain bounds the chain service's pools (Transition, Store, Genesis,
	// Logger and Registerer are set by the node).
	Chain chain.Config
	// Sync tunes catching up with peers.
	Sync SyncConfig
	// MaxBlockArrivals bounds the first-seen times kept for BlockArrivals.
	MaxBlockArrivals int
	// Slasher runs the slasher (on in DefaultConfig).
	Slasher SlasherConfig
	// DebugAPI mounts the debug routes that stage faults and byzantine
	// behaviour on the HTTP API (debug.go; off by default: testnets only).
	DebugAPI bool
}

// SyncConfig tunes the sync and status exchange (see beacon/handler).
type SyncConfig = handler.SyncConfig

// DefaultConfig returns the defaults of a standalone node; the caller sets
// Transition, Genesis, DataDir and the p2p listen addresses.
func DefaultConfig() Config {
	return Config{
		P2P:                  defaultP2P(),
		CrosslinkDataTimeout: time.Second,
		Chain:                chain.DefaultConfig(),
		Sync: SyncConfig{
			BatchSize:      64,
			StatusInterval: 2,
			MaxParentFetch: 32,
			RequestTimeout: 10 * time.Second,
		},
		MaxBlockArrivals: 8192,
		HTTPHost:         "127.0.0.1",
		Slasher:          SlasherConfig{Enabled: true, Config: slasher.DefaultConfig()},
	}
}

// TestConfig returns DefaultConfig for in-process tests: p2p.TestConfig and
// short request timeouts.
func TestConfig() Config {
	c := DefaultConfig()
	c.P2P = p2p.TestConfig()
	c.Sync.RequestTimeout = 3 * time.Second
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Transition == nil {
		return fmt.Errorf("%w: no transition", ErrInvalidConfig)
	}
	if err := c.Transition.Config().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if c.Network == nil {
		if err := ValidateP2P(c.P2P); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if len(c.Graffiti) > 32 {
		return fmt.Errorf("%w: graffiti of %d bytes (at most 32)", ErrInvalidConfig, len(c.Graffiti))
	}
	if c.CrosslinkDataTimeout <= 0 {
		return fmt.Errorf("%w: crosslink data timeout %v", ErrInvalidConfig, c.CrosslinkDataTimeout)
	}
	if len(c.ServedShards) > MaxServedShards {
		return fmt.Errorf("%w: %d served shards", ErrInvalidConfig, len(c.ServedShards))
	}
	for _, sh := range c.ServedShards {
		if sh >= c.Transition.Config().ShardCount {
			return fmt.Errorf("%w: served shard %d >= SHARD_COUNT", ErrInvalidConfig, sh)
		}
	}
	if len(c.ServedShards) > 0 && c.ServeCrosslinkData == nil {
		return fmt.Errorf("%w: served shards without a crosslink data source to serve", ErrInvalidConfig)
	}
	s := c.Sync
	if s.BatchSize == 0 || s.BatchSize > 1024 || s.StatusInterval == 0 || s.MaxParentFetch < 0 || s.RequestTimeout <= 0 {
		return fmt.Errorf("%w: sync config %+v", ErrInvalidConfig, s)
	}
	if c.Slasher.Enabled {
		if err := c.Slasher.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if c.MaxBlockArrivals <= 0 {
		return fmt.Errorf("%w: max block arrivals %d", ErrInvalidConfig, c.MaxBlockArrivals)
	}
	if c.HTTPPort < 0 || c.HTTPPort > 65535 {
		return fmt.Errorf("%w: http port %d", ErrInvalidConfig, c.HTTPPort)
	}
	if err := validatePprofAddr(c.PprofAddr); err != nil {
		return err
	}
	if c.Chain.MaxPoolAttestations < 0 || c.Chain.MaxPendingAttestations < 0 || c.Chain.MaxPoolOperations < 0 || c.Chain.CheckpointStates < 0 {
		return fmt.Errorf("%w: negative chain pool bound", ErrInvalidConfig)
	}
	return nil
}

// ValidatorRange is a range [Start, Start+Count) of interop key indices.
type ValidatorRange struct {
	Start, Count uint64
}

// Empty reports whether the range holds no key.
func (r ValidatorRange) Empty() bool { return r.Count == 0 }

// String renders the range as A-B (inclusive), or "none".
func (r ValidatorRange) String() string {
	if r.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("%d-%d", r.Start, r.Start+r.Count-1)
}

// ParseValidatorRange parses "A-B" (inclusive, A <= B), "A" (one key) or ""
// (none).
func ParseValidatorRange(s string) (ValidatorRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return ValidatorRange{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
	if err != nil {
		return ValidatorRange{}, fmt.Errorf("parse validator range %q: want A-B", s)
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil {
			return ValidatorRange{}, fmt.Errorf("parse validator range %q: want A-B", s)
		}
	}
	if b < a || b == ^uint64(0) {
		return ValidatorRange{}, fmt.Errorf("parse validator range %q: end before start", s)
	}
	return ValidatorRange{Start: a, Count: b - a + 1}, nil
}

// defaultP2P is p2p's default configuration with an empty NetworkName:
// the node derives it from the genesis state (NetworkName).
func defaultP2P() p2p.Config {
	pc := p2p.DefaultConfig()
	pc.NetworkName = ""
	return pc
}
