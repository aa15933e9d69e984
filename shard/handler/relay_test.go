package handler

import (
	"testing"

	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/chain"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestDueReceipts checks which receipts a relay pass publishes for one
// stream: recently published ones are skipped without counting toward the
// per-pass limit, so a known inbox that lags by more than the limit (an
// unserved destination's, learned once per crosslink) still lets the pass
// reach the stream's new receipts; receipts are due again after
// ResendSlots slots or when the source's current crosslink moved.
func TestDueReceipts(t *testing.T) {
	t.Parallel()
	const (
		src, dst = bt.Shard(0), bt.Shard(1)
		resend   = 2
		slot     = bt.Slot(20)
		max      = 4
	)
	cur, old := bt.Root{1}, bt.Root{2}
	// The stream holds receipts 0..n-1; list pages through it as
	// chain.Service.SentReceipts does.
	stream := func(n uint64) func(from uint64, max int) []chain.SentReceipt {
		return func(from uint64, max int) []chain.SentReceipt {
			var out []chain.SentReceipt
			for k := from; k < n && len(out) < max; k++ {
				out = append(out, chain.SentReceipt{Receipt: st.Receipt{SrcShard: src, DstShard: dst, Nonce: k}})
			}
			return out
		}
	}
	sent := func(from, to uint64, at bt.Slot, current bt.Root) map[relayKey]relayRec {
		m := make(map[relayKey]relayRec)
		for k := from; k < to; k++ {
			m[relayKey{src: src, dst: dst, nonce: k}] = relayRec{slot: at, current: current, attempts: 1}
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		n     uint64 // receipts in the stream
		inbox uint64
		sent  map[relayKey]relayRec
		want  []uint64
	}{
		{"nothing sent yet", 10, 0, nil, []uint64{0, 1, 2, 3}},
		{"from the known inbox", 10, 3, nil, []uint64{3, 4, 5, 6}},
		{"more recently sent than the limit", 20, 0, sent(0, 9, slot-1, cur), []uint64{9, 10, 11, 12}},
		{"all recently sent", 9, 0, sent(0, 9, slot-1, cur), nil},
		{"fewer left than the limit", 11, 0, sent(0, 9, slot-1, cur), []uint64{9, 10}},
		{"resend after ResendSlots", 20, 0, sent(0, 9, slot-resend, cur), []uint64{0, 1, 2, 3}},
		{"resend after the crosslink moved", 20, 0, sent(0, 9, slot-1, old), []uint64{0, 1, 2, 3}},
		{"gaps of due receipts", 20, 0, func() map[relayKey]relayRec {
			m := sent(0, 9, slot-1, cur)
			delete(m, relayKey{src: src, dst: dst, nonce: 2})
			delete(m, relayKey{src: src, dst: dst, nonce: 7})
			return m
		}(), []uint64{2, 7, 9, 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &relayer{h: &Handler{cfg: Config{ResendSlots: resend}}, sent: tc.sent}
			if r.sent == nil {
				r.sent = make(map[relayKey]relayRec)
			}
			var got []uint64
			for _, rec := range r.dueReceipts(stream(tc.n), src, dst, tc.inbox, slot, cur, max) {
				got = append(got, rec.Receipt.Nonce)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("due %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("due %v, want %v", got, tc.want)
				}
			}
		})
	}
}
