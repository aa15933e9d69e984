package node

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
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
		tr, genesis, keys := testGenesis(t, 6*time.Second)
		cfg := tr.Config()
		net, _ := p2ptest.NewMockNet(t, 5, p2ptest.Options{})
		attacker := net.Nodes[4]
		nodes := make([]*running, 4)
		for i := range nodes {
			nodes[i] = start(t, testNode(t, tr, genesis, net.Nodes[i], ValidatorRange{Start: uint64(16 * i), Count: 16}, "", string(rune('a'+i))))
		}
		connectAll(t, net, 0, 1, 2, 3, 4)
		waitSlots(t, cfg, 20, "slot 5", func() bool { _, s := nodes[0].Chain().Head(); return s >= 5 })
		// Right after a slot started, its block arrived and its
		// attesters voted.
		time.Sleep(time.Duration(cfg.SecondsPerSlot) * time.Second / 2)

		ctx := context.Background()
		publish := func(topic string, v interface{ MarshalSSZ() ([]byte, error) }) {
			t.Helper()
			buf, err := v.MarshalSSZ()
			if err != nil {
				t.Fatal(err)
			}
			if err := attacker.Publish(ctx, topic, buf); err != nil {
				t.Fatalf("publish on %s: %v", topic, err)
			}
		}
		headRoot, cur := nodes[0].Chain().Head()
		headBlock, _ := nodes[0].Chain().Block(headRoot)
		parent, ok := nodes[0].Chain().StateAt(headBlock.GetParentRoot())
		if !ok {
			t.Fatal("no parent state")
		}
		blk, post, err := validator.ProduceShardBeaconBlock(tr, parent, cur, keys, nil, types.Root{'x'}, nil)
		if err != nil {
			t.Fatal(err)
		}
		proposer, err := tr.BeaconProposerIndex(post)
		if err != nil {
			t.Fatal(err)
		}
		publish(p2p.BeaconBlockTopic, blk)

		st := nodes[0].Chain().HeadState()
		coms, err := validator.SlotCommittees(tr, st, cur)
		if err != nil {
			t.Fatal(err)
		}
		data, err := validator.ProduceAttestationData(tr, st, headRoot, cur, coms[0].Shard,
			validator.WithDataRoot(func(types.Crosslink) (types.Root, error) { return types.Root{0xbb}, nil }))
		if err != nil {
			t.Fatal(err)
		}
		voter := coms[0].Committee[0]
		att, err := validator.AggregateCommittee(tr, st, data, coms[0].Committee, coms[0].Committee[:1], keys)
		if err != nil {
			t.Fatal(err)
		}
		publish(p2p.BeaconAttestationTopic, att)

		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "proposer and voter slashed on every node", func() bool {
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
