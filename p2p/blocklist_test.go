package p2p_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/p2p"
)

// TestBlockPeers cuts a bootnode link with the blocklist: the peer is
// disconnected, stays so although the node keeps its bootnode dialling,
// is refused by Connect, and is dialled again once unblocked.
func TestBlockPeers(t *testing.T) {
	t.Parallel()
	cfg := p2p.TestConfig()
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	b := newTCPNode(t, cfg)
	var addrs []string
	for _, a := range b.FullAddrs() {
		if strings.Contains(a.String(), "/tcp/") {
			addrs = append(addrs, a.String())
		}
	}
	cfg.Bootnodes = addrs
	a := newTCPNode(t, cfg)
	ctx := testContext(t)
	waitFor(ctx, t, "bootnode connection", func() bool { return connected(a, b) })

	a.BlockPeers([]peer.ID{b.ID()})
	if got := a.BlockedPeers(); !slices.Equal(got, []peer.ID{b.ID()}) {
		t.Fatalf("BlockedPeers = %v, want [%s]", got, b.ID())
	}
	waitFor(ctx, t, "blocked peer disconnected", func() bool { return !connected(a, b) && !connected(b, a) })
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); !errors.Is(err, p2p.ErrPeerBanned) {
		t.Fatalf("Connect to a blocked peer: %v, want ErrPeerBanned", err)
	}
	// b dials a: a drops the connection.
	_ = b.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()})
	waitFor(ctx, t, "inbound connection of a blocked peer dropped", func() bool { return !connected(a, b) })

	a.UnblockPeers(nil)
	if got := a.BlockedPeers(); len(got) != 0 {
		t.Fatalf("BlockedPeers after UnblockPeers = %v", got)
	}
	waitFor(ctx, t, "unblocked peer reconnected", func() bool { return connected(a, b) })
}
