package p2p_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/p2p"
)

func newTCPNode(t *testing.T, cfg p2p.Config) *p2p.Node {
	t.Helper()
	n, err := p2p.New(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatalf("new node: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	if err := n.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	return n
}

func connected(a, b *p2p.Node) bool {
	return a.Host().Network().Connectedness(b.ID()) == network.Connected
}

// TestTCPNodes runs real hosts on 127.0.0.1 (TCP and QUIC, ephemeral
// ports): bootnode discovery and redial, gossip forwarded by the bootnode,
// a request, and a QUIC-only connection.
func TestTCPNodes(t *testing.T) {
	t.Parallel()
	cfg := p2p.TestConfig()
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	boot := newTCPNode(t, cfg)
	var bootAddrs []string
	for _, a := range boot.FullAddrs() {
		if strings.Contains(a.String(), "/tcp/") {
			bootAddrs = append(bootAddrs, a.String())
		}
	}
	if len(bootAddrs) == 0 {
		t.Fatalf("bootnode has no TCP address: %v", boot.FullAddrs())
	}
	cfg.Bootnodes = bootAddrs
	n1 := newTCPNode(t, cfg)
	n2 := newTCPNode(t, cfg)
	ctx := testContext(t)
	waitFor(ctx, t, "bootnode connections", func() bool { return connected(n1, boot) && connected(n2, boot) })

	// Gossip: n1 -> boot -> n2 (n1 and n2 only know the bootnode).
	ch := make(chan delivery, 16)
	nodes := []*p2p.Node{boot, n1, n2}
	for i, n := range nodes {
		if err := n.Subscribe(p2p.ShardBlockTopic(0), nil, collector(i, ch)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		want := len(n.Peers())
		if err := n.WaitTopicPeers(ctx, p2p.ShardBlockTopic(0), want); err != nil {
			t.Fatal(err)
		}
		if err := n.WaitMesh(ctx, p2p.ShardBlockTopic(0), want); err != nil {
			t.Fatal(err)
		}
	}
	if err := n1.Publish(ctx, p2p.ShardBlockTopic(0), []byte("shard block")); err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for len(got) < 2 {
		select {
		case d := <-ch:
			if d.data != "shard block" || d.node == 1 {
				t.Fatalf("unexpected delivery %+v", d)
			}
			got[d.node] = true
		case <-ctx.Done():
			t.Fatalf("gossip over TCP reached only %v", got)
		}
	}

	// Request/response over TCP.
	if err := boot.Handle(p2p.StatusProtocol, func(_ context.Context, from peer.ID, req []byte, w p2p.ResponseWriter) error {
		return w.WriteChunk(append([]byte("status for "), req...))
	}); err != nil {
		t.Fatal(err)
	}
	chunks, err := n2.Request(ctx, boot.ID(), p2p.StatusProtocol, []byte("n2"), 1)
	if err != nil || len(chunks) != 1 || string(chunks[0]) != "status for n2" {
		t.Fatalf("status over TCP: %q, %v", chunks, err)
	}

	// The bootnode drops n1: n1 redials it.
	if err := boot.Host().Network().ClosePeer(n1.ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "n1 to redial the bootnode", func() bool { return connected(n1, boot) })

	// QUIC only.
	qcfg := p2p.TestConfig()
	qcfg.ListenAddrs = []string{"/ip4/127.0.0.1/udp/0/quic-v1"}
	n3 := newTCPNode(t, qcfg)
	var quic []ma.Multiaddr
	for _, a := range boot.Addrs() {
		if strings.Contains(a.String(), "/quic-v1") {
			quic = append(quic, a)
		}
	}
	if err := n3.Connect(ctx, peer.AddrInfo{ID: boot.ID(), Addrs: quic}); err != nil {
		t.Fatalf("connect over QUIC: %v", err)
	}
	conns := n3.Host().Network().ConnsToPeer(boot.ID())
	if len(conns) == 0 || !strings.Contains(conns[0].RemoteMultiaddr().String(), "/quic-v1") {
		t.Fatalf("connection is not QUIC: %v", conns)
	}
	chunks, err = n3.Request(ctx, boot.ID(), p2p.StatusProtocol, []byte("n3"), 1)
	if err != nil || len(chunks) != 1 || string(chunks[0]) != "status for n3" {
		t.Fatalf("status over QUIC: %q, %v", chunks, err)
	}
	if err := n3.Connect(ctx, n3.AddrInfo()); err == nil {
		t.Fatal("self dial succeeded")
	}
}

// TestMDNSDiscovery starts two nodes with mDNS and no bootnodes: they must
// find each other on the local network. Skipped where multicast does not
// work (some containers).
func TestMDNSDiscovery(t *testing.T) {
	if testing.Short() {
		t.Skip("mDNS uses the host's network interfaces")
	}
	t.Parallel()
	cfg := p2p.TestConfig()
	cfg.ListenAddrs = []string{"/ip4/0.0.0.0/tcp/0"}
	cfg.MDNS = true
	cfg.MDNSServiceTag = fmt.Sprintf("shardlab-test-%d", rand.Uint64()) // no cross-talk
	a := newTCPNode(t, cfg)
	b := newTCPNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !connected(a, b) {
		select {
		case <-ctx.Done():
			t.Skip("no mDNS discovery within 5s: multicast unavailable here?")
		case <-tick.C:
		}
	}
}

// TestTCPDiscoveryRestart runs real hosts on 127.0.0.1: a node that only
// knows a hub is found by the hub's other peer through the peer exchange
// (an inbound connection, whose addresses arrive with identify), remembers
// both with their addresses, and, restarted without bootnodes, dials both
// at once.
func TestTCPDiscoveryRestart(t *testing.T) {
	t.Parallel()
	cfg := p2p.TestConfig()
	cfg.Discovery.TargetPeers = 4
	hub := newTCPNode(t, cfg)
	cfg.Bootnodes = []string{hub.FullAddrs()[0].String()}
	key, err := p2p.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	mine := cfg
	mine.PrivateKey = key
	mine.Discovery.PeersFile = filepath.Join(t.TempDir(), "peers.json")
	mine.Discovery.TargetPeers = 1 // the hub is enough: the other peer dials us
	n := newTCPNode(t, mine)
	ctx := testContext(t)
	waitFor(ctx, t, "the bootnode connection", func() bool { return connected(n, hub) })
	other := newTCPNode(t, cfg)
	waitFor(ctx, t, "a connection from the hub's other peer", func() bool { return connected(n, other) })
	// Identify brings the inbound peer's addresses a little later; the
	// next round writes them.
	waitFor(ctx, t, "both peers remembered with addresses", func() bool {
		infos, err := p2p.ReadPeersFile(mine.Discovery.PeersFile)
		if err != nil || len(infos) != 2 {
			return false
		}
		for _, ai := range infos {
			if len(ai.Addrs) == 0 {
				return false
			}
		}
		return true
	})
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	mine.Bootnodes, mine.Discovery.TargetPeers = nil, 4
	again := newTCPNode(t, mine)
	waitFor(ctx, t, "connections to the remembered peers", func() bool { return connected(again, hub) && connected(again, other) })
}

// TestBandwidthMetric checks that a real host counts its stream bytes in
// both directions on the registry it was given.
func TestBandwidthMetric(t *testing.T) {
	t.Parallel()
	cfg := p2p.TestConfig()
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	reg := prometheus.NewRegistry()
	boot, err := p2p.New(context.Background(), cfg, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = boot.Close() })
	if err := boot.Start(); err != nil {
		t.Fatal(err)
	}
	cfg.Bootnodes = []string{boot.FullAddrs()[0].String()}
	n := newTCPNode(t, cfg)
	ctx := testContext(t)
	waitFor(ctx, t, "connection", func() bool { return connected(n, boot) })
	waitFor(ctx, t, "bytes counted both ways", func() bool {
		in, out := bandwidth(t, reg)
		return in > 0 && out > 0
	})
}

// bandwidth reads the bandwidth counters of a registry.
func bandwidth(t *testing.T, reg *prometheus.Registry) (in, out float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != p2p.BandwidthMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "direction" && l.GetValue() == "in" {
					in = m.GetCounter().GetValue()
				} else if l.GetName() == "direction" {
					out = m.GetCounter().GetValue()
				}
			}
		}
	}
	return in, out
}
