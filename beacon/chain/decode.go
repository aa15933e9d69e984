package chain

import (
	"encoding/binary"
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// ShardForkAtSlot reports whether blocks of slot are ShardBeaconBlocks: the
// shard fork is enabled and the slot's epoch is at or past SHARD_FORK_EPOCH.
// The genesis block is always a phase 0 BeaconBlock.
func ShardForkAtSlot(cfg *params.Config, slot types.Slot) bool {
	s := cfg.Shard
	return s.Enabled() && uint64(slot) != cfg.GenesisSlot && uint64(slot)/cfg.SlotsPerEpoch >= s.ForkEpoch
}

// DecodeBlock decodes the SSZ of a beacon block of either kind, strictly
// (types.Decode): the slot, the first 8 bytes of both containers, selects
// ShardBeaconBlock (ShardForkAtSlot) or BeaconBlock. Errors wrap
// types.ErrInvalidSSZ.
func DecodeBlock(cfg *params.Config, buf []byte) (types.AnyBlock, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("decode block: %w: %d bytes", types.ErrInvalidSSZ, len(buf))
	}
	slot := types.Slot(binary.LittleEndian.Uint64(buf))
	var b types.AnyBlock
	if ShardForkAtSlot(cfg, slot) {
		b = new(types.ShardBeaconBlock)
	} else {
		b = new(types.BeaconBlock)
	}
	if err := types.Decode(b, buf); err != nil {
		return nil, fmt.Errorf("decode block of slot %d: %w", slot, err)
	}
	return b, nil
}

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
