package netsim

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// newSim builds c's simulation, closed at the end of the test.
func newSim(t *testing.T, c Config) *Sim {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// connectedGraph reports whether every node reaches node 0 over links.
func connectedGraph(links [][]int) bool {
	seen := make([]bool, len(links))
	seen[0] = true
	todo := []int{0}
	for len(todo) > 0 {
		i := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, j := range links[i] {
			if !seen[j] {
				seen[j] = true
				todo = append(todo, j)
			}
		}
	}
	return !slices.Contains(seen, false)
}

// TestPeerSet checks the bounded peer sets: every node has at least the
// target, far fewer than all nodes, the links are symmetric and connect
// the network, Env.Peers is the set, the mesh lies inside it, one seed
// gives one set and another seed another; with shard nodes every node has
// a server of every shard among its peers (another one for the shards it
// serves, to sync from).
func TestPeerSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		nodes, shardNodes   int
		shards              uint64
		peers, mesh         int
		wantAll             bool // every node every other's peer
		wantMin, wantMaxAvg int
	}{
		{name: "bounded", nodes: 48, peers: 6, mesh: 4, wantMin: 6, wantMaxAvg: 13},
		{name: "bounded flooding", nodes: 48, peers: 6, wantMin: 6, wantMaxAvg: 13},
		{name: "unbounded", nodes: 12, peers: 0, mesh: 3, wantAll: true},
		{name: "target above the nodes", nodes: 12, peers: 16, wantAll: true},
		{name: "shard servers", nodes: 32, shardNodes: 8, shards: 16, peers: 3, mesh: 2, wantMin: 3, wantMaxAvg: 20},
		{name: "two servers a shard", nodes: 32, shardNodes: 16, shards: 8, peers: 3, mesh: 2, wantMin: 3, wantMaxAvg: 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			c.Nodes, c.Peers, c.MeshDegree, c.Epochs = tc.nodes, tc.peers, tc.mesh, 1
			if tc.shardNodes > 0 {
				c.Shard = ShardConfig{Nodes: tc.shardNodes, Shards: tc.shards}
			}
			s := newSim(t, c)
			n := s.NodeCount()
			total := 0
			for i := range n {
				conns := s.net.conns[i]
				total += len(conns)
				if tc.wantAll && len(conns) != n-1 {
					t.Fatalf("node %d has %d peers, want all %d others", i, len(conns), n-1)
				}
				if len(conns) < tc.wantMin {
					t.Fatalf("node %d has %d peers, want at least %d", i, len(conns), tc.wantMin)
				}
				var ids []peer.ID
				for _, j := range conns {
					if j == i || !slices.Contains(s.net.conns[j], i) {
						t.Fatalf("link %d-%d is not symmetric or a self-link", i, j)
					}
					ids = append(ids, nodeID(j))
				}
				if got := (simEnv{s.nodes[i]}).Peers(); !slices.Equal(got, ids) {
					t.Fatalf("node %d: Env.Peers %v, peer set %v", i, got, ids)
				}
				for _, j := range s.net.mesh[i] {
					if !slices.Contains(conns, j) {
						t.Fatalf("node %d: mesh neighbour %d is not a peer", i, j)
					}
				}
				for sh, servers := range s.shardServers(n) {
					others := slices.DeleteFunc(slices.Clone(servers), func(j int) bool { return j == i })
					if len(others) > 0 && !slices.ContainsFunc(others, func(j int) bool { return slices.Contains(conns, j) }) {
						t.Fatalf("node %d has no server of shard %d among its peers %v", i, sh, conns)
					}
				}
			}
			if !tc.wantAll && total/n > tc.wantMaxAvg {
				t.Fatalf("%d peers a node on average, want at most %d", total/n, tc.wantMaxAvg)
			}
			if !connectedGraph(s.net.conns) || !connectedGraph(s.net.mesh) {
				t.Fatal("the peer set or the mesh does not connect every node")
			}
			if again := newSim(t, c); !slices.EqualFunc(again.net.conns, s.net.conns, slices.Equal) ||
				!slices.EqualFunc(again.net.mesh, s.net.mesh, slices.Equal) {
				t.Fatal("one seed, two peer sets or meshes")
			}
			c.Seed++
			if other := newSim(t, c); !tc.wantAll && slices.EqualFunc(other.net.conns, s.net.conns, slices.Equal) {
				t.Fatal("two seeds, one peer set")
			}
		})
	}
}

// TestBoundedPeersFinalize runs 24 nodes with 4 peers each on a mesh of
// degree 3 and with every node every other's peer: the bounded network
// finalizes and agrees on one head like the full one, deterministically,
// and answers far fewer requests (status exchanges and syncs go to a
// node's peers, so the full network's grow with the square of the nodes).
func TestBoundedPeersFinalize(t *testing.T) {
	t.Parallel()
	c := testConfig(5, 4)
	c.Nodes, c.Peers, c.MeshDegree = 24, 4, 3
	bounded := run(t, c)
	c.Peers = 0
	full := run(t, c)
	for name, r := range map[string]*Result{"bounded": bounded, "full": full} {
		last := r.Epochs[len(r.Epochs)-1]
		if last.Finalized < 2 || last.Heads != 1 {
			t.Errorf("%s peers: %v, want finality of epoch 2 and one head", name, last)
		}
	}
	if bounded.Stats.Requests*3 > full.Stats.Requests {
		t.Errorf("requests: %d with 4 peers a node, %d with all 23, want less than a third", bounded.Stats.Requests, full.Stats.Requests)
	}
	c.Peers = 4
	if again := run(t, c); again.TraceHash != bounded.TraceHash {
		t.Fatalf("same config, trace hashes %s and %s", bounded.TraceHex(), again.TraceHex())
	}
}

// TestDuplicatesUnsent runs 24 nodes on a degree-4 mesh: most duplicate
// copies go to nodes that have already seen the message and are never
// scheduled, every node still gets every block (one head), and the run is
// deterministic.
func TestDuplicatesUnsent(t *testing.T) {
	t.Parallel()
	c := testConfig(6, 2)
	c.Nodes, c.MeshDegree = 24, 4
	a := run(t, c)
	st := a.Stats
	if st.Unsent == 0 || st.Unsent > st.Duplicates {
		t.Fatalf("stats %+v: want some duplicates left unsent", st)
	}
	if last := a.Epochs[len(a.Epochs)-1]; last.Heads != 1 {
		t.Fatalf("%d heads", last.Heads)
	}
	if b := run(t, c); b.TraceHash != a.TraceHash || b.Stats != a.Stats {
		t.Fatalf("same config, traces %s and %s", a.TraceHex(), b.TraceHex())
	}
}
