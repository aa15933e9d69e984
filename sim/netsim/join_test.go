package netsim

import (
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
)

// proposerNode is the node hosting the proposer of slot, by node 0's head
// state advanced to it.
func proposerNode(t *testing.T, s *Sim, slot types.Slot) int {
	t.Helper()
	st := s.nodes[0].chain.HeadState().Copy()
	if err := s.tr.ProcessSlots(st, slot); err != nil {
		t.Fatal(err)
	}
	v, err := s.tr.BeaconProposerIndex(st)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.cfg.Nodes {
		first, count, _ := s.ValidatorRange(i)
		if uint64(v) >= first && uint64(v) < first+count {
			return i
		}
	}
	t.Fatalf("no node hosts validator %d", v)
	return 0
}

// TestClockSkew sets the clock of the next slot's proposer 1.5 s ahead
// (of 2 s slots): it starts that slot early and its block exists before
// the other nodes' clocks reach the slot; a clock behind by 1.5 s starts
// it late; an offset of a slot is refused.
func TestClockSkew(t *testing.T) {
	t.Parallel()
	const slot = types.Slot(6)
	for _, tc := range []struct {
		name      string
		skew      time.Duration
		runTo     types.Slot
		wantSlots types.Slot // the proposer's head slot after runTo
	}{
		{"ahead", 1500 * time.Millisecond, slot - 1, slot},
		{"behind", -1500 * time.Millisecond, slot, slot - 1},
		{"none", 0, slot - 1, slot - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSim(t, testConfig(1, 2))
			s.RunSlots(slot - 3)
			p := proposerNode(t, s, slot)
			if err := s.SetClockSkew(p, tc.skew); err != nil {
				t.Fatal(err)
			}
			if tc.runTo == slot {
				// Stop just after the true slot start plus the network's
				// latency, before the late clock reaches the slot.
				s.RunSlots(slot - 1)
				s.loop.runUntil(s.genesis.Add(time.Duration(slot)*s.slot + time.Second))
			} else {
				s.RunSlots(tc.runTo)
			}
			st, _ := s.Status(p)
			if st.HeadSlot != tc.wantSlots {
				t.Fatalf("proposer node %d (skew %s): head slot %d, want %d", p, tc.skew, st.HeadSlot, tc.wantSlots)
			}
		})
	}
	s := newSim(t, testConfig(1, 1))
	if err := s.SetClockSkew(0, 2*time.Second); err == nil {
		t.Fatal("a skew of a whole slot accepted")
	}
}

// TestLateJoin holds a node from genesis and starts it after two epochs
// with an empty database: it syncs from its peers and ends on the others'
// head; the network finalizes meanwhile with three quarters of the stake.
func TestLateJoin(t *testing.T) {
	t.Parallel()
	s := newSim(t, testConfig(2, 1))
	if err := s.Hold(3); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(16)
	if st, _ := s.Status(3); st.Up || st.HeadSlot != 0 {
		t.Fatalf("held node: %+v", st)
	}
	if err := s.Join(3); err != nil {
		t.Fatal(err)
	}
	if err := s.Join(3); err == nil {
		t.Fatal("a running node joined again")
	}
	s.RunSlots(32)
	want, _ := s.Status(0)
	got, _ := s.Status(3)
	if got.Head != want.Head || got.Finalized != want.Finalized || want.Finalized < 2 {
		t.Fatalf("late node %+v, node 0 %+v", got, want)
	}
}

// TestLateJoinShardNode holds a shard node (the second server of shard 0)
// and starts it after two epochs with an empty database: its shard chain
// syncs to the other server's.
func TestLateJoinShardNode(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Epochs = 1
	c.Shard = ShardConfig{Nodes: 9, Shards: 8, TxRate: 2, CrossShard: 0.5}
	s := newSim(t, c)
	late, server := c.Nodes+8, c.Nodes // both serve shard 0
	if err := s.Hold(late); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(16)
	if err := s.Join(late); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(28)
	want := s.nodes[server].shard.chains[0].Head()
	got := s.nodes[late].shard.chains[0].Head()
	if got.Root != want.Root || got.Header.Slot < 24 {
		t.Fatalf("late shard node head slot %d %x, server %d %x", got.Header.Slot, got.Root[:4], want.Header.Slot, want.Root[:4])
	}
}
