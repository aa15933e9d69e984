package chain

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/forkchoice"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/crypto/sigcache"
)

// Config configures a Service.
type Config struct {
	// Transition runs the state transition; it carries the chain config and,
	// for the shard fork, the fraud-proof verifier. Required.
	Transition *core.Transition
	// Store persists the chain. Required.
	Store *store.Store
	// Genesis is the genesis state. It initialises an empty store; with a
	// non-empty store it may be nil, and otherwise must be the stored
	// genesis. The Service keeps its own copy.
	Genesis *types.BeaconState
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the chain metrics; nil registers nothing.
	Registerer prometheus.Registerer

	// MaxPoolAttestations bounds the attestation pool (the oldest are
	// dropped first).
	MaxPoolAttestations int
	// MaxPendingAttestations bounds the attestations that are valid but wait
	// for their slot to end before the fork choice counts them.
	MaxPendingAttestations int
	// MaxPoolOperations bounds each of the pools of voluntary exits,
	// proposer slashings, attester slashings and fraud proofs.
	MaxPoolOperations int
	// CheckpointStates bounds the cache of target checkpoint states used to
	// validate attestations.
	CheckpointStates int
	// VerifyCache remembers verified BLS signatures, so that an attestation
	// or block checked at gossip validation is not checked again at import
	// (or by the next node, when simulated nodes share one cache). nil: New
	// makes one of VerifyCacheEntries entries.
	VerifyCache *bls.VerifyCache
	// VerifyCacheEntries bounds the cache New makes (0: the default).
	VerifyCacheEntries int
	// StateCache, when not nil, shares the post-states of fully validated
	// blocks with the other chains given the same cache (simulated nodes in
	// one process, which must then run on one goroutine): a block another
	// chain imported from the same parent state is not transitioned again,
	// and both hold one immutable copy of its post-state. nil (real nodes):
	// every block is transitioned on a private copy.
	StateCache *forkchoice.StateCache
	// SkipSignatures verifies no BLS signature at all, as if every one were
	// valid (the simulator's --fake-bls, for very large runs). Never for a
	// real node: a chain that skips signatures accepts forgeries.
	SkipSignatures bool
}

// DefaultConfig returns the pool and cache bounds of a node; the caller sets
// Transition, Store, Genesis, Logger and Registerer.
func DefaultConfig() Config {
	return Config{
		MaxPoolAttestations:    8192,
		MaxPendingAttestations: 8192,
		MaxPoolOperations:      1024,
		CheckpointStates:       8,
		VerifyCacheEntries:     sigcache.DefaultEntries,
	}
}

// Validate checks the configuration. A zero bound means its default.
func (c Config) Validate() error {
	if c.Transition == nil {
		return fmt.Errorf("%w: no transition", ErrInvalidConfig)
	}
	if c.Store == nil {
		return fmt.Errorf("%w: no store", ErrInvalidConfig)
	}
	if c.MaxPoolAttestations < 0 || c.MaxPendingAttestations < 0 || c.MaxPoolOperations < 0 || c.CheckpointStates < 0 || c.VerifyCacheEntries < 0 {
		return fmt.Errorf("%w: negative pool bound", ErrInvalidConfig)
	}
	return nil
}

// withDefaults fills the zero bounds.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxPoolAttestations == 0 {
		c.MaxPoolAttestations = d.MaxPoolAttestations
	}
	if c.MaxPendingAttestations == 0 {
		c.MaxPendingAttestations = d.MaxPendingAttestations
	}
	if c.MaxPoolOperations == 0 {
		c.MaxPoolOperations = d.MaxPoolOperations
	}
	if c.CheckpointStates == 0 {
		c.CheckpointStates = d.CheckpointStates
	}
	if c.VerifyCache == nil {
		c.VerifyCache = bls.NewVerifyCache(c.VerifyCacheEntries)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
