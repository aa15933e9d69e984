package netsim

import (
	"context"
	"slices"
	"testing"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/chain"
)

// canonicalRoots are a shard chain's canonical block roots up to slot.
func canonicalRoots(t *testing.T, c *chain.Service, slot types.Slot) []types.Root {
	t.Helper()
	var out []types.Root
	for _, b := range c.CanonicalRange(0, uint64(slot)+1) {
		r, err := b.SigningRoot()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestShardSyncUnderLoss loses a fifth of the shard blocks on the way
// (every shard has two serving shard nodes): the shard handlers' range
// sync fills the gaps, so every server of a shard ends on the same
// canonical chain, close to the clock.
func TestShardSyncUnderLoss(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Epochs, c.Seed = 4, 3
	c.Shard = ShardConfig{Nodes: 16, Shards: 8, TxRate: 2, CrossShard: 0.5}
	s := newSim(t, c)
	if _, err := s.AddMessageRule(MessageRule{Kinds: []string{KindShardBlock}, Loss: 0.2}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), func(r EpochReport) { t.Log(r) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, %+v", res.Events, res.Stats)
	end := s.nextSlot - 1
	check := end - 4 // blocks of the last slots may still be on their way
	for sh := range s.pcfg.ShardCount {
		var servers []*node
		for _, n := range s.nodes {
			if n.shard != nil && slices.Contains(n.shard.shards, types.Shard(sh)) {
				servers = append(servers, n)
			}
		}
		if len(servers) < 2 {
			t.Fatalf("shard %d has %d servers, want 2", sh, len(servers))
		}
		want := canonicalRoots(t, servers[0].shard.chains[types.Shard(sh)], check)
		for _, n := range servers {
			c := n.shard.chains[types.Shard(sh)]
			if head := c.Head().Header.Slot; head < check {
				t.Errorf("shard %d, node %d: head slot %d at slot %d", sh, n.index, head, end)
			}
			if got := canonicalRoots(t, c, check); !slices.Equal(got, want) {
				t.Errorf("shard %d: nodes %d and %d differ up to slot %d (%d and %d blocks)",
					sh, servers[0].index, n.index, check, len(want), len(got))
			}
		}
		if len(want) < int(check)/2 {
			t.Errorf("shard %d: %d canonical blocks up to slot %d", sh, len(want), check)
		}
	}
}
