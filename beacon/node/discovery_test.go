package node

import (
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestShardDirectory: discovery learns the shards a peer serves from its
// status, and a node wants a server of every shard when it attests or
// serves shards, of none otherwise.
func TestShardDirectory(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{})
		attester := testNode(t, tr, genesis, net.Nodes[0], ValidatorRange{Start: 0, Count: 8}, "", "attester")
		plain := testNode(t, tr, genesis, net.Nodes[1], ValidatorRange{}, "", "plain")
		cfg := TestConfig()
		cfg.Transition, cfg.Genesis, cfg.Network = tr, genesis, net.Nodes[2]
		cfg.ServedShards, cfg.ServeCrosslinkData = []uint64{5, 2}, StaticCrosslinkData{Root: types.Root{1}}
		server, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []*Node{attester, plain, server} {
			start(t, n)
		}
		if err := net.Connect(0, 2); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the status exchange

		all := make([]uint64, tr.Config().ShardCount)
		for i := range all {
			all[i] = uint64(i)
		}
		tests := []struct {
			name string
			n    *Node
			want []uint64
		}{
			{name: "attester", n: attester, want: all},
			{name: "plain", n: plain, want: nil},
			{name: "server", n: server, want: all},
		}
		for _, tc := range tests {
			if got := (shardDirectory{tc.n}).WantedShards(); !slices.Equal(got, tc.want) {
				t.Errorf("%s wants %v, want %v", tc.name, got, tc.want)
			}
		}
		if got := (shardDirectory{attester}).PeerShards(server.PeerID()); !slices.Equal(got, []uint64{5, 2}) {
			t.Errorf("server's shards %v, want [5 2]", got)
		}
		if got := (shardDirectory{attester}).PeerShards(plain.PeerID()); got != nil {
			t.Errorf("unconnected peer's shards %v", got)
		}
	})
}

func TestDataDirP2P(t *testing.T) {
	t.Parallel()
	pc := p2p.TestConfig()
	if got := DataDirP2P(pc, ""); got.KeyFile != "" || got.Discovery.PeersFile != "" {
		t.Fatalf("no data dir: key %q, peers %q", got.KeyFile, got.Discovery.PeersFile)
	}
	got := DataDirP2P(pc, "/d")
	if got.KeyFile != filepath.Join("/d", "p2p.key") || got.Discovery.PeersFile != filepath.Join("/d", "peers.json") {
		t.Fatalf("data dir: key %q, peers %q", got.KeyFile, got.Discovery.PeersFile)
	}
	pc.KeyFile, pc.Discovery.PeersFile = "/k", "/p"
	if got := DataDirP2P(pc, "/d"); got.KeyFile != "/k" || got.Discovery.PeersFile != "/p" {
		t.Fatalf("explicit files replaced: key %q, peers %q", got.KeyFile, got.Discovery.PeersFile)
	}
}
