package chain

import (
	"fmt"
	"slices"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// claimPool holds receipt claims relayed to the shard, by source shard and
// receipt nonce, from the head state's inbox nonce on. Guarded by the
// Service's lock.
type claimPool struct {
	max   int
	bySrc map[bt.Shard]map[uint64]*st.ReceiptClaim
	n     int
}

func newClaimPool(max int) *claimPool {
	return &claimPool{max: max, bySrc: make(map[bt.Shard]map[uint64]*st.ReceiptClaim)}
}

func (p *claimPool) len() int { return p.n }

func (p *claimPool) prune(head *st.ShardState) {
	for src, m := range p.bySrc {
		next := uint64(0)
		if int(src) < len(head.InboxNonces) {
			next = head.InboxNonces[src]
		}
		for n := range m {
			if n < next {
				delete(m, n)
				p.n--
			}
		}
		if len(m) == 0 {
			delete(p.bySrc, src)
		}
	}
}

// CheckClaim checks what of a claim needs no beacon state
// (docs/protocol.md §5.3): it is for this shard, the receipt is in the
// source header's receipts root, the header is in the data root of the
// first crosslink, and the crosslinks form a chain of the source shard.
// Failures wrap ErrInvalidClaim.
func (s *Service) CheckClaim(c *st.ReceiptClaim) error {
	cfg := s.pcfg
	if c == nil {
		return fmt.Errorf("%w: nil", ErrInvalidClaim)
	}
	r := &c.Receipt
	src := r.SrcShard
	if r.DstShard != s.shard || src == s.shard || uint64(src) >= cfg.ShardCount || r.Recipient >= cfg.Shard.Accounts {
		return fmt.Errorf("%w: receipt from shard %d to shard %d (recipient %d) on shard %d", ErrInvalidClaim, src, r.DstShard, r.Recipient, s.shard)
	}
	h := &c.Header
	if h.Shard != src || h.Slot != r.SrcSlot {
		return fmt.Errorf("%w: header does not match the receipt", ErrInvalidClaim)
	}
	if c.ReceiptIndex >= params.MaxShardTransactions || len(c.ReceiptBranch) != st.ReceiptsDepth+1 ||
		!hash.IsValidMerkleBranch(r.TreeRoot(), roots(c.ReceiptBranch), st.ReceiptsDepth+1, c.ReceiptIndex, h.ReceiptsRoot) {
		return fmt.Errorf("%w: receipt not in the header's receipts", ErrInvalidClaim)
	}
	if len(c.Crosslinks) == 0 || len(c.Crosslinks) > params.MaxCrosslinkChain {
		return fmt.Errorf("%w: crosslink chain of %d links", ErrInvalidClaim, len(c.Crosslinks))
	}
	for i, cl := range c.Crosslinks {
		if cl == nil || cl.Shard != src || (i > 0 && c.Crosslinks[i-1].TreeRoot() != cl.ParentRoot) {
			return fmt.Errorf("%w: broken crosslink chain at %d", ErrInvalidClaim, i)
		}
	}
	max := shardcore.MaxCrosslinkHeaders(cfg)
	depth := uint64(hash.Depth(max))
	c0 := c.Crosslinks[0]
	from, to := s.rangeSlots(*c0)
	if c.HeaderIndex >= max || uint64(len(c.HeaderBranch)) != depth+1 ||
		!hash.IsValidMerkleBranch(h.SigningRoot(), roots(c.HeaderBranch), depth+1, c.HeaderIndex, c0.DataRoot) ||
		h.Slot < from || h.Slot >= to {
		return fmt.Errorf("%w: header not in the first crosslink", ErrInvalidClaim)
	}
	if c.WindowIndex >= uint64(len(c.Crosslinks)) {
		return fmt.Errorf("%w: window index %d", ErrInvalidClaim, c.WindowIndex)
	}
	return nil
}

func roots(rs []bt.Root) [][32]byte {
	out := make([][32]byte, len(rs))
	for i := range rs {
		out[i] = rs[i]
	}
	return out
}

// AddClaim checks a claim (CheckClaim, then its nonce against the head
// state's inbox) and pools it; a claim of a pooled nonce replaces it when
// its chain reaches a crosslink at least as recent. The pool keeps c.
func (s *Service) AddClaim(c *st.ReceiptClaim) error {
	if err := s.CheckClaim(c); err != nil {
		return err
	}
	src, nonce := c.Receipt.SrcShard, c.Receipt.Nonce
	s.mu.Lock()
	defer s.mu.Unlock()
	if next := s.headStateLocked().InboxNonces[src]; nonce < next {
		return fmt.Errorf("claim of receipt %d from shard %d: %w: next is %d", nonce, src, ErrStale, next)
	}
	m := s.claims.bySrc[src]
	if m == nil {
		m = make(map[uint64]*st.ReceiptClaim)
		s.claims.bySrc[src] = m
	}
	if old, ok := m[nonce]; ok {
		last := func(x *st.ReceiptClaim) bt.Epoch { return x.Crosslinks[len(x.Crosslinks)-1].EndEpoch }
		if last(c) < last(old) || (last(c) == last(old) && len(c.Crosslinks) <= len(old.Crosslinks)) {
			return fmt.Errorf("claim of receipt %d from shard %d: %w", nonce, src, ErrDuplicate)
		}
		m[nonce] = c
		return nil
	}
	if s.claims.n >= s.claims.max {
		return fmt.Errorf("claim of receipt %d from shard %d: %w", nonce, src, ErrPoolFull)
	}
	m[nonce] = c
	s.claims.n++
	return nil
}

// ClaimsFor returns the pooled claims a block referencing beacon (a beacon
// post-state) can include: per source shard, in nonce order from the head
// state's inbox nonce, each refreshed for beacon (its crosslink chain
// extended by one link to the source's current crosslink when it just
// moved, and its challenge-window proof redone against window, the beacon
// state at shard/core.WindowSlot of beacon on its chain), stopping at the
// first that is missing or not claimable through beacon. window nil (a
// chain younger than the window) gives none. Claims are not re-validated:
// the builder skips those that fail. window is hashed: pass a private copy.
func (s *Service) ClaimsFor(beacon, window *bt.BeaconState) []*st.ReceiptClaim {
	if window == nil {
		return nil
	}
	s.mu.Lock()
	head := s.headStateLocked()
	type pick struct {
		src    bt.Shard
		claims []*st.ReceiptClaim
	}
	var picks []pick
	for src, m := range s.claims.bySrc {
		var cs []*st.ReceiptClaim
		for n := head.InboxNonces[src]; ; n++ {
			c, ok := m[n]
			if !ok {
				break
			}
			cs = append(cs, c)
		}
		if len(cs) > 0 {
			picks = append(picks, pick{src: src, claims: cs})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(picks, func(a, b pick) int { return int(a.src) - int(b.src) })
	// One window branch per source shard, not one per claim: each costs a
	// walk of the window state's tree, and a block takes up to
	// MAX_SHARD_CLAIMS claims.
	builder := shardcore.NewClaimBuilder(s.pcfg, window)
	var out []*st.ReceiptClaim
	for _, p := range picks {
		for _, c := range p.claims {
			if len(out) >= params.MaxShardClaims {
				return out
			}
			rc, ok := s.refreshClaim(c, beacon, builder)
			if !ok {
				break
			}
			out = append(out, rc)
		}
	}
	return out
}

// refreshClaim adapts c to a block referencing beacon (see ClaimsFor).
func (s *Service) refreshClaim(c *st.ReceiptClaim, beacon *bt.BeaconState, window *shardcore.ClaimBuilder) (*st.ReceiptClaim, bool) {
	src := c.Receipt.SrcShard
	if int(src) >= len(beacon.CurrentCrosslinks) {
		return nil, false
	}
	chain := c.Crosslinks
	cur := beacon.CurrentCrosslinks[src]
	if last := chain[len(chain)-1]; *last != cur {
		if cur.ParentRoot != last.TreeRoot() || len(chain) >= params.MaxCrosslinkChain {
			return nil, false
		}
		chain = append(slices.Clone(chain), &cur)
	}
	idx, branch, err := window.WindowProof(src, chain)
	if err != nil {
		return nil, false
	}
	rc := *c
	rc.Crosslinks, rc.WindowIndex, rc.WindowBranch = chain, idx, branch
	return &rc, true
}
