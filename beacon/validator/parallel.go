package validator

import (
	"fmt"
	"sync"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// Parallel helpers for large key sets (simulations and benchmarks with tens of
// thousands of validators).

// minChunk is the smallest share of keys given to one goroutine; deriving a
// public key costs about 0.1 ms.
const minChunk = 512

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

// NewInteropKeysParallel derives interop keys [0, n) on up to workers goroutines.
func NewInteropKeysParallel(n uint64, workers int) (*Keys, error) {
	parts := chunks(n, workers)
	keys := make([]*Keys, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() { keys[i], errs[i] = NewInteropKeys(p[0], p[1]-p[0]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return JoinKeys(keys...)
}

// WarmPubkeys decompresses every validator key of st into tr's cache.
func WarmPubkeys(tr *core.Transition, st *types.BeaconState, workers int) error {
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
