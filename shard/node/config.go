package node

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/beacon/clock"
	bcore "github.com/shardlab/shardlab/beacon/core"
	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/api"
	"github.com/shardlab/shardlab/shard/chain"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
	st "github.com/shardlab/shardlab/shard/types"
)

// ErrInvalidConfig is wrapped by Config.Validate.
var ErrInvalidConfig = errors.New("invalid shard node config")

// Config configures a shard node.
type Config struct {
	// Transition is the beacon chain's state transition; it must carry the
	// fraud-proof verifier of the chain's genesis (shard/core.FraudVerifier
	// with the genesis state root, as shard/core.NewFraudVerifier). Required.
	Transition *bcore.Transition
	// Genesis is the beacon genesis state (required on a fresh data dir).
	Genesis *bt.BeaconState
	// ShardGenesis optionally gives shards' genesis states; the others are
	// the interop ones, GenesisState(cfg, shard, AccountPubkeys(cfg, shard)).
	ShardGenesis map[bt.Shard]*st.ShardState
	// DataDir holds the beacon database (DataDir/beacon), the shard
	// database (DataDir/shard) and the p2p key (DataDir/p2p.key, unless
	// P2P.KeyFile is set). Empty: in-memory Pebble databases.
	DataDir string

	// P2P configures the libp2p node the shard node builds, on Host when
	// set. Network, when set, is an existing p2p node to run on (the
	// caller owns it). The embedded beacon node shares it.
	P2P     p2p.Config
	Host    host.Host
	Network *p2p.Node

	// Shards are the shards the node follows and serves. At least one.
	Shards []bt.Shard
	// Validators are the interop keys of shard proposer duty: the node
	// proposes the blocks of its shards whose proposer holds one of them,
	// and signs its fraud proofs with one as whistleblower. A shard node
	// never signs beacon messages with them.
	Validators bnode.ValidatorRange
	// BeaconValidators are the keys of the embedded beacon node's
	// validator client (shardlab node: beacon and shard roles in one
	// process); its attesters then read crosslink data from the local
	// shard chains. Empty: a beacon follower.
	BeaconValidators bnode.ValidatorRange

	// Registerer receives the node's metrics (nil: none). With no beacon
	// validators, the beacon follower's and p2p's metrics get the label
	// role="shard", so that a process running a beacon node too can share
	// the registry.
	Registerer prometheus.Registerer
	// Clock is the time source; nil means the system clock.
	Clock clock.Clock

	// HTTPPort serves the HTTP API (the Beacon API endpoints over the
	// beacon follower, and shard/api under /shardlab/v1/) on
	// HTTPHost:HTTPPort; 0 disables it.
	HTTPPort int
	HTTPHost string
	// Version is reported by /eth/v1/node/version.
	Version string
	// API configures the shard endpoints.
	API api.Config

	// Beacon tunes the embedded beacon node (sync, pools, timeouts); its
	// Transition, Genesis, DataDir, P2P, Validators, crosslink data,
	// Registerer, Clock and HTTP fields are set by New.
	Beacon bnode.Config
	// Chain bounds each shard chain's pools (Transition, Shard, Genesis,
	// DB, Beacon and Logger are set by New).
	Chain chain.Config
	// Sync tunes catching up with shard blocks by range.
	Sync SyncConfig
	// Relay tunes the relayer.
	Relay RelayConfig
	// MaxPendingBlocks bounds the gossip blocks kept while their parent or
	// beacon block is fetched.
	MaxPendingBlocks int
}

// SyncConfig tunes shard sync.
type SyncConfig struct {
	// BatchSize is the number of slots asked for in one request.
	BatchSize uint64
	// RequestTimeout bounds one request.
	RequestTimeout time.Duration
}

// RelayConfig tunes the relayer.
type RelayConfig struct {
	// ResendSlots is how long a claim is left to be included before it is
	// published again (also re-sent when the source's crosslink moves).
	ResendSlots uint64
}

// DefaultConfig returns the defaults of a standalone node; the caller sets
// Transition, Genesis, DataDir, Shards, the keys and the p2p addresses.
func DefaultConfig() Config {
	return Config{
		P2P:              bnode.DefaultConfig().P2P, // NetworkName from the genesis state
		HTTPHost:         "127.0.0.1",
		API:              api.DefaultConfig(),
		Beacon:           bnode.DefaultConfig(),
		Chain:            chain.DefaultConfig(),
		Sync:             SyncConfig{BatchSize: 64, RequestTimeout: 10 * time.Second},
		Relay:            RelayConfig{ResendSlots: 8},
		MaxPendingBlocks: 256,
	}
}

// TestConfig returns DefaultConfig for in-process tests (p2p.TestConfig,
// short timeouts).
func TestConfig() Config {
	c := DefaultConfig()
	c.P2P = p2p.TestConfig()
	c.Beacon = bnode.TestConfig()
	c.Sync.RequestTimeout = 3 * time.Second
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Transition == nil {
		return fmt.Errorf("%w: no transition", ErrInvalidConfig)
	}
	pcfg := c.Transition.Config()
	if err := pcfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if !pcfg.Shard.Enabled() {
		return fmt.Errorf("%w: the chain config has no shard fork", ErrInvalidConfig)
	}
	if len(c.Shards) == 0 {
		return fmt.Errorf("%w: no shard to serve", ErrInvalidConfig)
	}
	seen := make(map[bt.Shard]bool)
	for _, s := range c.Shards {
		if uint64(s) >= pcfg.ShardCount || seen[s] {
			return fmt.Errorf("%w: shard %d out of range or repeated", ErrInvalidConfig, s)
		}
		seen[s] = true
	}
	for s := range c.ShardGenesis {
		if !slices.Contains(c.Shards, s) {
			return fmt.Errorf("%w: genesis state of shard %d, which is not served", ErrInvalidConfig, s)
		}
	}
	if c.Network == nil {
		if err := bnode.ValidateP2P(c.P2P); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if c.HTTPPort < 0 || c.HTTPPort > 65535 {
		return fmt.Errorf("%w: http port %d", ErrInvalidConfig, c.HTTPPort)
	}
	if err := c.API.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if c.Sync.BatchSize == 0 || c.Sync.BatchSize > shardhandler.MaxRangeCount || c.Sync.RequestTimeout <= 0 {
		return fmt.Errorf("%w: sync config %+v", ErrInvalidConfig, c.Sync)
	}
	if c.Relay.ResendSlots == 0 {
		return fmt.Errorf("%w: relay resend interval of 0 slots", ErrInvalidConfig)
	}
	if c.MaxPendingBlocks <= 0 {
		return fmt.Errorf("%w: max pending blocks %d", ErrInvalidConfig, c.MaxPendingBlocks)
	}
	if c.Chain.MaxPoolTxs <= 0 || c.Chain.MaxTxsPerAccount <= 0 || c.Chain.MaxPoolClaims <= 0 || c.Chain.MaxInvalid <= 0 {
		return fmt.Errorf("%w: chain pool bounds must be positive", ErrInvalidConfig)
	}
	return nil
}
