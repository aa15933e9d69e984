package netsim

import (
	"log/slog"
	"os"
	"slices"
	"testing"

	"github.com/shardlab/shardlab/beacon/types"
)

// slashedSet is the slashed validators of node i's head state.
func slashedSet(s *Sim, i int) []types.ValidatorIndex {
	var out []types.ValidatorIndex
	for v, val := range s.nodes[i].chain.HeadState().Validators {
		if val.Slashed {
			out = append(out, types.ValidatorIndex(v))
		}
	}
	return out
}

// TestFraudulentShardBlockCaught publishes a shard block with a wrong
// state root at slot 17 and has three quarters of its shard's next
// crosslink committee vote a data root listing it: the fisherman proves
// the block (proposer slashed), then the crosslink with the votes as
// evidence (voters slashed, crosslink rolled back); nobody else is
// slashed and the shards' balances stay conserved.
func TestFraudulentShardBlockCaught(t *testing.T) {
	c := shardTestConfig(1)
	c.Epochs, c.Shard.TxRate = 6, 2
	if testing.Verbose() {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ShardStatus(); err != nil { // reads the genesis balances
		t.Fatal(err)
	}
	const shard = 2
	s.RunSlots(16)
	if err := s.PublishFraudulentShardBlock(shard, FraudStateRoot); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(23)
	if err := s.WrongDataRootVotes(shard, 0.75); err != nil {
		t.Fatal(err)
	}
	var written, rolledBack bool
	var last uint64
	for slot := types.Slot(24); slot < 48; slot++ {
		s.RunSlots(slot)
		st, err := s.ShardStatus()
		if err != nil {
			t.Fatal(err)
		}
		end := st.Crosslinks[shard]
		if end > 2 && !written {
			written = true
		}
		if end < last {
			rolledBack = true
		}
		last = end
		if !st.Conserved {
			t.Errorf("slot %d: not conserved: %+v", slot, st)
		}
	}
	frauds := s.ShardFrauds()
	if len(frauds) != 1 {
		t.Fatalf("%d frauds published", len(frauds))
	}
	want := append(s.ComplicitVoters(), frauds[0].Proposer)
	slices.Sort(want)
	want = slices.Compact(want)
	st, _ := s.ShardStatus()
	t.Logf("fraud %+v complicit %v proofs %d crosslinks %v", frauds[0].Root, s.ComplicitVoters(), st.FraudProofs, st.Crosslinks)
	for i := range c.Nodes {
		if got := slashedSet(s, i); !slices.Equal(got, want) {
			t.Errorf("node %d: slashed %v, want %v", i, got, want)
		}
	}
	if !rolledBack {
		t.Error("the crosslink was not rolled back")
	}
	if st.FraudProofs < 2 {
		t.Errorf("%d fraud proofs included, want 2", st.FraudProofs)
	}
}
