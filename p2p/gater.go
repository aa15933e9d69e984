package p2p

import (
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// gater is the host's libp2p connection gater: it refuses, inside the
// dialer and the upgrader, every connection to or from a banned or blocked
// peer (isBanned). Dropping such connections only when the "connected"
// event arrives (connectionEvents) leaves a window: a dial in flight when
// BlockPeers ran, or a peer redialling at once, connects after the
// disconnect, and the event bus may fold the disconnect and the reconnect
// into no event at all. A partition on real processes then leaked. The
// gater closes that window; connectionEvents still drops connections on
// hosts the Node does not own (NewWithHost), where no gater is installed.
type gater struct {
	banned atomic.Pointer[func(peer.ID) bool] // nil until the Node exists: allow
}

func (g *gater) refused(p peer.ID) bool {
	f := g.banned.Load()
	return f != nil && (*f)(p)
}

// InterceptPeerDial refuses dials to banned peers.
func (g *gater) InterceptPeerDial(p peer.ID) bool { return !g.refused(p) }

// InterceptAddrDial refuses dials to banned peers.
func (g *gater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return !g.refused(p) }

// InterceptAccept allows every inbound connection: its peer is known only
// once it is secured.
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured refuses authenticated connections of banned peers, in
// both directions (it catches dials that were in flight when the peer was
// banned).
func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !g.refused(p)
}

// InterceptUpgraded refuses upgraded connections of banned peers.
func (g *gater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	return !g.refused(c.RemotePeer()), 0
}
