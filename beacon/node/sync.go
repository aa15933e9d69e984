package node

import (
	"context"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// PeerInfo describes a connected peer for the API.
type PeerInfo struct {
	ID    peer.ID
	Addrs []ma.Multiaddr
	// Direction is "inbound" or "outbound" (of the first connection), or
	// "" when unknown.
	Direction string
	// Status is the peer's last status; HasStatus is false before the first
	// exchange.
	Status    Status
	HasStatus bool
}

// Peers returns the connected peers with their last known status.
func (n *Node) Peers() []PeerInfo {
	ids := n.p2p.Peers()
	out := make([]PeerInfo, 0, len(ids))
	for _, id := range ids {
		pi := PeerInfo{ID: id, Addrs: n.p2p.Host().Peerstore().Addrs(id)}
		if conns := n.p2p.Host().Network().ConnsToPeer(id); len(conns) > 0 {
			switch conns[0].Stat().Direction {
			case network.DirInbound:
				pi.Direction = "inbound"
			case network.DirOutbound:
				pi.Direction = "outbound"
			}
		}
		pi.Status, pi.HasStatus = n.PeerStatus(id)
		out = append(out, pi)
	}
	return out
}

// PeerStatus returns the last status of p (a copy the handler keeps up to
// date; reading it never waits for the handler).
func (n *Node) PeerStatus(p peer.ID) (Status, bool) {
	n.statusMu.Lock()
	defer n.statusMu.Unlock()
	st, ok := n.statuses[p]
	return st, ok
}

// connectionLoop tells the handler of every new and every lost peer (it
// exchanges statuses with new ones and forgets lost ones).
func (n *Node) connectionLoop(ctx context.Context) {
	sub, err := n.p2p.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		n.log.Error("subscribe to connection events failed", "err", err)
		return
	}
	defer sub.Close()
	for _, p := range sortedPeers(n.p2p.Peers()) {
		n.do(func() { n.h.OnPeerConnected(p) })
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			ev := e.(event.EvtPeerConnectednessChanged)
			switch ev.Connectedness {
			case network.Connected:
				n.do(func() { n.h.OnPeerConnected(ev.Peer) })
			case network.NotConnected:
				n.do(func() { n.h.OnPeerDisconnected(ev.Peer) })
			}
		}
	}
}
