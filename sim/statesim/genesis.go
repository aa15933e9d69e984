package statesim

import (
	"fmt"
	"runtime"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// genesis derives the keys and builds the interop genesis state, then warms
// the transition's public-key cache so that the first epoch's timings do not
// include decompressing every validator key. Key derivation and the warm-up
// run on all CPUs.
func (r *run) genesis() (*types.BeaconState, error) {
	n := r.cfg.Validators
	keys, err := validator.NewInteropKeysParallel(n, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	r.keys = keys
	gt := r.cfg.GenesisTime
	if gt == 0 {
		gt = r.cfg.Chain.MinGenesisTime
	}
	opts := []validator.GenesisOption{validator.WithKeys(keys)}
	if r.cfg.SkipDepositSignatures {
		opts = append(opts, validator.SkipDepositSignatures())
	}
	st, err := validator.InteropGenesis(r.tr, n, gt, opts...)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	if err := validator.WarmPubkeys(r.tr, st, runtime.GOMAXPROCS(0)); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return st, nil
}
