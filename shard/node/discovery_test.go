package node

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// TestCrosslinksBeyondBootnodes runs 2 beacon nodes (validators 0-31 and
// 32-63) and 1 shard node (shards 0-3) connected so that one beacon node
// has no connection to the shard node, as the README's by-hand recipe
// does when every node bootnodes to the first. Discovery (the peer
// exchange) must connect it to the shard node, so that every served shard
// is crosslinked with a non-empty data root for every epoch after the
// first. Without it the far node's validators vote the empty data root.
func TestCrosslinksBeyondBootnodes(t *testing.T) {
	t.Parallel()
	const b0, b1, s0 = 0, 1, 2
	tests := []struct {
		name  string
		edges [][2]int
	}{
		// b0 is the hub everyone bootnodes to (the README recipe).
		{name: "star", edges: [][2]int{{b1, b0}, {s0, b0}}},
		// b0 reaches the shard node only through b1.
		{name: "line", edges: [][2]int{{b0, b1}, {b1, s0}}},
		{name: "mesh", edges: [][2]int{{b0, b1}, {b1, s0}, {b0, s0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				checkCrosslinkEveryEpoch(t, tc.edges)
			})
		})
	}
}

func checkCrosslinkEveryEpoch(t *testing.T, edges [][2]int) {
	const epochs = 8
	g, genesis := testGenesis(t, 6*time.Second)
	cfg := g.cfg
	net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{ConfigFn: func(_ int, pc *p2p.Config) {
		pc.Discovery.TargetPeers = 8
	}})
	beacons := []*bnode.Node{
		beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: 32}, "b0"),
		beaconNode(t, g, genesis, net.Nodes[1], bnode.ValidatorRange{Start: 32, Count: 32}, "b1"),
	}
	sn := shardNode(t, g, genesis, net.Nodes[2], shardRange(0, 3), bnode.ValidatorRange{Start: 0, Count: testValidators}, "", "s0")
	runs := []*running{start(t, beacons[0]), start(t, beacons[1]), start(t, sn)}
	for _, e := range edges {
		if err := net.Connect(e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}

	empty, _ := shardcore.CrosslinkDataRoot(cfg, nil)
	// seen[shard] holds every crosslink of the shard the chain recorded.
	// A crosslink usually covers one epoch; one whose committee attested
	// in an epoch's last slots may be included late and the next one then
	// covers two epochs (v0.8.3's parent rule). Either way every epoch
	// after the first must lie in a crosslink with a non-empty data root.
	seen := make(map[bt.Shard]map[bt.Crosslink]bool)
	record := func() {
		head := beacons[0].Chain().HeadState()
		for _, s := range sn.Shards() {
			if seen[s] == nil {
				seen[s] = make(map[bt.Crosslink]bool)
			}
			seen[s][head.PreviousCrosslinks[s]] = true
			seen[s][head.CurrentCrosslinks[s]] = true
		}
	}
	// Epoch e's crosslink is in the state by the end of epoch e+1, or of
	// e+2 when it covers two epochs: run until the head state has gone
	// through the transition into epoch e+3 for the last epoch checked.
	// (The clock reaching that epoch is not enough: the poll may run at
	// the slot boundary before the epoch's first block is imported.)
	waitSlots(t, cfg, (epochs+2)*int(cfg.SlotsPerEpoch), "the chain", func() bool {
		record()
		return beacons[0].Chain().HeadState().Slot >= bt.Slot(epochs*cfg.SlotsPerEpoch)
	})
	for _, s := range sn.Shards() {
		for e := bt.Epoch(1); e+3 <= epochs; e++ {
			covered := false
			for c := range seen[s] {
				if c.StartEpoch <= e && e < c.EndEpoch {
					if c.DataRoot == empty || c.DataRoot == (bt.Root{}) {
						t.Errorf("shard %d: epoch %d crosslinked with the empty data root", s, e)
					}
					covered = true
				}
			}
			if !covered {
				t.Errorf("shard %d: epoch %d not crosslinked (crosslinks %v)", s, e, seen[s])
			}
		}
	}
	for _, b := range beacons {
		if len(b.Peers()) < 2 {
			t.Errorf("beacon node %s has %d peers, want 2", b.PeerID(), len(b.Peers()))
		}
	}
	for i := len(runs) - 1; i >= 0; i-- {
		runs[i].stop(t)
	}
}

// TestRestartedBeaconFindsShardServer restarts a beacon node from its data
// dir on a fresh connection to the hub only (its bootnode): it finds the
// shard node through the peer exchange within two slots, without the shard
// node dialling it back, and gets crosslink data from it.
func TestRestartedBeaconFindsShardServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{ConfigFn: func(_ int, pc *p2p.Config) {
			pc.Discovery.TargetPeers = 8
		}})
		b1cfg := func(host *p2p.Node) bnode.Config {
			c := bnode.TestConfig()
			c.Transition, c.Genesis, c.Network, c.DataDir = g.tr, genesis, host, dir
			c.Validators, c.Registerer = bnode.ValidatorRange{Start: 32, Count: 32}, prometheus.NewRegistry()
			return c
		}
		b0 := beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: 32}, "b0")
		b1, err := bnode.New(b1cfg(net.Nodes[1]), testLogger("b1"))
		if err != nil {
			t.Fatal(err)
		}
		sn := shardNode(t, g, genesis, net.Nodes[2], shardRange(0, 3), bnode.ValidatorRange{Start: 0, Count: testValidators}, "", "s0")
		runs := []*running{start(t, b0), start(t, b1), start(t, sn)}
		for _, e := range [][2]int{{1, 0}, {2, 0}} {
			if err := net.Connect(e[0], e[1]); err != nil {
				t.Fatal(err)
			}
		}
		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "epoch 2", func() bool {
			return b0.Slots().CurrentEpoch(cfg.SlotsPerEpoch) >= 2
		})
		runs[1].stop(t)
		if err := net.Nodes[1].Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Duration(cfg.SecondsPerSlot) * time.Second)

		i, err := net.AddNode()
		if err != nil {
			t.Fatal(err)
		}
		restarted, err := bnode.New(b1cfg(net.Nodes[i]), testLogger("b1-restarted"))
		if err != nil {
			t.Fatal(err)
		}
		runs[1] = start(t, restarted)
		if err := net.Connect(i, 0); err != nil {
			t.Fatal(err)
		}
		waitSlots(t, cfg, 2, "the restarted node knows a server of shard 0", func() bool {
			for _, p := range restarted.Peers() {
				if p.HasStatus && slices.Contains(p.Status.Shards, 0) {
					return true
				}
			}
			return false
		})
		epoch := restarted.Slots().CurrentEpoch(cfg.SlotsPerEpoch)
		root, err := bnode.NewRemoteCrosslinkData(restarted).DataRoot(t.Context(),
			bt.Crosslink{Shard: 0, StartEpoch: epoch - 1, EndEpoch: epoch})
		if empty, _ := shardcore.CrosslinkDataRoot(cfg, nil); err != nil || root == empty {
			t.Fatalf("crosslink data after the restart: %s, %v", root, err)
		}
		for i := len(runs) - 1; i >= 0; i-- {
			runs[i].stop(t)
		}
	})
}
