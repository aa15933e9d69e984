package node

import (
	"testing"
	"testing/synctest"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestSlasherSlashesEquivocations runs four honest nodes and an attacker, a
// bare p2p node holding every key, that publishes a second, validly signed
// block for the current slot in the name of its proposer, and a second,
// validly signed attestation of one committee member for the current slot
// with another crosslink data root (a double vote). The honest nodes'
// slashers build the slashings, the chain's pools take them, and later
// blocks include them: both validators are slashed in the head state, and
// no other validator is.
func TestSlasherSlashesEquivocations(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := newAttackNet(t)
		nodes := a.nodes
		blk, post := a.competitor(t, types.Root{'x'})
		proposer, err := a.tr.BeaconProposerIndex(post)
		if err != nil {
			t.Fatal(err)
		}
		buf, _ := blk.MarshalSSZ()
		a.publish(t, p2p.BeaconBlockTopic, buf)
		// The honest nodes vote 0xaa.
		att, voter := a.slotAttestation(t, types.Root{0xbb})
		buf, _ = att.MarshalSSZ()
		a.publish(t, p2p.BeaconAttestationTopic, buf)

		waitSlots(t, a.cfg, 3*int(a.cfg.SlotsPerEpoch), "proposer and voter slashed on every node", func() bool {
			for _, n := range nodes {
				vals := n.Chain().HeadState().Validators
				if !vals[proposer].Slashed || !vals[voter].Slashed {
					return false
				}
			}
			return true
		})
		for i, n := range nodes {
			for v, val := range n.Chain().HeadState().Validators {
				if val.Slashed && types.ValidatorIndex(v) != proposer && types.ValidatorIndex(v) != voter {
					t.Fatalf("node %d: honest validator %d slashed", i, v)
				}
			}
		}
		var published float64
		for _, n := range nodes {
			published += testutilCounter(t, n.slash.slashings.WithLabelValues("proposer", "published"))
			published += testutilCounter(t, n.slash.slashings.WithLabelValues("attester", "published"))
		}
		if published == 0 {
			t.Fatal("no node published a slashing")
		}
		for _, n := range nodes {
			n.stop(t)
		}
	})
}

// TestSlasherDisabled checks that the slasher is on by default and that
// turning it off leaves no slasher.
func TestSlasherDisabled(t *testing.T) {
	t.Parallel()
	if !DefaultConfig().Slasher.Enabled {
		t.Fatal("slasher off by default")
	}
	tr, genesis, _ := testGenesis(t, 0)
	net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
	c := TestConfig()
	c.Transition, c.Genesis, c.Network = tr, genesis, net.Nodes[0]
	c.Slasher.Enabled = false
	n, err := New(c, testLogger(t, "off"))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.slash != nil {
		t.Fatal("slasher running though disabled")
	}
	c.Slasher = SlasherConfig{Enabled: true} // no window
	if _, err := New(c, testLogger(t, "bad")); err == nil {
		t.Fatal("accepted a slasher without a window")
	}
}

// TestSlasherSurvivesRestart records a proposal through a node's slasher,
// closes the node and opens a new one on the same data dir, whose slasher
// finds the double proposal against the record from before.
func TestSlasherSurvivesRestart(t *testing.T) {
	t.Parallel()
	tr, genesis, _ := testGenesis(t, 0)
	dir := t.TempDir()
	open := func() *Node {
		net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
		c := TestConfig()
		c.Transition, c.Genesis, c.Network, c.DataDir = tr, genesis, net.Nodes[0], dir
		n, err := New(c, testLogger(t, "restart"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := open()
	if ps, err := n.slash.s.OnProposal(3, &types.BeaconBlockHeader{Slot: 1, BodyRoot: types.Root{1}}); ps != nil || err != nil {
		t.Fatalf("first proposal: %v, %v", ps, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = open()
	defer n.Close()
	ps, err := n.slash.s.OnProposal(3, &types.BeaconBlockHeader{Slot: 1, BodyRoot: types.Root{2}})
	if err != nil || ps == nil {
		t.Fatalf("double proposal after a restart: %v, %v", ps, err)
	}
}
