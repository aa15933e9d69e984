package p2p_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// fakeDirectory is a ShardDirectory with fixed answers.
type fakeDirectory struct {
	mu     sync.Mutex
	shards map[peer.ID][]uint64
	wanted []uint64
}

func (d *fakeDirectory) PeerShards(p peer.ID) []uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.shards[p]
}

func (d *fakeDirectory) WantedShards() []uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wanted
}

func connectedTo(n *p2p.Node, ids ...peer.ID) bool {
	for _, id := range ids {
		if !slices.Contains(n.Peers(), id) {
			return false
		}
	}
	return true
}

// TestRequestPeers: a hub connected to 20 leaves answers at most Count
// (and at most MaxPeerRecords) records, never the requester, with the
// leaves serving a requested shard first, carrying their shards and
// addresses.
func TestRequestPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const leaves = 20
		net, _ := p2ptest.NewMockNet(t, leaves+1, p2ptest.Options{})
		hub := net.Nodes[0]
		for i := 1; i <= leaves; i++ {
			if err := net.Connect(0, i); err != nil {
				t.Fatal(err)
			}
		}
		dir := &fakeDirectory{shards: map[peer.ID][]uint64{
			net.Nodes[17].ID(): {3, 1},
			net.Nodes[18].ID(): {7},
		}}
		hub.SetShardDirectory(dir)
		asker := net.Nodes[1]
		ctx := context.Background()

		got, err := asker.RequestPeers(ctx, hub.ID(), p2p.MaxPeerRecords, []uint64{1, 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != p2p.MaxPeerRecords {
			t.Fatalf("%d records, want %d", len(got), p2p.MaxPeerRecords)
		}
		first := []peer.ID{got[0].Info.ID, got[1].Info.ID}
		if !slices.Contains(first, net.Nodes[17].ID()) || !slices.Contains(first, net.Nodes[18].ID()) {
			t.Fatalf("servers of the requested shards not first: %v", first)
		}
		for _, kp := range got {
			if kp.Info.ID == asker.ID() || kp.Info.ID == hub.ID() {
				t.Fatalf("answer names %s", kp.Info.ID)
			}
			if len(kp.Info.Addrs) == 0 {
				t.Fatalf("record of %s without addresses", kp.Info.ID)
			}
			if kp.Info.ID == net.Nodes[17].ID() && !slices.Equal(kp.Shards, []uint64{1, 3}) {
				t.Fatalf("shards of node 17: %v, want [1 3]", kp.Shards)
			}
		}

		got, err = asker.RequestPeers(ctx, hub.ID(), 3, nil)
		if err != nil || len(got) != 3 {
			t.Fatalf("count 3: %d records, %v", len(got), err)
		}
		for _, count := range []int{0, -1, p2p.MaxPeerRecords + 1} {
			if _, err := asker.RequestPeers(ctx, hub.ID(), count, nil); !errors.Is(err, p2p.ErrInvalidArgument) {
				t.Errorf("count %d: %v, want ErrInvalidArgument", count, err)
			}
		}
		// A request with Count 0 sent by hand is refused by the server.
		req, _ := (&p2p.PeersRequest{Count: 0}).MarshalSSZ()
		if _, err := asker.Request(ctx, hub.ID(), p2p.PeerExchangeProtocol, req, 1); err == nil {
			t.Error("count 0 accepted by the server")
		}
		if _, err := asker.Request(ctx, hub.ID(), p2p.PeerExchangeProtocol, []byte{1, 2, 3}, 1); err == nil {
			t.Error("garbage request accepted by the server")
		}
	})
}

// record encodes a PeerRecord or fails the test.
func record(t testing.TB, r p2p.PeerRecord) []byte {
	t.Helper()
	b, err := r.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRequestPeersHostile: a peer answering malformed records gets an
// error, never a panic, and its answer is not used in part.
func TestRequestPeersHostile(t *testing.T) {
	id := mustPeerID(t)
	addr := ma.StringCast("/ip4/10.0.0.1/tcp/9000").Bytes()
	good := record(t, p2p.PeerRecord{ID: []byte(id), Addrs: [][]byte{addr}, Shards: []uint64{1}})
	tests := []struct {
		name   string
		chunks [][]byte
	}{
		{name: "garbage", chunks: [][]byte{{0xde, 0xad}}},
		{name: "empty chunk", chunks: [][]byte{{}}},
		{name: "bad peer id", chunks: [][]byte{record(t, p2p.PeerRecord{ID: []byte("not a peer"), Addrs: [][]byte{addr}})}},
		{name: "no address", chunks: [][]byte{record(t, p2p.PeerRecord{ID: []byte(id)})}},
		{name: "bad address", chunks: [][]byte{record(t, p2p.PeerRecord{ID: []byte(id), Addrs: [][]byte{{0xff, 0xff, 0xff}}})}},
		{name: "address naming a peer", chunks: [][]byte{record(t, p2p.PeerRecord{ID: []byte(id),
			Addrs: [][]byte{ma.StringCast("/ip4/10.0.0.1/tcp/9000/p2p/" + id.String()).Bytes()}})}},
		{name: "shards not ascending", chunks: [][]byte{record(t, p2p.PeerRecord{ID: []byte(id), Addrs: [][]byte{addr}, Shards: []uint64{2, 2}})}},
		{name: "good then bad", chunks: [][]byte{good, {1}}},
		{name: "same peer twice", chunks: [][]byte{good, good}},
	}
	synctest.Test(t, func(t *testing.T) {
		net, _ := p2ptest.NewMockNet(t, 2, p2ptest.Options{Topology: p2ptest.FullMesh})
		asker, liar := net.Nodes[0], net.Nodes[1]
		for _, tc := range tests {
			if err := liar.Handle(p2p.PeerExchangeProtocol, func(_ context.Context, _ peer.ID, _ []byte, w p2p.ResponseWriter) error {
				for _, c := range tc.chunks {
					if err := w.WriteChunk(c); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got, err := asker.RequestPeers(context.Background(), liar.ID(), p2p.MaxPeerRecords, nil)
			if err == nil || got != nil {
				t.Errorf("%s: got %v, %v; want an error", tc.name, got, err)
			}
		}
		// More chunks than asked for: the rest is not read.
		if err := liar.Handle(p2p.PeerExchangeProtocol, func(_ context.Context, _ peer.ID, _ []byte, w p2p.ResponseWriter) error {
			for range 3 * p2p.MaxPeerRecords {
				if err := w.WriteChunk(good); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := asker.RequestPeers(context.Background(), liar.ID(), 1, nil); err != nil || len(got) != 1 {
			t.Errorf("flood: %d records, %v; want 1", len(got), err)
		}
	})
}

func mustPeerID(t testing.TB) peer.ID {
	t.Helper()
	k, err := p2p.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDiscoveryLine: nodes connected in a line, each with a target of
// all the others, end fully connected through the peer exchange.
func TestDiscoveryLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const nodes = 5
		net, _ := p2ptest.NewMockNet(t, nodes, p2ptest.Options{
			Topology: p2ptest.Line,
			ConfigFn: func(_ int, cfg *p2p.Config) { cfg.Discovery.TargetPeers = nodes - 1 },
		})
		for _, n := range net.Nodes {
			if err := n.Start(); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(10 * time.Second)
		for i, n := range net.Nodes {
			if got := len(n.Peers()); got != nodes-1 {
				t.Errorf("node %d has %d peers, want %d", i, got, nodes-1)
			}
		}
	})
}

// TestDiscoveryTarget: a node at its target does not dial more peers, but
// still dials a server of a wanted shard that none of its peers serves.
func TestDiscoveryTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 0 - 1 - {2, 3, 4}; node 4 serves shard 5.
		net, _ := p2ptest.NewMockNet(t, 5, p2ptest.Options{
			ConfigFn: func(i int, cfg *p2p.Config) {
				if i == 0 {
					cfg.Discovery.TargetPeers = 1
				}
			},
		})
		for _, e := range [][2]int{{0, 1}, {1, 2}, {1, 3}, {1, 4}} {
			if err := net.Connect(e[0], e[1]); err != nil {
				t.Fatal(err)
			}
		}
		server := net.Nodes[4].ID()
		dir := &fakeDirectory{shards: map[peer.ID][]uint64{server: {5}}}
		net.Nodes[1].SetShardDirectory(dir)
		n0 := net.Nodes[0]
		n0dir := &fakeDirectory{shards: map[peer.ID][]uint64{server: {5}}}
		n0.SetShardDirectory(n0dir)
		if err := n0.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if got := len(n0.Peers()); got != 1 {
			t.Fatalf("node at its target has %d peers, want 1", got)
		}
		n0dir.mu.Lock()
		n0dir.wanted = []uint64{5}
		n0dir.mu.Unlock()
		time.Sleep(10 * time.Second)
		if !connectedTo(n0, server) {
			t.Fatal("the server of the wanted shard was not dialled")
		}
		if got := len(n0.Peers()); got != 2 {
			t.Fatalf("node has %d peers, want 2 (its peer and the server only)", got)
		}
	})
}

// TestPeersFile: a node remembers its peers in its peers file and, started
// again with the file, dials them without bootnodes.
func TestPeersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers.json")
	synctest.Test(t, func(t *testing.T) {
		net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{
			ConfigFn: func(i int, cfg *p2p.Config) {
				cfg.Discovery.TargetPeers = 2
				if i == 0 {
					cfg.Discovery.PeersFile = path
				}
			},
		})
		for _, e := range [][2]int{{0, 1}, {0, 2}} {
			if err := net.Connect(e[0], e[1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := net.Nodes[0].Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := net.Nodes[0].Close(); err != nil {
			t.Fatal(err)
		}
		infos, err := p2p.ReadPeersFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var ids []peer.ID
		for _, ai := range infos {
			ids = append(ids, ai.ID)
		}
		if !slices.Contains(ids, net.Nodes[1].ID()) || !slices.Contains(ids, net.Nodes[2].ID()) || len(ids) != 2 {
			t.Fatalf("remembered %v", ids)
		}
		// A new node with the file (no bootnodes, no connection) dials them.
		h, err := net.Mock.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		if err := net.Mock.LinkAll(); err != nil {
			t.Fatal(err)
		}
		cfg := p2p.TestConfig()
		cfg.Discovery.TargetPeers, cfg.Discovery.PeersFile = 2, path
		again, err := p2p.NewWithHost(context.Background(), h, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = again.Close() })
		if err := again.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		if !connectedTo(again, net.Nodes[1].ID(), net.Nodes[2].ID()) {
			t.Fatalf("remembered peers not dialled: connected to %v", again.Peers())
		}
	})
}

func TestReadPeersFileErrors(t *testing.T) {
	dir := t.TempDir()
	id := mustPeerID(t)
	tests := []struct {
		name, content string
	}{
		{name: "not json", content: "{"},
		{name: "not a list", content: `{"a": 1}`},
		{name: "bad multiaddr", content: `["/ip4/nope"]`},
		{name: "no peer id", content: `["/ip4/127.0.0.1/tcp/1"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := p2p.ReadPeersFile(path); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := p2p.ReadPeersFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	// A peer without an address is left out: there is nothing to dial.
	path := filepath.Join(dir, "no-addr")
	if err := p2p.WritePeersFile(path, []peer.AddrInfo{{ID: mustPeerID(t)},
		{ID: id, Addrs: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/2")}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := p2p.ReadPeersFile(path); err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("read %v, %v; want only %s", got, err, id)
	}
	// More than MaxRememberedPeers are cut.
	var infos []peer.AddrInfo
	for range p2p.MaxRememberedPeers + 5 {
		infos = append(infos, peer.AddrInfo{ID: mustPeerID(t), Addrs: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/1")}})
	}
	infos = append(infos, peer.AddrInfo{ID: id, Addrs: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/2")}})
	path = filepath.Join(dir, "many")
	if err := p2p.WritePeersFile(path, infos); err != nil {
		t.Fatal(err)
	}
	got, err := p2p.ReadPeersFile(path)
	if err != nil || len(got) != p2p.MaxRememberedPeers {
		t.Fatalf("read %d peers, %v; want %d", len(got), err, p2p.MaxRememberedPeers)
	}
}

// TestGossipPeerExchange: with gossipsub's peer exchange on, a hub whose
// mesh overflows Dhi prunes leaves with other mesh peers attached, and the
// leaves dial them; with it off they stay leaves.
func TestGossipPeerExchange(t *testing.T) {
	for _, px := range []bool{true, false} {
		t.Run(fmt.Sprintf("px=%v", px), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const leaves = 8
				net, _ := p2ptest.NewMockNet(t, leaves+1, p2ptest.Options{
					ConfigFn: func(_ int, cfg *p2p.Config) {
						cfg.Gossip.D, cfg.Gossip.Dlo, cfg.Gossip.Dhi, cfg.Gossip.Dlazy = 2, 1, 3, 2
						cfg.Gossip.PeerExchange = px
						cfg.Score.AcceptPXThreshold = 0 // no deliveries in this test
					},
				})
				for _, n := range net.Nodes {
					if err := n.Subscribe("px", nil, func(context.Context, peer.ID, []byte) {}); err != nil {
						t.Fatal(err)
					}
				}
				for i := 1; i <= leaves; i++ {
					if err := net.Connect(0, i); err != nil {
						t.Fatal(err)
					}
				}
				time.Sleep(5 * time.Second)
				linked := 0
				for _, n := range net.Nodes[1:] {
					if len(n.Peers()) > 1 {
						linked++
					}
				}
				if px && linked == 0 {
					t.Fatal("no leaf dialled a peer named in a PRUNE")
				}
				if !px && linked > 0 {
					t.Fatalf("%d leaves found other peers without peer exchange", linked)
				}
			})
		})
	}
}
