package handler

import (
	"errors"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
)

// Learning the inbox nonces of shards the node does not serve
// (docs/protocol.md §5.3, "Learning a destination's inbox"): the relayer
// asks a peer serving the destination for its inbox nonces as of the
// destination's current crosslink in the beacon head state, with a proof
// it checks against that crosslink (ShardInboxByCrosslinkProtocol).

const (
	// maxInboxPeers bounds the peers asked, one after the other, about one
	// crosslink.
	maxInboxPeers = 3
	// inboxRetrySlots is how long the relayer waits before asking about a
	// crosslink again after nobody could prove its inbox.
	inboxRetrySlots = 2
	// maxInboxLinks bounds the crosslinks remembered per destination.
	maxInboxLinks = 2 * params.MaxCrosslinkChain
)

// errInboxNotHeld: the peer answered without a chunk (it does not hold
// the crosslink's data, or not yet): no fault of its own.
var errInboxNotHeld = errors.New("inbox not held")

// Protocols are the request protocols the handler serves (OnRequest).
var Protocols = []string{p2p.ShardBlocksByRangeProtocol, ShardStateByRootProtocol, ShardInboxByCrosslinkProtocol}

// OnRequest answers a request of a protocol the handler serves
// (Protocols): the response chunks, or a *p2p.ResponseError.
func (h *Handler) OnRequest(_ peer.ID, protocol string, req []byte) ([][]byte, error) {
	switch protocol {
	case p2p.ShardBlocksByRangeProtocol:
		return h.serveBlocksByRange(req)
	case ShardStateByRootProtocol:
		return h.serveStateByRoot(req)
	case ShardInboxByCrosslinkProtocol:
		return h.serveInboxByCrosslink(req)
	}
	return nil, &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "unknown protocol " + protocol}
}

// serveInboxByCrosslink answers a ShardInboxRequest about a served shard
// with the proof of its inbox nonces at the crosslink, when the chain can
// build it (shard/chain InboxProof), and with no chunk otherwise.
func (h *Handler) serveInboxByCrosslink(req []byte) ([][]byte, error) {
	var r ShardInboxRequest
	if err := bt.Decode(&r, req); err != nil || r.Shard >= h.pcfg.ShardCount || uint64(r.Crosslink.Shard) != r.Shard {
		return nil, &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad shard inbox request"}
	}
	c, ok := h.chains[bt.Shard(r.Shard)]
	if !ok {
		return nil, &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "shard not served"}
	}
	p, err := c.InboxProof(r.Crosslink)
	if err != nil {
		return nil, nil // not held (or an empty crosslink, which proves nothing)
	}
	resp := &ShardInboxResponse{HeaderRoots: p.HeaderRoots, Header: p.Header, InboxNonces: p.InboxNonces, InboxBranch: p.Branch}
	buf, err := resp.MarshalSSZ()
	if err != nil {
		return nil, fmt.Errorf("encode shard inbox: %w", err)
	}
	return [][]byte{buf}, nil
}

// DecodeInbox decodes a ShardInboxResponse and checks it against c,
// returning the proven inbox nonces (SHARD_COUNT of them).
func DecodeInbox(cfg *params.Config, c bt.Crosslink, chunk []byte) ([]uint64, error) {
	var resp ShardInboxResponse
	if err := bt.Decode(&resp, chunk); err != nil {
		return nil, fmt.Errorf("%w: %w", chain.ErrInvalidInboxProof, err)
	}
	proof := &chain.InboxProof{HeaderRoots: resp.HeaderRoots, Header: resp.Header, InboxNonces: resp.InboxNonces, Branch: resp.InboxBranch}
	if err := chain.VerifyInboxProof(cfg, c, proof); err != nil {
		return nil, err
	}
	return resp.InboxNonces, nil
}

// servingPeers returns the peers serving shard that did not fail an
// inbox request lately.
func (h *Handler) servingPeers(shard bt.Shard) []peer.ID {
	now := h.currentSlot()
	h.badMu.Lock()
	defer h.badMu.Unlock()
	var out []peer.ID
	for _, p := range h.cfg.ServingPeers(shard) {
		if until, bad := h.badUntil[p]; !bad || now >= until {
			out = append(out, p)
		}
	}
	return out
}

// markBad leaves a peer that failed a request out for a few slots.
func (h *Handler) markBad(p peer.ID) {
	h.badMu.Lock()
	defer h.badMu.Unlock()
	h.badUntil[p] = h.currentSlot() + bt.Slot(h.cfg.BadPeerSlots)
}

// inboxFetch is one lookup of a destination's inbox nonces as of a
// crosslink: the peers serving it are asked one at a time (Env.Request)
// until one proves them. A peer whose answer fails (a bad proof, a
// malformed answer, a timeout) is left out for a while (markBad); one that
// holds nothing, or is busy, is not.
type inboxFetch struct {
	h     *Handler
	c     bt.Crosslink
	peers []peer.ID
	errs  []error
	done  func([]uint64, error)
}

// fetchInbox starts the lookup of c's shard's inbox nonces as of c and
// calls done once, later, with the result.
func (h *Handler) fetchInbox(c bt.Crosslink, done func([]uint64, error)) {
	f := &inboxFetch{h: h, c: c, peers: h.servingPeers(c.Shard), done: done}
	if len(f.peers) > maxInboxPeers {
		f.peers = f.peers[:maxInboxPeers]
	}
	if len(f.peers) == 0 {
		h.env.AfterFunc(0, func() { done(nil, fmt.Errorf("inbox of shard %d: no peer serves it", c.Shard)) })
		return
	}
	f.next()
}

// next asks the next peer, or gives up.
func (f *inboxFetch) next() {
	if len(f.peers) == 0 {
		f.done(nil, fmt.Errorf("inbox of shard %d at epoch %d: %w", f.c.Shard, f.c.EndEpoch, errors.Join(f.errs...)))
		return
	}
	p := f.peers[0]
	f.peers = f.peers[1:]
	req := &ShardInboxRequest{Shard: uint64(f.c.Shard), Crosslink: f.c}
	buf, err := req.MarshalSSZ()
	if err != nil {
		f.done(nil, fmt.Errorf("encode shard inbox request: %w", err))
		return
	}
	f.h.env.Request(p, ShardInboxByCrosslinkProtocol, buf, 1, func(chunks [][]byte, err error) {
		var nonces []uint64
		if err == nil {
			if len(chunks) == 0 {
				err = errInboxNotHeld
			} else {
				nonces, err = DecodeInbox(f.h.pcfg, f.c, chunks[0])
			}
		}
		if err == nil {
			f.done(nonces, nil)
			return
		}
		f.errs = append(f.errs, err)
		var re *p2p.ResponseError
		if !errors.Is(err, errInboxNotHeld) && !(errors.As(err, &re) && re.Code == p2p.CodeResourceUnavailable) {
			f.h.log.Debug("inbox request failed", "shard", uint64(f.c.Shard), "peer", p, "err", err)
			f.h.markBad(p)
		}
		f.next()
	})
}

// inboxView is what the relayer knows of an unserved destination's inbox
// nonces: the crosslinks of the destination whose inbox is proven, and
// the state of the fetch. Guarded by the relayer's lock.
type inboxView struct {
	links    map[bt.Root]provenLink
	current  bt.Root // the destination's current crosslink in the last head state
	inflight bool
	failed   bt.Root // the crosslink of the last failed fetch
	retryAt  bt.Slot
}

// provenLink is a crosslink of the destination with the inbox nonces of
// its last block; nonces is nil for a crosslink listing no block, whose
// inbox is its parent's.
type provenLink struct {
	cl     bt.Crosslink
	nonces []uint64
}

// lookup returns the inbox nonces as of the crosslink with the given
// root, through the parents of empty crosslinks.
func (v *inboxView) lookup(root bt.Root) ([]uint64, bool) {
	for range len(v.links) + 1 {
		l, ok := v.links[root]
		if !ok {
			return nil, false
		}
		if l.nonces != nil {
			return l.nonces, true
		}
		root = l.cl.ParentRoot
	}
	return nil, false
}

// remember records a crosslink, dropping the oldest beyond maxInboxLinks.
func (v *inboxView) remember(root bt.Root, l provenLink) {
	v.links[root] = l
	for len(v.links) > maxInboxLinks {
		var oldest bt.Root
		first := true
		for r, x := range v.links {
			if r == v.current {
				continue
			}
			o := v.links[oldest]
			if first || x.cl.EndEpoch < o.cl.EndEpoch || (x.cl.EndEpoch == o.cl.EndEpoch && slices.Compare(r[:], oldest[:]) < 0) {
				oldest, first = r, false
			}
		}
		delete(v.links, oldest)
	}
}

// destinationInbox returns the inbox nonces of unserved destination dst
// as of cur, its current crosslink in the beacon head state, when known.
// A crosslink not seen before is fetched through the Env (fetchInbox),
// one fetch per destination at a time (after a failure, again
// inboxRetrySlots later); a crosslink listing no block needs no fetch: its
// inbox is its parent's, and the genesis crosslink's is all zeros. Called with r.mu held.
func (r *relayer) destinationInbox(dst bt.Shard, slot bt.Slot, cur bt.Crosslink) ([]uint64, bool) {
	v := r.inbox[dst]
	if v == nil {
		v = &inboxView{links: make(map[bt.Root]provenLink)}
		r.inbox[dst] = v
	}
	root := cur.TreeRoot()
	v.current = root
	if _, ok := v.links[root]; !ok {
		switch {
		case cur == (bt.Crosslink{}):
			v.remember(root, provenLink{cl: cur, nonces: make([]uint64, r.h.pcfg.ShardCount)})
		case cur.DataRoot == (bt.Root{}) || cur.DataRoot == r.emptyRoot:
			v.remember(root, provenLink{cl: cur})
		case !v.inflight && (v.failed != root || slot >= v.retryAt):
			r.fetch(v, dst, slot, cur)
		}
	}
	return v.lookup(root)
}

// fetch starts the fetch of dst's inbox nonces as of c. Called with r.mu
// held; the answer comes later, through the Env.
func (r *relayer) fetch(v *inboxView, dst bt.Shard, slot bt.Slot, c bt.Crosslink) {
	h := r.h
	root := c.TreeRoot()
	v.inflight = true
	h.fetchInbox(c, func(nonces []uint64, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		v.inflight = false
		if err != nil {
			v.failed, v.retryAt = root, slot+inboxRetrySlots
			h.log.Debug("destination inbox not learned", "shard", uint64(dst), "epoch", c.EndEpoch, "err", err)
			return
		}
		v.remember(root, provenLink{cl: c, nonces: nonces})
		h.log.Debug("learned destination inbox", "shard", uint64(dst), "epoch", c.EndEpoch, "root", root)
		if v.current == root {
			r.applyInbox(dst, nonces)
		}
	})
}

// applyInbox tells every served shard what dst has claimed of its
// receipts.
func (r *relayer) applyInbox(dst bt.Shard, nonces []uint64) {
	for _, src := range r.h.shards {
		if int(src) < len(nonces) {
			r.h.chains[src].SetDestinationInbox(dst, nonces[src])
		}
	}
}
