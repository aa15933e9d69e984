package statesim

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// minChunk is the smallest share of keys given to one goroutine; deriving a
// public key costs about 0.1 ms.
const minChunk = 512

// genesis derives the keys and builds the interop genesis state, then warms
// the transition's public-key cache so that the first epoch's timings do not
// include decompressing every validator key. Key derivation and the warm-up
// run on all CPUs.
func (r *run) genesis() (*types.BeaconState, error) {
	n := r.cfg.Validators
	keys, err := interopKeys(n, runtime.GOMAXPROCS(0))
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
	if err := warmPubkeys(r.tr, st, runtime.GOMAXPROCS(0)); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return st, nil
}

// chunks splits [0, n) into at most workers consecutive ranges of at least
// minChunk (but one).
func chunks(n uint64, workers int) [][2]uint64 {
	w := uint64(max(workers, 1))
	size := max((n+w-1)/w, minChunk)
	var out [][2]uint64
	for lo := uint64(0); lo < n; lo += size {
		out = append(out, [2]uint64{lo, min(lo+size, n)})
	}
	return out
}

// interopKeys derives interop keys [0, n) in parallel.
func interopKeys(n uint64, workers int) (*validator.Keys, error) {
	parts := chunks(n, workers)
	keys := make([]*validator.Keys, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() { keys[i], errs[i] = validator.NewInteropKeys(p[0], p[1]-p[0]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return validator.JoinKeys(keys...)
}

// warmPubkeys decompresses every validator key of st into tr's cache.
func warmPubkeys(tr *core.Transition, st *types.BeaconState, workers int) error {
	parts := chunks(uint64(len(st.Validators)), workers)
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() {
			for v := p[0]; v < p[1]; v++ {
				if _, err := tr.Pubkeys().Get(st.Validators[v].Pubkey); err != nil {
					errs[i] = fmt.Errorf("decode pubkey of validator %d: %w", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
