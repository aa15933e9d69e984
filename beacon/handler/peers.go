package handler

import (
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// peerState is what the node knows of a peer.
type peerState struct {
	status    Status
	hasStatus bool
	// badUntil: the peer failed to deliver what its status promised (or
	// sent invalid blocks); it is not synced from until then.
	badUntil time.Time
}

// PeerStatus returns the last status of p.
func (h *Handler) PeerStatus(p peer.ID) (Status, bool) {
	ps, ok := h.peers[p]
	if !ok || !ps.hasStatus {
		return Status{}, false
	}
	return ps.status, true
}

// OnPeerConnected starts the status exchange with a new peer.
func (h *Handler) OnPeerConnected(p peer.ID) { h.exchangeStatus(p) }

// OnPeerDisconnected forgets p.
func (h *Handler) OnPeerDisconnected(p peer.ID) {
	if _, ok := h.peers[p]; ok {
		delete(h.peers, p)
		h.cfg.Hooks.peerStatus(p, Status{}, false)
	}
}

// statusAttempts bounds the tries of one status exchange; a fresh
// connection may not have identified our protocols yet.
const statusAttempts = 4

// exchangeStatus requests p's status, retrying with backoff from 100ms.
func (h *Handler) exchangeStatus(p peer.ID) { h.requestStatus(p, 0, 100*time.Millisecond) }

func (h *Handler) requestStatus(p peer.ID, attempt int, delay time.Duration) {
	ours := h.Status()
	buf, err := ours.MarshalSSZ()
	if err != nil {
		h.log.Warn("status exchange failed", "peer", p, "err", fmt.Errorf("encode status: %w", err))
		return
	}
	h.env.Request(p, p2p.StatusProtocol, buf, 1, func(chunks [][]byte, err error) {
		if err == nil && len(chunks) != 1 {
			err = fmt.Errorf("status of %s: no response", p)
		}
		var st Status
		if err == nil {
			if err = types.Decode(&st, chunks[0]); err != nil {
				err = fmt.Errorf("status of %s: %w", p, err)
			}
		}
		if err == nil {
			h.onStatus(p, st)
			return
		}
		h.log.Debug("status exchange failed", "peer", p, "err", err)
		if attempt+1 < statusAttempts && slices.Contains(h.env.Peers(), p) {
			h.env.AfterFunc(delay, func() { h.requestStatus(p, attempt+1, 2*delay) })
		}
	})
}

// onStatus records p's status; a peer ahead of us triggers a sync.
func (h *Handler) onStatus(p peer.ID, st Status) {
	if types.Root(st.GenesisRoot) != h.chain.GenesisRoot() {
		h.log.Debug("peer on another network", "peer", p, "root", types.Root(st.GenesisRoot))
		return
	}
	ps, ok := h.peers[p]
	if !ok {
		ps = &peerState{}
		h.peers[p] = ps
	}
	ps.status, ps.hasStatus = st, true
	h.cfg.Hooks.peerStatus(p, st, true)
	if _, head := h.chain.Head(); types.Slot(st.HeadSlot) > head {
		h.maybeSync()
	}
}

// peersServing returns the peers whose status lists shard, sorted.
func (h *Handler) peersServing(shard uint64) []peer.ID {
	var out []peer.ID
	for id, ps := range h.peers {
		if ps.hasStatus && slices.Contains(ps.status.Shards, shard) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// bestPeer returns the usable connected peer with the highest head slot
// above ours (the smallest ID among equals).
func (h *Handler) bestPeer() (peer.ID, Status, bool) {
	_, head := h.chain.Head()
	now := h.env.Now()
	connected := h.env.Peers()
	var best peer.ID
	var bestSt Status
	found := false
	for id, ps := range h.peers {
		if !ps.hasStatus || now.Before(ps.badUntil) || types.Slot(ps.status.HeadSlot) <= head || !slices.Contains(connected, id) {
			continue
		}
		if !found || ps.status.HeadSlot > bestSt.HeadSlot || (ps.status.HeadSlot == bestSt.HeadSlot && id < best) {
			best, bestSt, found = id, ps.status, true
		}
	}
	return best, bestSt, found
}

// markBad excludes p from syncing for four slots.
func (h *Handler) markBad(p peer.ID) {
	if ps, ok := h.peers[p]; ok {
		ps.badUntil = h.env.Now().Add(4 * h.slots.SlotDuration())
	}
}
