package p2p

import (
	"context"
	"maps"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
)

// A blocklist cuts the node off from chosen peers until it is lifted: the
// node disconnects them, drops their new connections, and neither dials
// them nor hands them out in peer exchange, exactly as for peers banned for
// a low gossip score. It stages network partitions on real processes (the
// beacon node's debug API, docs/api.md); nothing else uses it.

// BlockPeers disconnects ids and refuses them until UnblockPeers.
func (n *Node) BlockPeers(ids []peer.ID) {
	n.mu.Lock()
	if n.blocked == nil {
		n.blocked = make(map[peer.ID]bool)
	}
	for _, id := range ids {
		n.blocked[id] = true
	}
	n.mu.Unlock()
	for _, id := range ids {
		if err := n.host.Network().ClosePeer(id); err != nil {
			n.log.Debug("close blocked peer", "peer", id, "err", err)
		}
	}
}

// UnblockPeers lifts the blocklist for ids (every blocked peer when ids
// is empty) and dials the lifted peers again at the addresses the
// peerstore knows (in the background, within DialTimeout each), so a
// healed partition reconnects at once rather than after the bootnode and
// discovery backoffs.
func (n *Node) UnblockPeers(ids []peer.ID) {
	n.mu.Lock()
	if len(ids) == 0 {
		ids = slices.Collect(maps.Keys(n.blocked))
	}
	for _, id := range ids {
		delete(n.blocked, id)
	}
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return
	}
	for _, id := range ids {
		ai := n.host.Peerstore().PeerInfo(id)
		if len(ai.Addrs) == 0 {
			continue
		}
		n.dialInBackground(ai, "redial unblocked peer", nil)
	}
}

// BlockedPeers returns the blocked peers, sorted.
func (n *Node) BlockedPeers() []peer.ID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Sorted(maps.Keys(n.blocked))
}

// dialInBackground connects to ai on a goroutine within DialTimeout; a
// failure is logged at debug level under what, a success calls ok (if
// not nil).
func (n *Node) dialInBackground(ai peer.AddrInfo, what string, ok func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.DialTimeout)
		defer cancel()
		if err := n.Connect(ctx, ai); err != nil {
			n.log.Debug(what, "peer", ai.ID, "err", err)
			return
		}
		if ok != nil {
			ok()
		}
	}()
}
