package statesim

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// linkRec is a crosslink that attesters voted, with the shard block headers
// its data root commits to.
type linkRec struct {
	cl      types.Crosslink
	root    types.Root // hash_tree_root(cl)
	headers []st.ShardBlockHeader
	roots   []types.Root
	pos     map[types.Root]int
	// branches[i] is header i's branch in the data root, once computed.
	branches [][]types.Root
}

// contains returns the position of the block root in the crosslink's
// header list.
func (l *linkRec) contains(root types.Root) (int, bool) {
	i, ok := l.pos[root]
	return i, ok
}

// linkRegistry remembers every crosslink voted during the run, keyed by its
// hash tree root, so that the chain from any crosslink of a beacon state
// back through its parents can be walked, and the headers each one covers
// looked up: what the relayer proves claims with and the fisherman proves
// rollbacks with.
type linkRegistry struct {
	cfg    *params.Config
	byRoot map[types.Root]*linkRec
}

func newLinkRegistry(cfg *params.Config) *linkRegistry {
	return &linkRegistry{cfg: cfg, byRoot: make(map[types.Root]*linkRec)}
}

// register records cl (whose data root is ignored) with the given headers and
// returns their crosslink data root.
func (g *linkRegistry) register(cl types.Crosslink, headers []st.ShardBlockHeader) (types.Root, error) {
	roots := make([]types.Root, len(headers))
	for i := range headers {
		roots[i] = headers[i].SigningRoot()
	}
	dataRoot, err := shardcore.CrosslinkDataRoot(g.cfg, roots)
	if err != nil {
		return types.Root{}, fmt.Errorf("crosslink data root of shard %d [%d, %d): %w", cl.Shard, cl.StartEpoch, cl.EndEpoch, err)
	}
	cl.DataRoot = dataRoot
	key := cl.TreeRoot()
	if _, ok := g.byRoot[key]; !ok {
		rec := &linkRec{cl: cl, root: key, headers: headers, roots: roots, pos: make(map[types.Root]int, len(roots))}
		for i, r := range roots {
			rec.pos[r] = i
		}
		g.byRoot[key] = rec
	}
	return dataRoot, nil
}

// chain returns the registered crosslinks from current back through their
// parents, newest first, at most limit of them; it stops at the first
// crosslink that was never voted (the genesis crosslink).
func (g *linkRegistry) chain(current types.Crosslink, limit int) []*linkRec {
	var out []*linkRec
	rec := g.byRoot[current.TreeRoot()]
	for rec != nil && len(out) < limit {
		out = append(out, rec)
		rec = g.byRoot[rec.cl.ParentRoot]
	}
	return out
}

// parent returns the crosslink whose root is root: a registered one, or the
// genesis crosslink of shard (the state's crosslinks before any vote).
func (g *linkRegistry) parent(root types.Root, genesis types.Crosslink) (types.Crosslink, bool) {
	if rec, ok := g.byRoot[root]; ok {
		return rec.cl, true
	}
	if genesis.TreeRoot() == root {
		return genesis, true
	}
	return types.Crosslink{}, false
}

// branch returns header i's branch in rec's data root (all of rec's
// branches are built from one tree on first use).
func (g *linkRegistry) branch(rec *linkRec, i int) ([]types.Root, error) {
	if rec.branches == nil {
		b, err := shardcore.HeaderProofs(g.cfg, rec.roots)
		if err != nil {
			return nil, fmt.Errorf("header branches in crosslink of shard %d: %w", rec.cl.Shard, err)
		}
		rec.branches = b
	}
	if i < 0 || i >= len(rec.branches) {
		return nil, fmt.Errorf("header %d of a crosslink of %d headers", i, len(rec.branches))
	}
	return rec.branches[i], nil
}

// receiptRef is a receipt of a canonical block, waiting to be claimed.
type receiptRef struct {
	blk *blockRec
	idx int
	// cum is the total amount of this receipt and those before it on the
	// same (source, destination) pair.
	cum uint64
}

// relayer queues the receipts of canonical blocks per (source, destination)
// shard pair, indexed by nonce, and builds the claims that are valid
// against a beacon state.
type relayer struct {
	cfg    *params.Config
	links  *linkRegistry
	queues [][][]receiptRef // [src][dst], nonce order
}

func newRelayer(cfg *params.Config, links *linkRegistry) *relayer {
	n := cfg.ShardCount
	q := make([][][]receiptRef, n)
	for i := range q {
		q[i] = make([][]receiptRef, n)
	}
	return &relayer{cfg: cfg, links: links, queues: q}
}

// add queues the receipts of a new canonical block.
func (r *relayer) add(b *blockRec) error {
	for i := range b.receipts {
		rc := &b.receipts[i]
		q := &r.queues[rc.SrcShard][rc.DstShard]
		if rc.Nonce != uint64(len(*q)) {
			return fmt.Errorf("relay: receipt of shard %d slot %d to shard %d has nonce %d, expected %d",
				rc.SrcShard, rc.SrcSlot, rc.DstShard, rc.Nonce, len(*q))
		}
		var cum uint64
		if len(*q) > 0 {
			cum = (*q)[len(*q)-1].cum
		}
		*q = append(*q, receiptRef{blk: b, idx: i, cum: cum + uint64(rc.Amount)})
	}
	return nil
}

// pending returns the count and amount of the receipts of (src, dst) with a
// nonce at or after next (the destination's inbox nonce).
func (r *relayer) pending(src, dst int, next uint64) (uint64, uint64, error) {
	q := r.queues[src][dst]
	if next > uint64(len(q)) {
		return 0, 0, fmt.Errorf("shard %d has claimed %d receipts from shard %d, which sent %d", dst, next, src, len(q))
	}
	if len(q) == 0 {
		return 0, 0, nil
	}
	var before uint64
	if next > 0 {
		before = q[next-1].cum
	}
	return uint64(len(q)) - next, q[len(q)-1].cum - before, nil
}

// sentBefore returns how many receipts of (src, dst) come from blocks before
// slot, and how many of those are claimed given the inbox nonce next.
func (r *relayer) sentBefore(src, dst int, slot types.Slot, next uint64) (sent, claimed uint64) {
	for n, ref := range r.queues[src][dst] {
		if ref.blk.header.Slot >= slot {
			break
		}
		sent++
		if uint64(n) < next {
			claimed++
		}
	}
	return sent, claimed
}

// claims returns the claims shard dst can include in a block referencing
// a beacon state: for every other shard, in nonce order from dst's
// inbox nonce (inbox), the receipts whose block is in a crosslink on the
// source shard's current crosslink chain that had been written by the
// window slot (SHARD_CHALLENGE_WINDOW epochs before the state's slot),
// stopping at the first that is not. chains[src] is registry.chain of the
// state's current crosslink of src; window is the canonical beacon state at
// the window slot (nil while the chain is younger than the window), against
// whose root each claim proves which crosslink of its chain was current
// then.
func (r *relayer) claims(dst int, inbox []uint64, chains [][]*linkRec, window *types.BeaconState) ([]*st.ReceiptClaim, error) {
	if window == nil {
		return nil, nil
	}
	cfg := r.cfg
	spe := types.Slot(cfg.SlotsPerEpoch)
	var out []*st.ReceiptClaim
	for src := range r.queues {
		if src == dst {
			continue
		}
		q := r.queues[src][dst]
		chain := chains[src]
		// The crosslink of src current at the window slot: receipts of it
		// and of older crosslinks on the chain are claimable.
		then := -1
		for i, l := range chain {
			if l.cl == window.CurrentCrosslinks[src] {
				then = i
				break
			}
		}
		if then < 0 {
			continue // what was current at the window slot is no crosslink of the current chain
		}
		// Its branch in the window state's root, the same for every claim
		// of src (WindowProof of a one-link chain); a claim's window index
		// is its position in the claim's chain.
		_, branch, err := shardcore.WindowProof(cfg, window, types.Shard(src), []*types.Crosslink{&chain[then].cl})
		if err != nil {
			return nil, fmt.Errorf("relay: window proof of shard %d: %w", src, err)
		}
		for n := inbox[src]; n < uint64(len(q)) && len(out) < params.MaxShardClaims; n++ {
			ref := q[n]
			k, pos := -1, 0
			for i, l := range chain[then:] {
				if types.Slot(l.cl.EndEpoch)*spe <= ref.blk.header.Slot {
					break // this and older crosslinks end before the block
				}
				if p, ok := l.contains(ref.blk.root); ok {
					k, pos = then+i, p
					break
				}
			}
			if k < 0 {
				break // not (yet) in a crosslink that is out of the window
			}
			rb, err := ref.blk.receiptBranch(ref.idx)
			if err != nil {
				return nil, err
			}
			hb, err := r.links.branch(chain[k], pos)
			if err != nil {
				return nil, err
			}
			links := make([]*types.Crosslink, 0, k+1)
			for i := k; i >= 0; i-- {
				links = append(links, &chain[i].cl)
			}
			out = append(out, &st.ReceiptClaim{
				Receipt:       ref.blk.receipts[ref.idx],
				ReceiptIndex:  uint64(ref.idx),
				ReceiptBranch: rb,
				Header:        ref.blk.header,
				HeaderIndex:   uint64(pos),
				HeaderBranch:  hb,
				Crosslinks:    links,
				WindowIndex:   uint64(k - then), // links[k-then] is chain[then]
				WindowBranch:  branch,
			})
		}
	}
	return out, nil
}
