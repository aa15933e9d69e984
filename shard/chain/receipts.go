package chain

import (
	"cmp"
	"fmt"
	"slices"

	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// SentReceipt is a receipt of the shard's canonical chain: the receipt, its
// index in its block's receipts and the block's root.
type SentReceipt struct {
	Receipt st.Receipt
	Index   int
	Block   bt.Root
}

// sentLog holds the canonical receipts to one destination by nonce, from
// base on. Guarded by the Service's lock.
type sentLog struct {
	base    uint64
	entries []SentReceipt
}

func (s *Service) sentLogLocked(dst bt.Shard) *sentLog {
	l, ok := s.sent[dst]
	if !ok {
		l = &sentLog{}
		s.sent[dst] = l
	}
	return l
}

// set records r at its nonce (replacing a receipt of a former canonical
// chain). The first receipt recorded sets the base (after a restart, the
// receipts before the retained blocks are not known).
func (l *sentLog) set(r SentReceipt) {
	n := r.Receipt.Nonce
	if len(l.entries) == 0 && n >= l.base {
		l.base = n
	}
	switch {
	case n < l.base:
	case n-l.base < uint64(len(l.entries)):
		l.entries[n-l.base] = r
	case n-l.base == uint64(len(l.entries)):
		l.entries = append(l.entries, r)
	}
}

// truncate drops the receipts of nonce next and later.
func (l *sentLog) truncate(next uint64) {
	if next < l.base {
		l.entries, l.base = nil, next
		return
	}
	if k := next - l.base; k < uint64(len(l.entries)) {
		l.entries = l.entries[:k]
	}
}

// forget drops claimed receipts (nonce < claimed) beyond keep of them.
func (l *sentLog) forget(claimed uint64, keep int) {
	if claimed <= l.base {
		return
	}
	c := min(claimed-l.base, uint64(len(l.entries)))
	if drop := int(c) - keep; drop > 0 {
		l.entries = l.entries[drop:]
		l.base += uint64(drop)
	}
}

// SentReceipts returns the canonical receipts to dst with nonces from
// nonce on, at most max of them, in nonce order.
func (s *Service) SentReceipts(dst bt.Shard, nonce uint64, max int) []SentReceipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.sent[dst]
	if !ok || nonce >= l.base+uint64(len(l.entries)) {
		return nil
	}
	from := uint64(0)
	if nonce > l.base {
		from = nonce - l.base
	}
	end := min(uint64(len(l.entries)), from+uint64(max))
	return slices.Clone(l.entries[from:end])
}

// SetDestinationInbox records what the node knows of destination dst's
// inbox nonce for this shard: receipts below it are claimed.
func (s *Service) SetDestinationInbox(dst bt.Shard, nonce uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dstInbox[dst] = nonce
	if l, ok := s.sent[dst]; ok {
		l.forget(nonce, s.cfg.MaxSentLog)
	}
}

// DestinationInbox returns what the node knows of dst's inbox nonce for
// this shard.
func (s *Service) DestinationInbox(dst bt.Shard) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dstInbox[dst]
}

// ReceiptInfo is a sent receipt with whether it is known to be claimed.
type ReceiptInfo struct {
	SentReceipt
	Claimed bool
}

// Receipts returns the counts of the canonical chain's receipts (from the
// head state's outbox nonces) and up to limit of the receipts held, claimed
// or not as asked (claimed nil: any), oldest first.
func (s *Service) Receipts(claimed *bool, limit int) (sent, nClaimed uint64, list []ReceiptInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	head := s.headStateLocked()
	for dst, n := range head.OutboxNonces {
		sent += n
		nClaimed += min(n, s.dstInbox[bt.Shard(dst)])
	}
	for dst, l := range s.sent {
		in := s.dstInbox[dst]
		for _, e := range l.entries {
			c := e.Receipt.Nonce < in
			if claimed == nil || *claimed == c {
				list = append(list, ReceiptInfo{SentReceipt: e, Claimed: c})
			}
		}
	}
	slices.SortFunc(list, func(a, b ReceiptInfo) int {
		if c := cmp.Compare(a.Receipt.SrcSlot, b.Receipt.SrcSlot); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Receipt.DstShard, b.Receipt.DstShard); c != 0 {
			return c
		}
		return cmp.Compare(a.Receipt.Nonce, b.Receipt.Nonce)
	})
	if len(list) > limit {
		list = list[:limit]
	}
	return sent, nClaimed, list
}

// ReceiptProof returns the header of a canonical block and the branch of
// its receipt i in the header's receipts root. The receipts tree of a block
// held in memory is built once and kept with the block (blockRec.rtree), so
// a relayer proving its receipts one by one hashes them once, not once per
// claim (4 ms for a block of 1,024 receipts).
func (s *Service) ReceiptProof(block bt.Root, i int) (st.ShardBlockHeader, []bt.Root, error) {
	s.mu.Lock()
	rec, ok := s.blocks[block]
	var h st.ShardBlockHeader
	var receipts []st.Receipt
	var rt *st.ReceiptsTree
	if ok {
		h, receipts, rt = rec.header, rec.receipts, rec.rtree
	}
	s.mu.Unlock()
	if !ok {
		b, rs, err := s.store.Block(block)
		if err != nil {
			return h, nil, fmt.Errorf("receipt proof: %w", err)
		}
		if h, err = b.Header(); err != nil {
			return h, nil, err
		}
		receipts = rs
	}
	if rt == nil {
		var err error
		if rt, err = st.NewReceiptsTree(receipts); err != nil {
			return h, nil, fmt.Errorf("receipt proof: %w", err)
		}
		if ok {
			s.mu.Lock()
			if rec.rtree == nil {
				rec.rtree = rt
			}
			s.mu.Unlock()
		}
	}
	branch, err := rt.Proof(i)
	if err != nil {
		return h, nil, fmt.Errorf("receipt proof: %w", err)
	}
	return h, branch, nil
}

// Inbox returns the head state's inbox nonce for receipts from src.
func (s *Service) Inbox(src bt.Shard) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.headStateLocked().InboxNonces
	if int(src) >= len(in) {
		return 0
	}
	return in[src]
}
