package statesim

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
)

// WriteBlocksCase writes a phase 0 chain made elsewhere (a scenario run's
// canonical chain) as a sanity/blocks case in dir, in the layout
// testcase.go describes: pre (the genesis state), the blocks in order and
// post (the state after the last block). dir must not exist or be empty.
func WriteBlocksCase(dir string, pre *types.BeaconState, blocks []types.AnyBlock, post *types.BeaconState) error {
	for _, b := range blocks {
		if _, ok := b.(*types.BeaconBlock); !ok {
			return fmt.Errorf("write test case: block at slot %d is not a phase 0 block (shard-fork chains are exported by statesim only)", b.GetSlot())
		}
	}
	w, err := newCaseWriter(dir, pre)
	if err != nil {
		return err
	}
	for _, b := range blocks {
		if err := w.block(b); err != nil {
			return err
		}
	}
	return w.finish(post)
}
