package node

import (
	"bytes"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
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
		a := newAttackNet(t)
		nodes, attacker := a.nodes, a.attacker
		publish := func(topic string, payload []byte) { t.Helper(); a.publish(t, topic, payload) }
		// A competitor of the current slot's block, on the same parent,
		// badly signed.
		blk, _ := a.competitor(t, types.Root{'x'})
		blk.Signature = types.BLSSignature(bytes.Repeat([]byte{0x5a}, 96))
		badRoot, _ := blk.SigningRoot()
		buf, _ := blk.MarshalSSZ()
		publish(p2p.BeaconBlockTopic, buf)

		// An attestation of the current slot's committee, badly signed.
		att, _ := a.slotAttestation(t, types.Root{0xaa})
		att.Signature[3] ^= 0xff
		buf, _ = att.MarshalSSZ()
		publish(p2p.BeaconAttestationTopic, buf)

		// Then garbage and oversized payloads on every topic (the first
		// few rejections already graylist the attacker; later messages are
		// dropped unread).
		garbage := []byte("definitely not ssz \x00\x01\x02")
		oversized := make([]byte, 2<<20)
		for _, topic := range handler.Topics {
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
		waitSlots(t, a.cfg, 6*int(a.cfg.SlotsPerEpoch), "finalized epoch 2", func() bool {
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
