package chain

import "github.com/shardlab/shardlab/beacon/types"

// blockBody returns the phase 0 part of a block's body and, for a
// shard-fork block, its fraud proofs.
func blockBody(b types.AnyBlock) (*types.BeaconBlockBody, [][]byte) {
	switch blk := b.(type) {
	case *types.BeaconBlock:
		return &blk.Body, nil
	case *types.ShardBeaconBlock:
		return blk.Body.Phase0(), blk.Body.ShardFraudProofs
	}
	return &types.BeaconBlockBody{}, nil
}
