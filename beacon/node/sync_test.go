package node

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// agreeFinalized checks that every node has finalized at least epoch and
// that their finalized roots lie on one chain.
func agreeFinalized(t testing.TB, nodes []*running) {
	t.Helper()
	low := nodes[0].Chain().Finalized()
	for _, n := range nodes[1:] {
		if f := n.Chain().Finalized(); f.Epoch < low.Epoch {
			low = f
		}
	}
	for i, n := range nodes {
		b, ok := n.Chain().Block(low.Root)
		if !ok {
			t.Fatalf("node %d lacks finalized block %s", i, low.Root)
		}
		if _, r, ok := n.Chain().CanonicalBlock(b.GetSlot()); !ok || r != low.Root {
			t.Fatalf("node %d: finalized root %s not canonical", i, low.Root)
		}
	}
}

// TestLateNodeSyncs starts three nodes (48 validators), then at slot 20 a
// fourth one (the other 16) with an empty database: it syncs from genesis
// and the four finalize together.
func TestLateNodeSyncs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		cfg := tr.Config()
		net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{})
		var nodes []*running
		for i := range 3 {
			nodes = append(nodes, start(t, testNode(t, tr, genesis, net.Nodes[i], ValidatorRange{Start: uint64(16 * i), Count: 16}, "", string(rune('a'+i)))))
		}
		connectAll(t, net, 0, 1, 2)
		waitSlots(t, cfg, 40, "slot 20", func() bool { _, s := nodes[0].Chain().Head(); return s >= 20 })

		i, err := net.AddNode()
		if err != nil {
			t.Fatal(err)
		}
		late := start(t, testNode(t, tr, genesis, net.Nodes[i], ValidatorRange{Start: 48, Count: 16}, "", "late"))
		connectAll(t, net, 0, 1, 2, 3)
		waitSlots(t, cfg, 8, "late node synced", func() bool {
			_, h := nodes[0].Chain().Head()
			_, l := late.Chain().Head()
			return l+1 >= h && l >= 20
		})
		nodes = append(nodes, late)
		fin := nodes[0].Chain().Finalized().Epoch
		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "two more finalized epochs", func() bool {
			for _, n := range nodes {
				if n.Chain().Finalized().Epoch < fin+2 {
					return false
				}
			}
			return true
		})
		agreeFinalized(t, nodes)
		if c := testutilCounter(t, late.m.proposals.WithLabelValues("published")); c == 0 {
			t.Fatal("the late node never proposed")
		}
		for _, n := range nodes {
			n.stop(t)
		}
	})
}

// TestRestartRejoins stops a node with a disk datadir at slot 12 and
// restarts it from the datadir eight slots later: it restores its chain,
// catches up and finalizes with the others.
func TestRestartRejoins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		cfg := tr.Config()
		net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{})
		nodes := make([]*running, 4)
		for i := range nodes {
			d := ""
			if i == 3 {
				d = dir
			}
			nodes[i] = start(t, testNode(t, tr, genesis, net.Nodes[i], ValidatorRange{Start: uint64(16 * i), Count: 16}, d, string(rune('a'+i))))
		}
		connectAll(t, net, 0, 1, 2, 3)
		waitSlots(t, cfg, 30, "slot 12", func() bool { _, s := nodes[3].Chain().Head(); return s >= 12 })

		head, headSlot := nodes[3].Chain().Head()
		nodes[3].stop(t)
		if err := net.Nodes[3].Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(8 * time.Duration(cfg.SecondsPerSlot) * time.Second)

		i, err := net.AddNode()
		if err != nil {
			t.Fatal(err)
		}
		restarted := testNode(t, tr, nil, net.Nodes[i], ValidatorRange{Start: 48, Count: 16}, dir, "d2")
		if h, s := restarted.Chain().Head(); s < headSlot || (s == headSlot && h != head) {
			t.Fatalf("restored head %s at %d, had %s at %d", h, s, head, headSlot)
		}
		nodes[3] = start(t, restarted)
		connectAll(t, net, 0, 1, 2, i)
		waitSlots(t, cfg, 6, "restarted node caught up", func() bool {
			_, h := nodes[0].Chain().Head()
			_, r := restarted.Chain().Head()
			return r+1 >= h
		})
		waitSlots(t, cfg, 4*int(cfg.SlotsPerEpoch), "finalized epoch 4", func() bool {
			for _, n := range nodes {
				if n.Chain().Finalized().Epoch < 4 {
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

var _ = types.Root{}
