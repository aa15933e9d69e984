package netsim

import (
	"errors"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestProbeSubmitAndFollow submits transactions through the probe and
// follows them: the pool takes a signed one (and refuses its replay), it
// lands in a canonical block of its shard, the shard's crosslink moves
// past it, and the chain finalizes.
func TestProbeSubmitAndFollow(t *testing.T) {
	s, dom := newShardSim(t)
	tx := &st.Transaction{Shard: 3, From: 7, Nonce: 0, ToShard: 3, To: 8, Amount: 5}
	shardcore.SignTx(dom, tx, shardcore.AccountKey(tx.Shard, tx.From))
	var first, replay, unsigned error
	s.At(s.SlotDuration()+100*time.Millisecond, func() {
		first = s.SubmitTransaction(tx)
		replay = s.SubmitTransaction(tx)
		bad := *tx
		bad.Nonce = 1
		unsigned = s.SubmitTransaction(&bad) // the old signature
	})
	s.RunSlots(types.Slot(5 * s.ChainConfig().SlotsPerEpoch))
	if first != nil || !errors.Is(replay, ErrTxRefused) || !errors.Is(unsigned, ErrTxRefused) {
		t.Fatalf("submit %v, replay %v, bad signature %v", first, replay, unsigned)
	}
	if n, ok := s.ShardNonce(3, 7); !ok || n != 1 {
		t.Fatalf("nonce %d %v, want 1", n, ok)
	}
	head, ok := s.ShardHeadSlot(3)
	if !ok || head < 8 {
		t.Fatalf("head slot %d %v", head, ok)
	}
	at := includedAt(s, 3, tx)
	if at == 0 || at > 3 {
		t.Fatalf("transaction included at slot %d, want 1 to 3", at)
	}
	if cl, ok := s.CrosslinkedSlot(3); !ok || cl < at {
		t.Fatalf("crosslinked slot %d %v, want at least %d", cl, ok, at)
	}
	if s.FinalizedEpoch() == 0 {
		t.Fatal("nothing finalized after 5 epochs")
	}
	if _, ok := s.ShardBlock(99, 1); ok {
		t.Fatal("a block of a shard nobody serves")
	}
	if err := s.SubmitTransaction(&st.Transaction{Shard: 99}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("submit to an unserved shard: %v", err)
	}
}
