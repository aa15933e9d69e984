package node

import (
	"testing"
	"testing/synctest"
	"time"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestGarbageGossip has a bare p2p node publish garbage on a shard's block
// and transaction topics, a message holding both a transaction and a
// claim, and a badly signed transaction: the shard node rejects each, the
// sender's score falls below zero, and the shard goes on.
func TestGarbageGossip(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{})
		b0 := start(t, beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: testValidators}, "b0"))
		sn := shardNode(t, g, genesis, net.Nodes[1], []bt.Shard{0}, bnode.ValidatorRange{Start: 0, Count: testValidators}, "", "s0")
		s0 := start(t, sn)
		attacker := net.Nodes[2]
		connectAll(t, net, 0, 1, 2)
		c, _ := sn.Chain(0)
		waitSlots(t, cfg, 20, "shard slot 3", func() bool { return c.Head().Header.Slot >= 3 })

		publish := func(topic string, payload []byte) {
			t.Helper()
			if err := attacker.Publish(t.Context(), topic, payload); err != nil {
				t.Fatalf("publish on %s: %v", topic, err)
			}
		}
		publish(p2p.ShardBlockTopic(0), []byte("not a shard block"))
		publish(p2p.ShardTxTopic(0), []byte("not a shard message"))
		tx := g.transfer(0, 1, 0, 0, 2, 5)
		both, _ := (&ShardMessage{Transaction: []*st.Transaction{tx}, Claim: []*st.ReceiptClaim{{}}}).MarshalSSZ()
		publish(p2p.ShardTxTopic(0), both)
		forged := *tx
		forged.Amount = 6
		bad, _ := (&ShardMessage{Transaction: []*st.Transaction{&forged}}).MarshalSSZ()
		publish(p2p.ShardTxTopic(0), bad)
		// A shard block of another shard on shard 0's topic.
		blk, _, _ := c.Block(c.Head().Root)
		other := *blk
		other.Shard = 1
		buf, _ := other.MarshalSSZ()
		publish(p2p.ShardBlockTopic(0), buf)

		time.Sleep(time.Second)
		if s, ok := sn.P2P().PeerScore(attacker.ID()); !ok || s >= 0 {
			t.Fatalf("attacker's score %v (sampled %v), want below zero", s, ok)
		}
		rejected := counterValue(t, sn.m.rejected.WithLabelValues("0", "block")) + counterValue(t, sn.m.rejected.WithLabelValues("0", "message"))
		if rejected != 5 {
			t.Fatalf("%v messages rejected, want 5", rejected)
		}
		if len(c.PendingTransactions()) != 0 {
			t.Fatal("a rejected transaction was pooled")
		}
		mark := c.Head().Header.Slot
		waitSlots(t, cfg, 10, "the shard going on", func() bool { return c.Head().Header.Slot >= mark+3 })
		s0.stop(t)
		b0.stop(t)
	})
}
