package netsim

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/forkchoice"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/crypto/sigcache"
)

// shared is what the simulated nodes share to cost less than that many
// real nodes: one cache of verified signatures (each distinct signature is
// verified once per run) and one cache of immutable block post-states
// and checkpoint states (each block is transitioned, and each checkpoint
// state advanced, once per run). Neither changes
// a result: a hit stands for a check or a transition another node ran on
// exactly the same inputs.
type shared struct {
	verify *bls.VerifyCache
	states *forkchoice.StateCache
	// tx holds the verified transaction signatures of every simulated
	// shard chain (nil: each chain makes its own).
	tx *sigcache.Cache
}

// CacheStats are the counters of the caches the nodes share (zero when
// Config.Unshared).
type CacheStats struct {
	Verify sigcache.Stats
	States forkchoice.StateCacheStats
}

// newShared sizes the shared caches for the run: the verifications of
// four epochs of attestations (one per validator and epoch, plus the
// blocks' aggregates), and the post-states of four epochs of blocks with
// their checkpoint states.
// unshared returns none: each node then makes its own, as real nodes do.
func newShared(cfg Config, pc *params.Config) (*shared, error) {
	if cfg.Unshared {
		return &shared{}, nil
	}
	states, err := forkchoice.NewStateCache(int(4*pc.SlotsPerEpoch + 8))
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	if cfg.FakeBLS {
		states.ShareUnverified() // no node checks a signature
	}
	entries := max(sigcache.DefaultEntries, int(min(cfg.Validators, 1<<24))*4)
	return &shared{verify: bls.NewVerifyCache(entries), states: states, tx: sigcache.New(sigcache.DefaultEntries)}, nil
}

// stats returns the caches' counters.
func (sh *shared) stats() CacheStats {
	return CacheStats{Verify: sh.verify.Stats(), States: sh.states.Stats()}
}
