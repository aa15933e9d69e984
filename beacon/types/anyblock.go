package types

import (
	"encoding/binary"
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
)

// AnyBlock is a beacon block of either kind: a phase 0 BeaconBlock, or a
// ShardBeaconBlock of the shard fork. Code that stores, forwards or chooses
// between blocks (fork choice, stores, the network) handles both through it;
// the state transition dispatches on the concrete type.
type AnyBlock interface {
	Codec
	HashTreeRoot() ([32]byte, error)
	SigningRoot() (Root, error)
	GetSlot() Slot
	GetParentRoot() Root
	GetStateRoot() Root
}

var (
	_ AnyBlock = (*BeaconBlock)(nil)
	_ AnyBlock = (*ShardBeaconBlock)(nil)
)

// GetSlot returns b.Slot.
func (b *BeaconBlock) GetSlot() Slot { return b.Slot }

// GetParentRoot returns b.ParentRoot.
func (b *BeaconBlock) GetParentRoot() Root { return b.ParentRoot }

// GetStateRoot returns b.StateRoot.
func (b *BeaconBlock) GetStateRoot() Root { return b.StateRoot }

// GetSlot returns b.Slot.
func (b *ShardBeaconBlock) GetSlot() Slot { return b.Slot }

// GetParentRoot returns b.ParentRoot.
func (b *ShardBeaconBlock) GetParentRoot() Root { return b.ParentRoot }

// GetStateRoot returns b.StateRoot.
func (b *ShardBeaconBlock) GetStateRoot() Root { return b.StateRoot }

// ShardForkAtSlot reports whether blocks of slot are ShardBeaconBlocks: the
// shard fork is enabled and the slot's epoch is at or past SHARD_FORK_EPOCH.
// The genesis block is always a phase 0 BeaconBlock. It depends on
// GENESIS_SLOT, SLOTS_PER_EPOCH and SHARD_FORK_EPOCH only (FAR_FUTURE_EPOCH:
// the fork is disabled).
func ShardForkAtSlot(cfg *params.Config, slot Slot) bool {
	s := cfg.Shard
	return s.Enabled() && uint64(slot) != cfg.GenesisSlot && uint64(slot)/cfg.SlotsPerEpoch >= s.ForkEpoch
}

// DecodeBlock decodes the SSZ of a beacon block of either kind, strictly
// (Decode): the slot, the first 8 bytes of both containers, selects
// ShardBeaconBlock (ShardForkAtSlot) or BeaconBlock. Errors wrap
// ErrInvalidSSZ.
func DecodeBlock(cfg *params.Config, buf []byte) (AnyBlock, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("decode block: %w: %d bytes", ErrInvalidSSZ, len(buf))
	}
	slot := Slot(binary.LittleEndian.Uint64(buf))
	var b AnyBlock
	if ShardForkAtSlot(cfg, slot) {
		b = new(ShardBeaconBlock)
	} else {
		b = new(BeaconBlock)
	}
	if err := Decode(b, buf); err != nil {
		return nil, fmt.Errorf("decode block of slot %d: %w", slot, err)
	}
	return b, nil
}

// BlockBody returns the phase 0 part of b's body and, for a
// ShardBeaconBlock, its fraud proofs (nil for a BeaconBlock). For a nil or
// unknown block it returns an empty body.
func BlockBody(b AnyBlock) (*BeaconBlockBody, [][]byte) {
	switch blk := b.(type) {
	case *BeaconBlock:
		if blk != nil {
			return &blk.Body, nil
		}
	case *ShardBeaconBlock:
		if blk != nil {
			return blk.Body.Phase0(), blk.Body.ShardFraudProofs
		}
	}
	return &BeaconBlockBody{}, nil
}
