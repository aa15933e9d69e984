package netsim

import (
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestClaimOneSlotAfterClaimable follows one cross-shard transfer, from
// shard 1 (served by one shard node) to shard 6 (served by the other),
// and checks that its claim lands in the first block that can take it:
// the crosslink covering the send enters the beacon state at slot T, the
// receipt is claimable through beacon states at T + SLOTS_PER_EPOCH
// (SHARD_CHALLENGE_WINDOW 1) or later, and that slot's beacon block
// arrives just after the slot started, when its shard proposer already
// built on the previous one; so the earliest block is the next slot's,
// at T + SLOTS_PER_EPOCH + 1. The relayer must publish the claim when
// that beacon block arrives, not at the next slot start, at which the
// proposer of that slot builds too (the claim then came a slot later).
func TestClaimOneSlotAfterClaimable(t *testing.T) {
	s, dom := newShardSim(t)
	const src, dst = 1, 6
	tx := &st.Transaction{Shard: src, From: 2, Nonce: 0, ToShard: dst, To: 3, Amount: 5}
	shardcore.SignTx(dom, tx, shardcore.AccountKey(tx.Shard, tx.From))
	slotTime := s.SlotDuration()
	var submitErr error
	s.At(slotTime+100*time.Millisecond, func() { submitErr = s.SubmitTransaction(tx) })
	spe := s.ChainConfig().SlotsPerEpoch
	end := types.Slot(6 * spe)
	// Each slot, a second in (the beacon block arrived): has the source's
	// crosslink passed the block that sent?
	var sentAt, linkedAt uint64
	for slot := uint64(1); slot <= uint64(end); slot++ {
		s.At(time.Duration(slot)*slotTime+time.Second, func() {
			if sentAt == 0 {
				sentAt = includedAt(s, src, tx)
			}
			if hs, ok := s.CrosslinkedSlot(src); ok && sentAt > 0 && hs >= sentAt && linkedAt == 0 {
				linkedAt = slot
			}
		})
	}
	s.RunSlots(end)
	if submitErr != nil {
		t.Fatal(submitErr)
	}
	if sentAt == 0 || linkedAt == 0 {
		t.Fatalf("sent at slot %d, crosslinked at slot %d: want both", sentAt, linkedAt)
	}
	var claimedAt uint64
	head, _ := s.ShardHeadSlot(dst)
	for slot := uint64(1); slot <= head && claimedAt == 0; slot++ {
		if b, ok := s.ShardBlock(dst, slot); ok {
			for _, cl := range b.Body.Claims {
				if cl.Receipt.SrcShard == src && cl.Receipt.Sender == tx.From && cl.Receipt.Recipient == tx.To {
					claimedAt = slot
				}
			}
		}
	}
	if want := linkedAt + spe + 1; claimedAt != want {
		t.Fatalf("sent at slot %d, crosslink written at slot %d, claimed at slot %d; want %d", sentAt, linkedAt, claimedAt, want)
	}
}

// newShardSim starts a simulation of the default network with 2 shard
// nodes and 8 shards (closed when t ends), with its transaction domain.
func newShardSim(t *testing.T) (*Sim, shardcore.TxDomain) {
	t.Helper()
	c := DefaultConfig()
	c.Shard = ShardConfig{Nodes: 2, Shards: 8}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	dom, err := s.TxDomain()
	if err != nil {
		t.Fatal(err)
	}
	return s, dom
}

// includedAt is the slot of shard's canonical block that holds tx (0: none
// yet).
func includedAt(s *Sim, shard uint64, tx *st.Transaction) uint64 {
	head, _ := s.ShardHeadSlot(shard)
	for slot := uint64(1); slot <= head; slot++ {
		if b, ok := s.ShardBlock(shard, slot); ok {
			for _, x := range b.Body.Transactions {
				if x.From == tx.From && x.Nonce == tx.Nonce {
					return slot
				}
			}
		}
	}
	return 0
}
