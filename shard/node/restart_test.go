package node

import (
	"testing"
	"testing/synctest"
	"time"

	bnode "github.com/shardlab/shardlab/beacon/node"
)

// TestShardNodeRestart stops a shard node with a data dir, lets the network
// go on without it, and restarts it from the data dir: it resumes from its
// stored head and anchor, catches up with shard blocks by range, and
// proposes again.
func TestShardNodeRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		rn := newRestartNet(t, dir)
		g, cfg, net, shards, s0n, s1n, s0, s1, b0 := rn.g, rn.g.cfg, rn.net, rn.shards, rn.s0n, rn.s1n, rn.s0, rn.s1, rn.b0

		c1, _ := s1n.Chain(0)
		gh := c1.GenesisHeader()
		waitSlots(t, cfg, 6*int(cfg.SlotsPerEpoch), "an anchor past genesis", func() bool {
			return c1.Anchor() != gh.SigningRoot() && c1.Head().Header.Slot >= 20
		})
		head, anchor := c1.Head(), c1.Anchor()
		s1.stop(t)
		if err := net.Nodes[2].Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Duration(cfg.SlotsPerEpoch*cfg.SecondsPerSlot) * time.Second)

		i, err := net.AddNode()
		if err != nil {
			t.Fatal(err)
		}
		r := shardNode(t, g, nil, net.Nodes[i], shards, bnode.ValidatorRange{Start: 32, Count: 32}, dir, "s1b")
		rc, _ := r.Chain(0)
		if h := rc.Head(); h.Root != head.Root || rc.Anchor() != anchor {
			t.Fatalf("restored head %s (slot %d) and anchor %s, had %s (slot %d) and %s",
				h.Root, h.Header.Slot, rc.Anchor(), head.Root, head.Header.Slot, anchor)
		}
		start(t, r)
		connectAll(t, net, 0, 1, i)
		c0, _ := s0n.Chain(0)
		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "the restarted node caught up", func() bool {
			return rc.Head().Root == c0.Head().Root && rc.Head().Header.Slot > head.Header.Slot+16
		})
		proposed := func() float64 { return counterValue(t, r.m.blocks.WithLabelValues("0", "proposed")) }
		before := proposed()
		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "the restarted node proposing", func() bool { return proposed() > before })
		for _, x := range []*running{s0, b0} {
			x.stop(t)
		}
	})
}
