package chain

import (
	"fmt"

	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// Propose builds the block of slot on the head of the fork choice
// (shard/core.BuildBlock, docs/protocol.md §3.3), referencing the beacon
// block beaconRoot whose post-state is beacon, with the pooled
// transactions (their signatures were checked on arrival) and the claims
// ClaimsFor(beacon, window) gives; signs it with sk and adds it to the
// chain. beacon is only read; window is hashed (a private copy, or nil).
func (s *Service) Propose(slot bt.Slot, beaconRoot bt.Root, beacon, window *bt.BeaconState, sk *bls.SecretKey) (*shardcore.Built, error) {
	s.mu.Lock()
	head := s.blocks[s.head]
	if head.post == nil || slot <= head.slot() {
		s.mu.Unlock()
		return nil, fmt.Errorf("propose shard %d slot %d: the head is at slot %d", s.shard, slot, head.slot())
	}
	parent, pre := head.header, head.post
	txs := s.txs.pending()
	s.mu.Unlock()
	claims := s.ClaimsFor(beacon, window)
	ctx := shardcore.BlockContext{Parent: &parent, BeaconRoot: beaconRoot, Beacon: beacon}
	built, err := shardcore.BuildBlock(s.tr, ctx, pre, slot, txs, claims, sk, shardcore.ExecOptions{SkipTxSignatures: true})
	if err != nil {
		return nil, fmt.Errorf("propose shard %d slot %d: %w", s.shard, slot, err)
	}
	if _, err := s.AddBuilt(built, beacon.Slot); err != nil {
		return nil, fmt.Errorf("propose shard %d slot %d: %w", s.shard, slot, err)
	}
	return built, nil
}

// CanReference reports whether a block of the shard at slot may reference a
// beacon post-state at beaconSlot on top of the head (§5.1: at most an
// epoch old, not older than the head's reference, not after the block).
func (s *Service) CanReference(slot, beaconSlot bt.Slot) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	head := s.headStateLocked()
	return beaconSlot >= head.BeaconSlot && beaconSlot <= slot && uint64(slot-beaconSlot) <= s.pcfg.SlotsPerEpoch
}
