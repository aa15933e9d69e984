package node

import (
	"testing"
	"testing/synctest"
	"time"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestLateShardNode starts a shard node after the beacon chain has
// finalized past the beacon blocks the shard's first blocks reference: it
// cannot re-execute that history, so it syncs from the shard's latest
// crosslinked block (its post-state fetched from a peer and checked against
// the crosslinked header) and follows the shard from there.
func TestLateShardNode(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 2, p2ptest.Options{})
		b0n := beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: testValidators}, "b0")
		s0n := shardNode(t, g, genesis, net.Nodes[1], []bt.Shard{0}, bnode.ValidatorRange{Start: 0, Count: testValidators}, "", "s0")
		runs := []*running{start(t, b0n), start(t, s0n)}
		connectAll(t, net, 0, 1)
		waitSlots(t, cfg, 10*int(cfg.SlotsPerEpoch), "finalized epoch 4", func() bool { return b0n.Chain().Finalized().Epoch >= 4 })

		i, err := net.AddNode()
		if err != nil {
			t.Fatal(err)
		}
		late := shardNode(t, g, genesis, net.Nodes[i], []bt.Shard{0}, bnode.ValidatorRange{}, "", "late")
		runs = append(runs, start(t, late))
		connectAll(t, net, 0, 1, i)
		c0, _ := s0n.Chain(0)
		lc, _ := late.Chain(0)
		waitSlots(t, cfg, 4*int(cfg.SlotsPerEpoch), "the late node following the shard", func() bool {
			return lc.Head().Root == c0.Head().Root && lc.Head().Header.Slot > 0
		})
		for i := len(runs) - 1; i >= 0; i-- {
			runs[i].stop(t)
		}
	})
}
