package node

import (
	"testing"
	"testing/synctest"
	"time"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// TestFraudProofSlashes has a byzantine proposer (a bare p2p node holding
// the scheduled proposer's interop key) publish a shard block with a wrong
// state root. Both shard nodes following the shard reject it, a fraud
// proof reaches the beacon chain and slashes the proposer, and the shard
// chain goes on without the block.
func TestFraudProofSlashes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 5, p2ptest.Options{})
		b0n := beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: 32}, "b0")
		b1n := beaconNode(t, g, genesis, net.Nodes[1], bnode.ValidatorRange{Start: 32, Count: 32}, "b1")
		shards := []bt.Shard{0, 1}
		s0n := shardNode(t, g, genesis, net.Nodes[2], shards, bnode.ValidatorRange{Start: 0, Count: 32}, "", "s0")
		s1n := shardNode(t, g, genesis, net.Nodes[3], shards, bnode.ValidatorRange{Start: 32, Count: 32}, "", "s1")
		runs := []*running{start(t, b0n), start(t, b1n), start(t, s0n), start(t, s1n)}
		byzantine := net.Nodes[4]
		connectAll(t, net, 0, 1, 2, 3, 4)

		c0, _ := s0n.Chain(0)
		waitSlots(t, cfg, 30, "shard slot 10", func() bool { return c0.Head().Header.Slot >= 10 })
		time.Sleep(time.Duration(cfg.SecondsPerSlot) * time.Second / 2)

		// The fraudulent block: built honestly on the shard head for the
		// next slot, then given a wrong state root and signed again.
		cur, _ := s0n.Beacon().Slots().CurrentSlot()
		slot := cur + 1
		beaconRoot, _ := s0n.Beacon().Chain().Head()
		beacon, _ := s0n.Beacon().Chain().StateAt(beaconRoot)
		parent := c0.Head()
		built, err := shardcore.BuildBlock(g.tr, shardcore.BlockContext{Parent: &parent.Header, BeaconRoot: beaconRoot, Beacon: beacon},
			c0.HeadState(), slot, nil, nil, nil, shardcore.ExecOptions{TxDomain: g.fv.TxDomain(g.cfg)})
		if err != nil {
			t.Fatal(err)
		}
		b := built.Block
		b.StateRoot = bt.Root{0xde, 0xad}
		proposer := b.ProposerIndex
		sk, _ := g.keys.SecretKey(uint64(proposer))
		if err := shardcore.SignBlock(g.tr, b, sk); err != nil {
			t.Fatal(err)
		}
		root, _ := b.SigningRoot()
		buf, _ := b.MarshalSSZ()
		if err := byzantine.Publish(t.Context(), p2p.ShardBlockTopic(0), buf); err != nil {
			t.Fatal(err)
		}

		waitSlots(t, cfg, 4*int(cfg.SlotsPerEpoch), "the proposer slashed", func() bool {
			for _, n := range []*bnode.Node{b0n, b1n} {
				if !n.Chain().HeadState().Validators[proposer].Slashed {
					return false
				}
			}
			return true
		})
		for i, n := range []*Node{s0n, s1n} {
			c, _ := n.Chain(0)
			if !c.IsInvalid(root) || c.HasBlock(root) {
				t.Fatalf("shard node %d did not reject the fraudulent block", i)
			}
		}
		if s0n.h.ProofsSeen()+s1n.h.ProofsSeen() == 0 {
			t.Fatal("no fraud proof built")
		}
		// A member of the shard's crosslink committee of the next epoch
		// votes a data root listing the fraudulent block (its valid
		// ancestors in the crosslink's range, then it). Once a beacon block
		// includes the vote, the fishermen prove the block again with the
		// vote as evidence, which slashes the member.
		epoch := bt.Epoch(uint64(slot) / cfg.SlotsPerEpoch)
		head := b0n.Chain().HeadState()
		var vslot bt.Slot
		var committee []bt.ValidatorIndex
		for sl := bt.Slot(uint64(epoch+1) * cfg.SlotsPerEpoch); committee == nil; sl++ {
			coms, err := validator.SlotCommittees(g.tr, head, sl)
			if err != nil {
				t.Fatal(err)
			}
			for _, sc := range coms {
				if sc.Shard == 0 {
					vslot, committee = sl, sc.Committee
				}
			}
		}
		slots := s0n.Beacon().Slots()
		time.Sleep(slots.SlotStart(vslot).Add(slots.SlotDuration() / 2).Sub(time.Now()))
		headRoot, _ := b0n.Chain().Head()
		hs := b0n.Chain().HeadState()
		if err := g.tr.ProcessSlots(hs, vslot); err != nil {
			t.Fatal(err)
		}
		data, err := validator.ProduceAttestationData(g.tr, hs, headRoot, vslot, 0, validator.WithDataRoot(func(c bt.Crosslink) (bt.Root, error) {
			var roots []bt.Root
			for sl := bt.Slot(uint64(c.StartEpoch) * cfg.SlotsPerEpoch); sl < slot; sl++ {
				if r, ok := c0.CanonicalRoot(sl); ok && sl > 0 {
					roots = append(roots, r)
				}
			}
			return shardcore.CrosslinkDataRoot(cfg, append(roots, root))
		}))
		if err != nil {
			t.Fatal(err)
		}
		member := committee[0]
		att, err := validator.AggregateCommittee(g.tr, hs, data, committee, committee[:1], g.keys)
		if err != nil {
			t.Fatal(err)
		}
		buf, _ = att.MarshalSSZ()
		if err := byzantine.Publish(t.Context(), p2p.BeaconAttestationTopic, buf); err != nil {
			t.Fatal(err)
		}
		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "the crosslinker slashed", func() bool {
			for _, n := range []*bnode.Node{b0n, b1n} {
				if !n.Chain().HeadState().Validators[member].Slashed {
					return false
				}
			}
			return true
		})

		// The honest chain goes on, on both nodes.
		c1, _ := s1n.Chain(0)
		mark := c0.Head().Header.Slot
		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "the shard chain going on", func() bool {
			h0, h1 := c0.Head(), c1.Head()
			return h0.Header.Slot >= mark+4 && h0.Root == h1.Root
		})
		for i := len(runs) - 1; i >= 0; i-- {
			runs[i].stop(t)
		}
	})
}
