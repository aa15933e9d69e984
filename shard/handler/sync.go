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
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// Shard sync by range (docs/protocol.md, shard_blocks_by_range): a node
// asks peers serving a shard for its canonical blocks from its head (or,
// when the first block does not attach, from its anchor) up to the
// current slot, batch by batch, and imports them. When a block's beacon
// reference is pruned (the node starts far behind) it restarts the shard
// chain from the latest crosslinked block (a checkpoint: the crosslink's
// blocks and the last one's post-state, ShardStateByRootProtocol). It is
// callback code on Env.Request, so that shard/node (over libp2p, answers
// on goroutines) and sim/netsim (in virtual time) run the same sync.

const (
	// MaxRangeCount bounds the slots of one shard blocks by range answer
	// (and so a sync batch).
	MaxRangeCount = 256
	// maxSyncPeers bounds the peers tried by one sync.
	maxSyncPeers = 3
	// defaultSyncBatch is Config.SyncBatchSize's default.
	defaultSyncBatch = 64
)

// syncState is the handler's sync bookkeeping, guarded by syncMu.
type syncState struct {
	syncing    map[bt.Shard]bool
	catchingUp map[bt.Shard]bool
	lastSync   map[bt.Shard]bt.Slot
	behind     map[bt.Shard]bool // a peer offers blocks the node cannot import
	caughtUp   bool              // the start-up catch-up was requested
}

func newSyncState() syncState {
	return syncState{syncing: make(map[bt.Shard]bool), catchingUp: make(map[bt.Shard]bool),
		lastSync: make(map[bt.Shard]bt.Slot), behind: make(map[bt.Shard]bool)}
}

// slotSync catches up after a start (the proposer waits for it); then
// syncs a shard whose head lags the clock once an epoch (empty slots lag
// too, so that does not pause the proposer). OnSlotStart calls it before
// the proposer duty.
func (h *Handler) slotSync(slot bt.Slot) {
	h.syncMu.Lock()
	first := !h.sync.caughtUp
	h.sync.caughtUp = true
	var due []bt.Shard
	for _, s := range h.shards {
		head := h.chains[s].Head().Header.Slot
		if !first && head+1 < slot && slot >= h.sync.lastSync[s]+bt.Slot(h.pcfg.SlotsPerEpoch) {
			h.sync.lastSync[s] = slot
			due = append(due, s)
		}
	}
	h.syncMu.Unlock()
	for _, s := range h.shards {
		if first {
			h.requestSync(s, "", true)
		} else if slices.Contains(due, s) {
			h.requestSync(s, "", false)
		}
	}
}

// requestSync starts a sync of shard unless one runs. A catch-up sync
// (after a start, or on a block whose parent is unknown: the node is
// behind) pauses the shard's proposer until it ends; a sync because the
// head lags the clock (which empty slots also cause) does not.
func (h *Handler) requestSync(s bt.Shard, prefer peer.ID, catchUp bool) {
	h.syncMu.Lock()
	if h.sync.syncing[s] {
		h.syncMu.Unlock()
		return
	}
	h.sync.syncing[s], h.sync.catchingUp[s] = true, catchUp
	h.syncMu.Unlock()
	peers := h.syncPeers(s, prefer)
	if len(peers) > maxSyncPeers {
		peers = peers[:maxSyncPeers]
	}
	r := &shardSync{h: h, shard: s, c: h.chains[s], cur: h.currentSlot(), peers: peers}
	r.nextPeer()
}

// Syncing reports whether a sync of shard runs.
func (h *Handler) Syncing(s bt.Shard) bool {
	h.syncMu.Lock()
	defer h.syncMu.Unlock()
	return h.sync.syncing[s]
}

// lagging reports whether the node must not propose on shard or answer
// its crosslink data: while catching up, or known to be behind.
func (h *Handler) lagging(s bt.Shard) bool {
	h.syncMu.Lock()
	defer h.syncMu.Unlock()
	return h.sync.catchingUp[s] || h.sync.behind[s]
}

// setBehind records whether the node knows it lags on shard.
func (h *Handler) setBehind(s bt.Shard, v bool) {
	h.syncMu.Lock()
	defer h.syncMu.Unlock()
	if h.sync.behind[s] != v {
		h.log.Debug("shard sync state", "shard", uint64(s), "behind", v)
	}
	h.sync.behind[s] = v
}

// syncPeers returns the serving peers of shard not left out lately,
// prefer first when it is one of them.
func (h *Handler) syncPeers(s bt.Shard, prefer peer.ID) []peer.ID {
	out := h.servingPeers(s)
	if i := slices.Index(out, prefer); i > 0 {
		out[0], out[i] = out[i], out[0]
	}
	return out
}

// shardSync is one sync of a shard: the peers are tried in order until
// one answers every request; each callback runs the next step.
type shardSync struct {
	h     *Handler
	shard bt.Shard
	c     *chain.Service
	cur   bt.Slot
	peers []peer.ID
	next  int // index of the next peer to try

	// The current peer's pass.
	p                             peer.ID
	from                          bt.Slot
	rewound, checkpointed, failed bool
	imported                      int
	behind                        bool
}

// nextPeer starts a pass with the next peer, or ends the sync.
func (r *shardSync) nextPeer() {
	if r.next >= len(r.peers) {
		r.finish()
		return
	}
	r.p = r.peers[r.next]
	r.next++
	r.from = r.c.Head().Header.Slot + 1
	r.rewound, r.checkpointed, r.failed, r.imported, r.behind = false, false, false, 0, false
	r.step()
}

// step asks the peer for the next batch, or ends the pass at the
// current slot.
func (r *shardSync) step() {
	if r.from > r.cur {
		r.endPass()
		return
	}
	count := min(r.h.syncBatch(), uint64(r.cur-r.from)+1)
	r.h.requestRange(r.p, r.shard, r.from, count, func(blocks []*st.ShardBlock, err error) {
		if err != nil {
			r.h.log.Debug("shard sync request failed", "shard", uint64(r.shard), "peer", r.p, "err", err)
			r.h.markBad(r.p)
			r.failed = true
			r.endPass()
			return
		}
		r.onBlocks(blocks, count)
	})
}

// onBlocks imports a batch and decides the next step.
func (r *shardSync) onBlocks(blocks []*st.ShardBlock, count uint64) {
	detached, pruned, bad := false, false, false
	for i, b := range blocks {
		err := r.h.ImportBlock(b, r.p)
		switch {
		case err == nil:
			r.imported++
		case errors.Is(err, chain.ErrDuplicate), errors.Is(err, chain.ErrTooOld) && !errors.Is(err, chain.ErrBeaconPruned):
		case errors.Is(err, chain.ErrBeaconPruned):
			pruned = true
		case i == 0 && errors.Is(err, chain.ErrUnknownParent):
			detached = true
		case errors.Is(err, chain.ErrUnknownBeaconBlock):
			r.behind = true // the beacon node has not caught up yet
		default:
			bad = true // invalid blocks, or blocks that do not chain
		}
		if detached || pruned || bad {
			break
		}
	}
	switch {
	case bad:
		r.h.markBad(r.p)
	case pruned && !r.checkpointed:
		r.checkpointed = true
		r.h.checkpoint(r.p, r.shard, func(anchor bt.Slot, ok bool) {
			if ok {
				r.from = anchor + 1
				r.step()
				return
			}
			r.behind = true
			r.endPass()
		})
		return
	case pruned:
		r.behind = true
	case detached && !r.rewound:
		// Our head is on a fork the peer does not have: take the peer's
		// chain from our anchor on.
		r.rewound = true
		if hd, ok := r.c.Header(r.c.Anchor()); ok {
			r.from = hd.Slot + 1
			r.step()
			return
		}
		r.behind = true
	case detached:
		r.h.markBad(r.p) // its chain does not reach ours even from the anchor
	default:
		r.from += bt.Slot(count)
		r.step()
		return
	}
	r.endPass()
}

// endPass ends the current peer's pass: a peer that answered is the one
// followed; after a failure the next peer is tried.
func (r *shardSync) endPass() {
	if r.imported > 0 {
		r.h.log.Debug("synced shard blocks", "shard", uint64(r.shard), "peer", r.p, "blocks", r.imported)
	}
	if r.failed {
		r.nextPeer()
		return
	}
	r.finish()
}

// finish records the outcome and lets the next sync of the shard start.
func (r *shardSync) finish() {
	r.h.setBehind(r.shard, r.behind)
	r.h.syncMu.Lock()
	r.h.sync.syncing[r.shard], r.h.sync.catchingUp[r.shard] = false, false
	r.h.syncMu.Unlock()
}

// syncBatch is the slots asked for in one request.
func (h *Handler) syncBatch() uint64 {
	if h.cfg.SyncBatchSize == 0 {
		return defaultSyncBatch
	}
	return h.cfg.SyncBatchSize
}

// requestRange asks p for the canonical blocks of shard in [start,
// start+count) and calls done with those that decoded and lie in the
// range (an error when a chunk does not, or none came and the request
// failed).
func (h *Handler) requestRange(p peer.ID, s bt.Shard, start bt.Slot, count uint64, done func([]*st.ShardBlock, error)) {
	req := &ShardBlocksByRangeRequest{Shard: uint64(s), StartSlot: uint64(start), Count: count}
	buf, err := req.MarshalSSZ()
	if err != nil {
		done(nil, fmt.Errorf("encode shard blocks by range request: %w", err))
		return
	}
	h.env.Request(p, p2p.ShardBlocksByRangeProtocol, buf, int(count), func(chunks [][]byte, err error) {
		if err != nil && len(chunks) == 0 {
			done(nil, err)
			return
		}
		out := make([]*st.ShardBlock, 0, len(chunks))
		for _, c := range chunks {
			b := new(st.ShardBlock)
			if err := bt.Decode(b, c); err != nil {
				done(out, fmt.Errorf("shard blocks by range from %s: %w", p, err))
				return
			}
			if b.Shard != s || b.Slot < start || uint64(b.Slot-start) >= count {
				done(out, fmt.Errorf("shard blocks by range from %s: block of shard %d slot %d outside the request", p, b.Shard, b.Slot))
				return
			}
			out = append(out, b)
		}
		done(out, nil)
	})
}

// checkpoint restarts shard from the last block of its newest crosslink
// with shard data in the beacon head state: that crosslink's blocks and
// the last one's post-state come from p and are checked by the chain. It
// calls done with the new anchor's slot, or false.
func (h *Handler) checkpoint(p peer.ID, s bt.Shard, done func(bt.Slot, bool)) {
	c := h.chains[s]
	head := h.bchain.HeadState()
	empty, _ := shardcore.CrosslinkDataRoot(h.pcfg, nil)
	var target *bt.Crosslink
	for _, l := range c.CrosslinkChain(head.CurrentCrosslinks[s], params.MaxCrosslinkChain) {
		if d := l.Crosslink.DataRoot; d != empty && d != (bt.Root{}) {
			cl := l.Crosslink
			target = &cl
			break
		}
	}
	if target == nil {
		done(0, false)
		return
	}
	spe := bt.Slot(h.pcfg.SlotsPerEpoch)
	start, end := bt.Slot(target.StartEpoch)*spe, bt.Slot(target.EndEpoch)*spe
	h.requestRange(p, s, start, uint64(end-start), func(blocks []*st.ShardBlock, err error) {
		if err != nil || len(blocks) == 0 {
			h.log.Debug("checkpoint: blocks of the crosslink not served", "shard", uint64(s), "peer", p, "err", err)
			done(0, false)
			return
		}
		last := blocks[len(blocks)-1]
		root, err := last.SigningRoot()
		if err != nil {
			done(0, false)
			return
		}
		h.requestState(p, s, root, func(state *st.ShardState, err error) {
			if err != nil {
				h.log.Debug("checkpoint: state not served", "shard", uint64(s), "peer", p, "root", root, "err", err)
				done(0, false)
				return
			}
			if _, err := c.Checkpoint(*target, blocks, state); err != nil {
				h.log.Warn("checkpoint sync failed", "shard", uint64(s), "peer", p, "err", err)
				h.markBad(p)
				done(0, false)
				return
			}
			done(last.Slot, true)
		})
	})
}

// requestState asks p for the post-state of a block of shard.
func (h *Handler) requestState(p peer.ID, s bt.Shard, root bt.Root, done func(*st.ShardState, error)) {
	req := &ShardStateRequest{Shard: uint64(s), BlockRoot: root}
	buf, err := req.MarshalSSZ()
	if err != nil {
		done(nil, fmt.Errorf("encode shard state request: %w", err))
		return
	}
	h.env.Request(p, ShardStateByRootProtocol, buf, 1, func(chunks [][]byte, err error) {
		switch {
		case err != nil:
			done(nil, err)
		case len(chunks) != 1:
			done(nil, fmt.Errorf("state of %s from %s: not held", root, p))
		default:
			done(st.UnmarshalShardState(chunks[0]))
		}
	})
}

// serveBlocksByRange answers a ShardBlocksByRangeRequest with the
// canonical blocks of a served shard in the requested slots.
func (h *Handler) serveBlocksByRange(req []byte) ([][]byte, error) {
	var r ShardBlocksByRangeRequest
	if err := bt.Decode(&r, req); err != nil || r.Count == 0 {
		return nil, &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad shard blocks by range request"}
	}
	c, ok := h.chains[bt.Shard(r.Shard)]
	if !ok {
		return nil, &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "shard not served"}
	}
	head := uint64(c.Head().Header.Slot)
	if r.StartSlot > head {
		return nil, nil
	}
	count := min(r.Count, MaxRangeCount, head-r.StartSlot+1)
	var out [][]byte
	for _, b := range c.CanonicalRange(bt.Slot(r.StartSlot), count) {
		buf, err := b.MarshalSSZ()
		if err != nil {
			return out, fmt.Errorf("encode shard block: %w", err)
		}
		out = append(out, buf)
	}
	return out, nil
}

// serveStateByRoot answers a ShardStateRequest with a held post-state
// (no chunk when not held).
func (h *Handler) serveStateByRoot(req []byte) ([][]byte, error) {
	var r ShardStateRequest
	if err := bt.Decode(&r, req); err != nil {
		return nil, &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad shard state request"}
	}
	c, ok := h.chains[bt.Shard(r.Shard)]
	if !ok {
		return nil, &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "shard not served"}
	}
	state, ok := c.PostState(r.BlockRoot)
	if !ok {
		return nil, nil
	}
	buf, err := state.MarshalSSZ()
	if err != nil {
		return nil, fmt.Errorf("encode shard state: %w", err)
	}
	return [][]byte{buf}, nil
}
