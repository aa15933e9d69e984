package handler

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// syncJob is a range sync from one peer: blocks-by-range requests from
// start on until the head reaches target. It is a state machine advanced by
// the request callbacks.
type syncJob struct {
	peer          peer.ID
	target        types.Slot
	start         types.Slot
	fromFinalized bool
}

// maybeSync starts a range sync from the best peer ahead of us, unless one
// runs.
func (h *Handler) maybeSync() {
	if h.sync != nil {
		return
	}
	p, st, ok := h.bestPeer()
	if !ok {
		return
	}
	_, head := h.chain.Head()
	h.sync = &syncJob{peer: p, target: types.Slot(st.HeadSlot), start: head + 1}
	h.cfg.Hooks.syncing(true)
	h.log.Info("syncing", "peer", p, "slot", head, "target_slot", h.sync.target)
	h.syncStep()
}

// endSync ends the running sync; a peer that did not deliver is marked
// bad. The next best peer, if any, is synced from.
func (h *Handler) endSync(ok bool) {
	j := h.sync
	h.sync = nil
	if !ok {
		h.markBad(j.peer)
	}
	h.maybeSync()
	if h.sync == nil {
		h.cfg.Hooks.syncing(false)
	}
}

// syncStep requests the next batch of the running sync.
func (h *Handler) syncStep() {
	j := h.sync
	if _, head := h.chain.Head(); head >= j.target {
		h.log.Info("synced", "peer", j.peer, "slot", head)
		h.endSync(true)
		return
	}
	h.requestRange(j.peer, j.start, h.cfg.Sync.BatchSize, func(blocks []types.AnyBlock, err error) {
		if h.sync != j {
			return
		}
		h.onRange(j, blocks, err)
	})
}

// onRange imports one batch of the running sync and asks for the next.
func (h *Handler) onRange(j *syncJob, blocks []types.AnyBlock, err error) {
	if err != nil && len(blocks) == 0 {
		h.log.Warn("sync request failed", "peer", j.peer, "slot", j.start, "err", err)
		h.endSync(false)
		return
	}
	if len(blocks) == 0 {
		if uint64(j.start)+h.cfg.Sync.BatchSize > uint64(j.target) {
			h.endSync(false) // the peer's head is not where its status said
			return
		}
		j.start += types.Slot(h.cfg.Sync.BatchSize)
		h.syncStep()
		return
	}
	if blocks[0].GetSlot() < j.start || blocks[len(blocks)-1].GetSlot() < blocks[0].GetSlot() {
		h.endSync(false) // out of the requested range
		return
	}
	imported, err := h.importBatch(blocks)
	switch {
	case errors.Is(err, chain.ErrUnknownParent) && !j.fromFinalized:
		// Our head is on another branch: take the peer's chain from our
		// finalized checkpoint, which both share.
		j.fromFinalized = true
		j.start = core.ComputeStartSlotOfEpoch(h.pcfg, h.chain.Finalized().Epoch) + 1
		h.syncStep()
		return
	case err != nil:
		h.log.Warn("sync block rejected", "peer", j.peer, "err", err)
		h.endSync(false)
		return
	}
	j.start = blocks[len(blocks)-1].GetSlot() + 1
	_, head := h.chain.Head()
	h.log.Info("sync progress", "peer", j.peer, "slot", head, "target_slot", j.target, "imported", imported)
	h.syncStep()
}

// importBatch imports blocks in order, stopping at the first failure.
func (h *Handler) importBatch(blocks []types.AnyBlock) (int, error) {
	for i, b := range blocks {
		h.Tick()
		if _, err := h.chain.ImportBlock(b, core.VerifySigs); err != nil {
			return i, fmt.Errorf("block of slot %d: %w", b.GetSlot(), err)
		}
		h.cfg.Hooks.syncedBlock()
	}
	return len(blocks), nil
}

// fetchAncestors fetches, by root from p, the missing ancestors of b (at
// most MaxParentFetch, one request each) and imports them and b; a longer
// gap is left to range sync.
func (h *Handler) fetchAncestors(p peer.ID, b types.AnyBlock) {
	want := b.GetParentRoot()
	if !h.startFetch(want) {
		return
	}
	h.fetchParent(p, want, want, []types.AnyBlock{b}, h.cfg.Sync.MaxParentFetch)
}

// fetchParent is one step of fetchAncestors: key is the fetch's first
// root, pending the blocks fetched so far, child first.
func (h *Handler) fetchParent(p peer.ID, key, want types.Root, pending []types.AnyBlock, left int) {
	if left <= 0 {
		delete(h.fetching, key)
		h.maybeSync()
		return
	}
	h.requestRoots(p, []types.Root{want}, func(blocks []types.AnyBlock, err error) {
		if err != nil || len(blocks) != 1 {
			delete(h.fetching, key)
			h.log.Debug("fetch parent failed", "peer", p, "root", want, "err", err)
			h.maybeSync()
			return
		}
		pb := blocks[0]
		if r, err := pb.SigningRoot(); err != nil || r != want {
			delete(h.fetching, key)
			h.markBad(p)
			return
		}
		pending = append(pending, pb)
		if h.chain.HasBlock(pb.GetParentRoot()) {
			delete(h.fetching, key)
			h.importChain(pending)
			return
		}
		h.fetchParent(p, key, pb.GetParentRoot(), pending, left-1)
	})
}

// fetchRoots fetches blocks by root from p and imports them (attestation
// targets the node has not seen).
func (h *Handler) fetchRoots(p peer.ID, roots []types.Root) {
	if len(roots) == 0 || !h.startFetch(roots[0]) {
		return
	}
	h.requestRoots(p, roots, func(blocks []types.AnyBlock, err error) {
		delete(h.fetching, roots[0])
		if err != nil {
			return
		}
		for _, b := range blocks {
			h.Tick()
			if _, err := h.chain.ImportBlock(b, core.VerifySigs); errors.Is(err, chain.ErrUnknownParent) {
				h.fetchAncestors(p, b)
			}
		}
	})
}

// importChain imports blocks given child first, oldest last.
func (h *Handler) importChain(blocks []types.AnyBlock) {
	for i := len(blocks) - 1; i >= 0; i-- {
		h.Tick()
		if _, err := h.chain.ImportBlock(blocks[i], core.VerifySigs); err != nil {
			h.log.Debug("import fetched block failed", "slot", blocks[i].GetSlot(), "err", err)
			return
		}
		h.cfg.Hooks.syncedBlock()
	}
}

func (h *Handler) startFetch(root types.Root) bool {
	if h.fetching[root] || len(h.fetching) >= maxFetches {
		return false
	}
	h.fetching[root] = true
	return true
}

// requestBlocks sends a blocks request and decodes the chunks for done.
func (h *Handler) requestBlocks(p peer.ID, protocol string, req interface{ MarshalSSZ() ([]byte, error) }, max int, done func([]types.AnyBlock, error)) {
	buf, err := req.MarshalSSZ()
	if err != nil {
		done(nil, fmt.Errorf("encode %s request: %w", protocol, err))
		return
	}
	h.env.Request(p, protocol, buf, max, func(chunks [][]byte, err error) {
		if err != nil && len(chunks) == 0 {
			done(nil, err)
			return
		}
		blocks := make([]types.AnyBlock, 0, len(chunks))
		for _, c := range chunks {
			b, err := types.DecodeBlock(h.pcfg, c)
			if err != nil {
				done(blocks, fmt.Errorf("%s from %s: %w", protocol, p, err))
				return
			}
			blocks = append(blocks, b)
		}
		done(blocks, nil)
	})
}

// requestRange asks p for the canonical blocks of [start, start+count).
func (h *Handler) requestRange(p peer.ID, start types.Slot, count uint64, done func([]types.AnyBlock, error)) {
	req := &BlocksByRangeRequest{StartSlot: uint64(start), Count: count, Step: 1}
	h.requestBlocks(p, p2p.BeaconBlocksByRangeProtocol, req, int(min(count, MaxRangeCount)), done)
}

// requestRoots asks p for blocks by root.
func (h *Handler) requestRoots(p peer.ID, roots []types.Root, done func([]types.AnyBlock, error)) {
	req := &BlocksByRootRequest{Roots: make([][32]byte, len(roots))}
	for i, r := range roots {
		req.Roots[i] = r
	}
	h.requestBlocks(p, p2p.BeaconBlocksByRootProtocol, req, len(roots), done)
}
