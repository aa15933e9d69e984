package node

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestGossipValidation runs four honest nodes and an attacker, a bare p2p
// node connected to all of them, that publishes a block and an attestation
// with bad signatures (on the real head and committee), then garbage and
// oversized payloads on every topic. Every honest node rejects them, so the
// attacker's gossip score falls below zero on each, while the honest nodes
// go on finalizing.
func TestGossipValidation(t *testing.T) {
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
		// Publish right after a slot started and its block arrived.
		time.Sleep(time.Duration(cfg.SecondsPerSlot) * time.Second / 2)

		ctx := context.Background()
		publish := func(topic string, payload []byte) {
			t.Helper()
			if err := attacker.Publish(ctx, topic, payload); err != nil {
				t.Fatalf("publish on %s: %v", topic, err)
			}
		}
		// A competitor of the current slot's block, on the same parent,
		// badly signed.
		head := nodes[0].Chain().HeadState()
		headRoot, cur := nodes[0].Chain().Head()
		headBlock, _ := nodes[0].Chain().Block(headRoot)
		parent, ok := nodes[0].Chain().StateAt(headBlock.GetParentRoot())
		if !ok {
			t.Fatal("no parent state")
		}
		blk, _, err := validator.ProduceShardBeaconBlock(tr, parent, cur, keys, nil, types.Root{'x'}, nil)
		if err != nil {
			t.Fatal(err)
		}
		blk.Signature = types.BLSSignature(bytes.Repeat([]byte{0x5a}, 96))
		badRoot, _ := blk.SigningRoot()
		buf, _ := blk.MarshalSSZ()
		publish(p2p.BeaconBlockTopic, buf)

		// An attestation of the current slot's committee, badly signed.
		st := head.Copy()
		if err := tr.ProcessSlots(st, cur); err != nil {
			t.Fatal(err)
		}
		coms, err := validator.SlotCommittees(tr, st, cur)
		if err != nil {
			t.Fatal(err)
		}
		data, err := validator.ProduceAttestationData(tr, st, headRoot, cur, coms[0].Shard,
			validator.WithDataRoot(func(types.Crosslink) (types.Root, error) { return types.Root{0xaa}, nil }))
		if err != nil {
			t.Fatal(err)
		}
		att, err := validator.AggregateCommittee(tr, st, data, coms[0].Committee, coms[0].Committee[:1], keys)
		if err != nil {
			t.Fatal(err)
		}
		att.Signature[3] ^= 0xff
		buf, _ = att.MarshalSSZ()
		publish(p2p.BeaconAttestationTopic, buf)

		// Then garbage and oversized payloads on every topic (the first
		// few rejections already graylist the attacker; later messages are
		// dropped unread).
		garbage := []byte("definitely not ssz \x00\x01\x02")
		oversized := make([]byte, 2<<20)
		for _, topic := range gossipTopics {
			publish(topic, garbage)
			publish(topic, append([]byte{byte(len(topic))}, oversized...))
		}

		time.Sleep(time.Second)
		for i, n := range nodes {
			s, ok := n.P2P().PeerScore(attacker.ID())
			if !ok || s >= 0 {
				t.Fatalf("node %d: attacker's score %v (sampled %v), want below zero", i, s, ok)
			}
			if _, ok := n.Chain().Block(badRoot); ok {
				t.Fatalf("node %d imported the badly signed block", i)
			}
		}
		waitSlots(t, cfg, 6*int(cfg.SlotsPerEpoch), "finalized epoch 2", func() bool {
			for _, n := range nodes {
				if n.Chain().Finalized().Epoch < 2 {
					return false
				}
			}
			return true
		})
		agreeFinalized(t, nodes)
		for _, n := range nodes {
			n.stop(t)
		}
	})
}
