package chain

import (
	"fmt"
	"log/slog"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store/kv"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/crypto/sigcache"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// Beacon is what the service reads of the beacon chain (beacon/chain.Service
// implements it). StateAt returns a copy the caller owns; blocks are shared
// and read-only.
type Beacon interface {
	Head() (bt.Root, bt.Slot)
	Block(root bt.Root) (bt.AnyBlock, bool)
	StateAt(blockRoot bt.Root) (*bt.BeaconState, bool)
	CanonicalBlock(slot bt.Slot) (bt.AnyBlock, bt.Root, bool)
}

// Config configures a Service.
type Config struct {
	// Transition is the beacon chain's state transition (its config is the
	// chain config). Required.
	Transition *bcore.Transition
	// Shard is the shard the service follows.
	Shard bt.Shard
	// Genesis is the shard's genesis state (docs/protocol.md §2.6).
	// Required; the service keeps its own copy.
	Genesis *st.ShardState
	// DB holds the shard chain (namespaced by shard, so the shards of a
	// node share one database). Required.
	DB kv.DB
	// Beacon is the beacon chain the shard follows. Required.
	Beacon Beacon
	// TxDomain binds transaction signatures to the chain:
	// shard/core.ComputeTxDomain of the beacon genesis state root
	// (docs/protocol.md §2.5). Required.
	TxDomain shardcore.TxDomain
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
	// TxCache remembers verified transaction signatures: a transaction
	// checked at pool admission is not checked again when a block executes
	// it (fraud-proof re-execution never uses it). VerifyCache does the same
	// for BLS signatures (shard block proposers). nil: New makes one of
	// sigcache.DefaultEntries entries; a node shares one of each among its
	// shards (and its beacon chain's VerifyCache), a simulation among all
	// its nodes.
	TxCache     *sigcache.Cache
	VerifyCache *bls.VerifyCache

	// MaxPoolTxs bounds the transaction pool, MaxTxsPerAccount the queue of
	// one account (consecutive nonces).
	MaxPoolTxs       int
	MaxTxsPerAccount int
	// MaxPoolClaims bounds the claims pool. Receipts become claimable a
	// crosslink (an epoch of source blocks) at a time, and a claim the full
	// pool refuses leaves a gap that stops the pool's stream from its source
	// until the relayer resends it, so the default holds an epoch of blocks
	// at the claim cap (SLOTS_PER_EPOCH 8 of the minimal preset x
	// MAX_SHARD_CLAIMS).
	MaxPoolClaims int
	// RetainEpochs is how many epochs of blocks before the anchor stay in
	// memory (headers and receipts, for crosslink data and relaying).
	RetainEpochs uint64
	// MaxInvalid bounds the invalid blocks remembered with their headers
	// (for crosslink evidence).
	MaxInvalid int
	// MaxSentLog bounds the claimed receipts kept per destination for the
	// API (pending ones are always kept).
	MaxSentLog int
}

// DefaultConfig returns the bounds of a node; the caller sets Transition,
// Shard, Genesis, DB, Beacon, TxDomain and Logger.
func DefaultConfig() Config {
	return Config{
		MaxPoolTxs:       8192,
		MaxTxsPerAccount: 64,
		MaxPoolClaims:    8 * params.MaxShardClaims,
		RetainEpochs:     16,
		MaxInvalid:       256,
		MaxSentLog:       1024,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Transition == nil || c.Genesis == nil || c.DB == nil || c.Beacon == nil {
		return fmt.Errorf("%w: transition, genesis, database and beacon chain are required", ErrInvalidConfig)
	}
	if c.TxDomain.IsZero() {
		return fmt.Errorf("%w: the transaction domain is required", ErrInvalidConfig)
	}
	cfg := c.Transition.Config()
	if !cfg.Shard.Enabled() {
		return fmt.Errorf("%w: the chain config has no shard fork", ErrInvalidConfig)
	}
	if uint64(c.Shard) >= cfg.ShardCount {
		return fmt.Errorf("%w: shard %d >= SHARD_COUNT %d", ErrInvalidConfig, c.Shard, cfg.ShardCount)
	}
	if c.Genesis.Shard != c.Shard || uint64(len(c.Genesis.Accounts)) != cfg.Shard.Accounts ||
		uint64(len(c.Genesis.OutboxNonces)) != cfg.ShardCount || uint64(len(c.Genesis.InboxNonces)) != cfg.ShardCount {
		return fmt.Errorf("%w: genesis state is not shard %d's of this config", ErrInvalidConfig, c.Shard)
	}
	if c.MaxPoolTxs <= 0 || c.MaxTxsPerAccount <= 0 || c.MaxPoolClaims <= 0 || c.MaxInvalid <= 0 || c.MaxSentLog < 0 {
		return fmt.Errorf("%w: pool bounds must be positive", ErrInvalidConfig)
	}
	return nil
}
