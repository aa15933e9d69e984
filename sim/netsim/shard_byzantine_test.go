package netsim

import (
	"log/slog"
	"maps"
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

// runShardSim builds a 4 + 4 node shard network of epochs epochs at 2
// transactions a second and reads its genesis balances.
func runShardSim(t *testing.T, epochs uint64) *Sim {
	t.Helper()
	c := shardTestConfig(1)
	c.Epochs, c.Shard.TxRate = epochs, 2
	if testing.Verbose() {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.ShardStatus(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFraudKinds publishes each kind of fraudulent block at slot 17: the
// serving node refuses it, its fisherman proves it and the proposer, and
// nobody else, is slashed on every beacon node.
func TestFraudKinds(t *testing.T) {
	for _, kind := range []ShardFraudKind{FraudStateRoot, FraudOverdraft, FraudReceiptsRoot} {
		t.Run(kind.String(), func(t *testing.T) {
			s := runShardSim(t, 3)
			s.RunSlots(16)
			if err := s.PublishFraudulentShardBlock(3, kind); err != nil {
				t.Fatal(err)
			}
			s.RunSlots(23)
			f := s.ShardFrauds()
			if len(f) != 1 || f[0].Kind != kind || f[0].Receipts != 1 {
				t.Fatalf("frauds %+v, want one %s block sending one receipt", f, kind)
			}
			if n := s.firstServing(3); !n.shard.chains[3].IsInvalid(f[0].Root) {
				t.Error("the block is not marked invalid")
			}
			for i := range s.cfg.Nodes {
				if got := slashedSet(s, i); !slices.Equal(got, []types.ValidatorIndex{f[0].Proposer}) {
					t.Errorf("node %d: slashed %v, want [%d]", i, got, f[0].Proposer)
				}
			}
			st, err := s.ShardStatus()
			if err != nil {
				t.Fatal(err)
			}
			if st.FraudProofs != 1 || !st.Conserved {
				t.Errorf("%d fraud proofs, conserved %v; want 1, true", st.FraudProofs, st.Conserved)
			}
		})
	}
}

// TestFishermanOff switches off the fisherman of the node serving shard
// 2: the fraudulent block is refused but never proven, nobody is slashed.
func TestFishermanOff(t *testing.T) {
	s := runShardSim(t, 3)
	n := s.firstServing(2)
	if err := s.SetFisherman(n.index, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFisherman(0, false); err == nil {
		t.Error("a beacon node's fisherman was switched")
	}
	s.RunSlots(16)
	if err := s.PublishFraudulentShardBlock(2, FraudStateRoot); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(23)
	if !n.shard.chains[2].IsInvalid(s.ShardFrauds()[0].Root) {
		t.Error("the block is not marked invalid")
	}
	if n.shard.h.ProofsSeen() != 0 {
		t.Errorf("%d proofs seen with the fisherman off", n.shard.h.ProofsSeen())
	}
	if got := slashedSet(s, 0); len(got) != 0 {
		t.Errorf("slashed %v, want nobody", got)
	}
}

// TestClaimAttacks replays an included claim to its destination and to
// another shard: both are refused, for their reasons, and nothing is
// credited twice.
func TestClaimAttacks(t *testing.T) {
	s := runShardSim(t, 5)
	s.RunSlots(35)
	if err := s.ReplayClaim(0, 3, ClaimTwice); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplayClaim(0, 3, ClaimWrongShard); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(39)
	st, err := s.ShardStatus()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"already claimed": 1, "wrong shard": 1}
	if st.ClaimsSent != 2 || st.ClaimsAccepted != 0 || !maps.Equal(st.ClaimsRefused, want) {
		t.Errorf("sent %d, accepted %d, refused %v; want 2, 0, %v", st.ClaimsSent, st.ClaimsAccepted, st.ClaimsRefused, want)
	}
	if !st.Conserved {
		t.Error("receipts not conserved")
	}
	if err := s.ReplayClaim(99, 3, ClaimTwice); err == nil {
		t.Error("an unknown sender was accepted")
	}
}

// TestGarbagePeer has beacon node 0 send garbage for two epochs with peer
// scoring off: no node accepts any, and the network finalizes as usual.
// (With scoring on node 0 is cut off: TestGarbagePeerScoredOut.)
func TestGarbagePeer(t *testing.T) {
	s := runShardSim(t, 4)
	s.score.cfg.Enabled = false
	s.RunSlots(7)
	if err := s.GarbagePeer(0, 8, 16); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(32)
	st, err := s.ShardStatus()
	if err != nil {
		t.Fatal(err)
	}
	if st.GarbageSent != 128 || st.Garbage["accepted"] != 0 || st.Garbage["rejected"] == 0 {
		t.Errorf("sent %d, verdicts %v; want 128 sent, none accepted", st.GarbageSent, st.Garbage)
	}
	for _, n := range s.nodes {
		if f := n.chain.Finalized().Epoch; f < 2 {
			t.Errorf("node %d finalized epoch %d at slot 32, want >= 2", n.index, f)
		}
	}
	if err := s.GarbagePeer(0, 0, 1); err == nil {
		t.Error("zero messages a slot were accepted")
	}
}

// TestCensorClaims censors shard 1's claims from slot 24 to 40: its
// claimed count stands still meanwhile, other shards' grows, and it grows
// again after.
func TestCensorClaims(t *testing.T) {
	s := runShardSim(t, 7)
	s.RunSlots(23)
	if err := s.CensorClaims(1, true); err != nil {
		t.Fatal(err)
	}
	at := func(slot types.Slot) *ShardStatus {
		s.RunSlots(slot)
		st, err := s.ShardStatus()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := at(24)
	b := at(39)
	if err := s.CensorClaims(1, false); err != nil {
		t.Fatal(err)
	}
	c := at(55)
	if b.ClaimedBy[1] != a.ClaimedBy[1] || c.ClaimedBy[1] <= b.ClaimedBy[1] {
		t.Errorf("shard 1 claimed %d, %d, %d at slots 24, 39, 55; want equal, then more", a.ClaimedBy[1], b.ClaimedBy[1], c.ClaimedBy[1])
	}
	if b.ClaimedBy[2] <= a.ClaimedBy[2] {
		t.Errorf("shard 2 claimed %d then %d while shard 1 was censored", a.ClaimedBy[2], b.ClaimedBy[2])
	}
	if !c.Conserved {
		t.Error("receipts not conserved")
	}
}

// TestEarlyClaim has shard 6's proposer include, at slot 36, the claim of
// a receipt whose crosslink is not past the challenge window: the serving
// node refuses the block, its fisherman proves it and the proposer alone
// is slashed; receipts stay conserved (none credited twice).
func TestEarlyClaim(t *testing.T) {
	s := runShardSim(t, 6)
	s.RunSlots(35)
	if err := s.PublishFraudulentShardBlock(6, FraudEarlyClaim); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(39)
	f := s.ShardFrauds()
	if len(f) != 1 {
		t.Fatal("no early claim block was published")
	}
	if n := s.firstServing(6); !n.shard.chains[6].IsInvalid(f[0].Root) {
		t.Error("the block is not marked invalid")
	}
	if got := slashedSet(s, 0); !slices.Equal(got, []types.ValidatorIndex{f[0].Proposer}) {
		t.Errorf("slashed %v, want [%d]", got, f[0].Proposer)
	}
	st, err := s.ShardStatus()
	if err != nil {
		t.Fatal(err)
	}
	if !st.Conserved {
		t.Error("receipts not conserved")
	}
}

// TestValidatorRangeWithShardNodes checks that the beacon nodes host the
// validators and the shard nodes none, so that byzantine votes and offline
// selections find the right hosts in a shard network.
func TestValidatorRangeWithShardNodes(t *testing.T) {
	s := runShardSim(t, 1)
	for i := range s.NodeCount() {
		first, count, err := s.ValidatorRange(i)
		want := [2]uint64{uint64(16 * i), 16}
		if s.isShardNode(i) {
			want = [2]uint64{}
		}
		if err != nil || [2]uint64{first, count} != want {
			t.Errorf("node %d: range %d+%d (%v), want %d+%d", i, first, count, err, want[0], want[1])
		}
	}
}
