package handler

import (
	"errors"
	"sync"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// relayer builds and publishes the claims of the receipts the served
// shards' canonical chains send (docs/protocol.md §5.3): for each (source,
// destination) pair, in nonce order from the destination's inbox nonce as
// the node knows it, at most MAX_SHARD_CLAIMS per pass, every receipt
// whose block is in a crosslink on the source's current crosslink chain
// that was already current at the window slot. It stops at the first
// receipt that is not claimable yet. A claim is published on the
// destination's transaction topic (and pooled locally when the destination
// is served here), and published again after Relay.ResendSlots slots, or
// as soon as the source's current crosslink moves, until the known inbox
// nonce passes it.
//
// The inbox nonce of a destination served here is its head state's. For
// any other destination it is the one proven at the destination's current
// crosslink in the beacon head state: once per new crosslink the relayer
// asks the peers serving the destination for it (Env.Request + callback,
// ShardInboxByCrosslinkProtocol, destinationInbox) and checks the proof
// against the crosslink. That value lags the destination's head, so claims
// the destination already included may be sent again; it ignores them as
// stale. It follows the crosslink back as well: after a fraud proof rolls
// the crosslink back, the inbox known is the older crosslink's again.
type relayer struct {
	h         *Handler
	emptyRoot bt.Root // the data root of a crosslink listing no block

	mu     sync.Mutex
	sent   map[relayKey]relayRec
	inbox  map[bt.Shard]*inboxView // unserved destinations
	passes uint64                  // relay passes run so far
}

type relayKey struct {
	src, dst bt.Shard
	nonce    uint64
}

type relayRec struct {
	slot     bt.Slot
	current  bt.Root // the source's current crosslink when sent
	attempts int     // publications so far (logged; no limit)
}

func newRelayer(h *Handler) *relayer {
	empty, _ := shardcore.CrosslinkDataRoot(h.pcfg, nil) // no header: cannot fail
	return &relayer{h: h, emptyRoot: empty, sent: make(map[relayKey]relayRec), inbox: make(map[bt.Shard]*inboxView)}
}

// run relays what is claimable through the beacon head state head, whose
// state at the window slot is window (nil: nothing is claimable yet).
func (r *relayer) run(slot bt.Slot, head, window *bt.BeaconState) {
	h := r.h
	var builder *shardcore.ClaimBuilder
	if window != nil {
		builder = shardcore.NewClaimBuilder(h.pcfg, window.Copy()) // it hashes the state
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.passes++
	for dst := range bt.Shard(h.pcfg.ShardCount) {
		if _, served := h.chains[dst]; served || int(dst) >= len(head.CurrentCrosslinks) {
			continue
		}
		if nonces, ok := r.destinationInbox(dst, slot, head.CurrentCrosslinks[dst]); ok {
			r.applyInbox(dst, nonces)
		}
	}
	for _, src := range h.shards {
		c := h.chains[src]
		cur := head.CurrentCrosslinks[src]
		curRoot := cur.TreeRoot()
		var links []chain.Link
		proofs := make(map[int][][]bt.Root)
		for dst := range bt.Shard(h.pcfg.ShardCount) {
			if dst == src {
				continue
			}
			inbox := c.DestinationInbox(dst)
			dc, served := h.chains[dst]
			if served {
				inbox = dc.Inbox(src)
				c.SetDestinationInbox(dst, inbox)
			}
			for k := range r.sent {
				if k.src == src && k.dst == dst && k.nonce < inbox {
					delete(r.sent, k)
				}
			}
			if builder == nil {
				continue
			}
			list := func(from uint64, n int) []chain.SentReceipt { return c.SentReceipts(dst, from, n) }
			pending := r.dueReceipts(list, src, dst, inbox, slot, curRoot, params.MaxShardClaims)
			if len(pending) == 0 {
				continue
			}
			if links == nil {
				links = c.CrosslinkChain(cur, params.MaxCrosslinkChain)
			}
			for _, rec := range pending {
				key := relayKey{src: src, dst: dst, nonce: rec.Receipt.Nonce}
				last := r.sent[key]
				claim, err := r.claim(c, rec, links, proofs, builder)
				if err != nil {
					if !errors.Is(err, shardcore.ErrNotClaimable) {
						h.log.Debug("claim not built", "shard", uint64(src), "dst", uint64(dst), "nonce", rec.Receipt.Nonce, "err", err)
					}
					break
				}
				msg := &ShardMessage{Claim: []*st.ReceiptClaim{claim}}
				h.publish(p2p.ShardTxTopic(uint64(dst)), msg)
				if served {
					_ = dc.AddClaim(claim)
				}
				r.sent[key] = relayRec{slot: slot, current: curRoot, attempts: last.attempts + 1}
				h.cfg.Hooks.claimRelayed(src, dst)
				h.log.Debug("relayed claim", "shard", uint64(src), "dst", uint64(dst), "nonce", rec.Receipt.Nonce, "slot", slot,
					"attempt", last.attempts+1)
			}
		}
	}
}

// dueReceipts returns, in nonce order from inbox, up to max receipts of the
// stream from src to dst (read through list, a page at a time) that are due
// for publication: never sent, sent while the source had another current
// crosslink, or sent Relay.ResendSlots slots ago or more. Receipts published
// recently are skipped without counting toward max: the inbox known for an
// unserved destination is learned once per crosslink and lags its head by
// up to a few epochs of claims, and counting them would hide the stream's
// newer receipts behind max already-relayed ones (at 1,950 claims/s on 8
// shards, the relayers then fell behind by an epoch's worth every few
// epochs). r.mu must be held.
func (r *relayer) dueReceipts(list func(from uint64, n int) []chain.SentReceipt, src, dst bt.Shard, inbox uint64, slot bt.Slot, cur bt.Root, max int) []chain.SentReceipt {
	var out []chain.SentReceipt
	for from := inbox; len(out) < max; {
		page := list(from, max)
		for _, rec := range page {
			last, ok := r.sent[relayKey{src: src, dst: dst, nonce: rec.Receipt.Nonce}]
			if ok && last.current == cur && slot < last.slot+bt.Slot(r.h.cfg.ResendSlots) {
				continue
			}
			if out = append(out, rec); len(out) == max {
				break
			}
		}
		if len(page) < max {
			break
		}
		from = page[len(page)-1].Receipt.Nonce + 1
	}
	return out
}

// claim builds the claim of rec through links (the source's crosslinks,
// newest first), with builder's window state.
func (r *relayer) claim(c *chain.Service, rec chain.SentReceipt, links []chain.Link, proofs map[int][][]bt.Root, builder *shardcore.ClaimBuilder) (*st.ReceiptClaim, error) {
	k, pos := -1, 0
	for i, l := range links {
		if !l.Resolved {
			break
		}
		for j, h := range l.Headers {
			if h == rec.Block {
				k, pos = i, j
				break
			}
		}
		if k >= 0 {
			break
		}
	}
	if k < 0 {
		return nil, shardcore.ErrNotClaimable
	}
	header, rb, err := c.ReceiptProof(rec.Block, rec.Index)
	if err != nil {
		return nil, err
	}
	if proofs[k] == nil {
		if proofs[k], err = shardcore.HeaderProofs(r.h.pcfg, links[k].Headers); err != nil {
			return nil, err
		}
	}
	chainLinks := make([]*bt.Crosslink, 0, k+1)
	for i := k; i >= 0; i-- {
		cl := links[i].Crosslink
		chainLinks = append(chainLinks, &cl)
	}
	return builder.Build(&shardcore.ClaimSource{
		Receipt: rec.Receipt, ReceiptIndex: uint64(rec.Index), ReceiptBranch: rb,
		Header: header, HeaderIndex: uint64(pos), HeaderBranch: proofs[k][pos], Chain: chainLinks,
	})
}

// RelayAttempts returns how many times the relayer has published the claim
// of src's receipt nonce to dst (0 once dst's inbox is known past it).
func (h *Handler) RelayAttempts(src, dst bt.Shard, nonce uint64) int {
	r := h.relay
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[relayKey{src: src, dst: dst, nonce: nonce}].attempts
}
