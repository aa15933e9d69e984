package node

import (
	"context"
	"errors"
	"fmt"

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

// registerInbox installs the ShardInboxByCrosslinkProtocol handler.
func (n *Node) registerInbox() error {
	if err := n.p2p.Handle(ShardInboxByCrosslinkProtocol, n.serveInboxByCrosslink); err != nil {
		return fmt.Errorf("handle %s: %w", ShardInboxByCrosslinkProtocol, err)
	}
	return nil
}

// serveInboxByCrosslink answers a ShardInboxRequest about a served shard
// with the proof of its inbox nonces at the crosslink, when the chain can
// build it (shard/chain InboxProof), and with no chunk otherwise.
func (n *Node) serveInboxByCrosslink(_ context.Context, _ peer.ID, req []byte, w p2p.ResponseWriter) error {
	if n.ctx.Err() != nil {
		return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "node closing"}
	}
	var r ShardInboxRequest
	if err := bt.Decode(&r, req); err != nil || r.Shard >= n.pcfg.ShardCount || uint64(r.Crosslink.Shard) != r.Shard {
		return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad shard inbox request"}
	}
	c, ok := n.chains[bt.Shard(r.Shard)]
	if !ok {
		return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "shard not served"}
	}
	p, err := c.InboxProof(r.Crosslink)
	if err != nil {
		return nil // not held (or an empty crosslink, which proves nothing)
	}
	resp := &ShardInboxResponse{HeaderRoots: p.HeaderRoots, Header: p.Header, InboxNonces: p.InboxNonces, InboxBranch: p.Branch}
	buf, err := resp.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode shard inbox: %w", err)
	}
	return w.WriteChunk(buf)
}

// requestInbox asks p for the inbox nonces of c's shard as of crosslink c
// and checks the answer against c (chain.VerifyInboxProof). A peer that
// holds nothing gives errInboxNotHeld; a bad answer an error wrapping
// chain.ErrInvalidInboxProof.
func (n *Node) requestInbox(ctx context.Context, p peer.ID, c bt.Crosslink) ([]uint64, error) {
	req := &ShardInboxRequest{Shard: uint64(c.Shard), Crosslink: c}
	buf, err := req.MarshalSSZ()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Sync.RequestTimeout)
	defer cancel()
	chunks, err := n.p2p.Request(ctx, p, ShardInboxByCrosslinkProtocol, buf, 1)
	if err != nil {
		return nil, err
	}
	if len(chunks) == 0 {
		return nil, errInboxNotHeld
	}
	return decodeInbox(n.pcfg, c, chunks[0])
}

// decodeInbox decodes a ShardInboxResponse and checks it against c,
// returning the proven inbox nonces (SHARD_COUNT of them).
func decodeInbox(cfg *params.Config, c bt.Crosslink, chunk []byte) ([]uint64, error) {
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

// fetchInbox asks the peers serving c's shard, one at a time, for its
// inbox nonces as of c, until one proves them. A peer whose answer fails
// (a bad proof, a malformed answer, a timeout) is left out for a while
// (markBad); one that holds nothing, or is busy, is not.
func (n *Node) fetchInbox(ctx context.Context, c bt.Crosslink) ([]uint64, error) {
	peers := n.peersServing(c.Shard, "")
	if len(peers) == 0 {
		return nil, fmt.Errorf("inbox of shard %d: no peer serves it", c.Shard)
	}
	if len(peers) > maxInboxPeers {
		peers = peers[:maxInboxPeers]
	}
	var errs []error
	for _, p := range peers {
		nonces, err := n.requestInbox(ctx, p, c)
		if err == nil {
			return nonces, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
		var re *p2p.ResponseError
		if errors.Is(err, errInboxNotHeld) || (errors.As(err, &re) && re.Code == p2p.CodeResourceUnavailable) {
			continue
		}
		n.log.Debug("inbox request failed", "shard", uint64(c.Shard), "peer", p, "err", err)
		n.markBad(p)
	}
	return nil, fmt.Errorf("inbox of shard %d at epoch %d: %w", c.Shard, c.EndEpoch, errors.Join(errs...))
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
			if r != v.current && (first || x.cl.EndEpoch < v.links[oldest].cl.EndEpoch) {
				oldest, first = r, false
			}
		}
		delete(v.links, oldest)
	}
}

// destinationInbox returns the inbox nonces of unserved destination dst
// as of cur, its current crosslink in the beacon head state, when known.
// A crosslink not seen before is fetched in the background, one fetch per
// destination at a time (after a failure, again inboxRetrySlots later); a
// crosslink listing no block needs no fetch: its inbox is its parent's,
// and the genesis crosslink's is all zeros. Called with r.mu held.
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
			v.remember(root, provenLink{cl: cur, nonces: make([]uint64, r.n.pcfg.ShardCount)})
		case cur.DataRoot == (bt.Root{}) || cur.DataRoot == r.emptyRoot:
			v.remember(root, provenLink{cl: cur})
		case !v.inflight && (v.failed != root || slot >= v.retryAt):
			r.fetch(v, dst, slot, cur)
		}
	}
	return v.lookup(root)
}

// fetch starts the fetch of dst's inbox nonces as of c. Called with r.mu
// held, from the slot loop (which the node's wait group counts).
func (r *relayer) fetch(v *inboxView, dst bt.Shard, slot bt.Slot, c bt.Crosslink) {
	n := r.n
	root := c.TreeRoot()
	v.inflight = true
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		nonces, err := n.fetchInbox(n.ctx, c)
		r.mu.Lock()
		defer r.mu.Unlock()
		v.inflight = false
		if err != nil {
			v.failed, v.retryAt = root, slot+inboxRetrySlots
			n.log.Debug("destination inbox not learned", "shard", uint64(dst), "epoch", c.EndEpoch, "err", err)
			return
		}
		v.remember(root, provenLink{cl: c, nonces: nonces})
		n.log.Debug("learned destination inbox", "shard", uint64(dst), "epoch", c.EndEpoch, "root", root)
		if v.current == root {
			r.applyInbox(dst, nonces)
		}
	}()
}

// applyInbox tells every served shard what dst has claimed of its
// receipts.
func (r *relayer) applyInbox(dst bt.Shard, nonces []uint64) {
	for _, src := range r.n.shards {
		if int(src) < len(nonces) {
			r.n.chains[src].SetDestinationInbox(dst, nonces[src])
		}
	}
}
