package netsim

import (
	"slices"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// TestDepositAndExit deposits three validators at slot 2 and exits
// validator 1 in epoch 1: the deposits reach every node's registry through
// eth1 voting and blocks, the new validators are activated and then
// attest (hosted by the last node), and the exit is included.
func TestDepositAndExit(t *testing.T) {
	cfg := DefaultConfig()
	chain := params.Minimal()
	chain.PersistentCommitteePeriod = 0
	cfg.Chain, cfg.Epochs = chain, 11
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Deposit(0); err == nil {
		t.Fatal("deposit of 0 validators: no error")
	}
	s.RunSlots(1)
	first, err := s.Deposit(3)
	if err != nil || first != 64 {
		t.Fatalf("Deposit = %d, %v; want 64", first, err)
	}
	s.RunSlots(9)
	if err := s.Exit(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Exit(200); err == nil {
		t.Fatal("exit of an unknown validator: no error")
	}
	s.RunSlots(types.Slot(cfg.Epochs*8 - 1))
	for i := range s.NodeCount() {
		st, _ := s.HeadState(i)
		if len(st.Validators) != 67 || st.Eth1DepositIndex != 67 {
			t.Fatalf("node %d: %d validators, deposit index %d; want 67", i, len(st.Validators), st.Eth1DepositIndex)
		}
		if st.Validators[1].ExitEpoch == types.FarFutureEpoch {
			t.Fatalf("node %d: validator 1 has no exit epoch", i)
		}
	}
	st, _ := s.HeadState(0)
	epoch := types.Epoch(uint64(st.Slot) / 8)
	for v := 64; v < 67; v++ {
		if st.Validators[v].ActivationEpoch > epoch {
			t.Fatalf("validator %d: activation epoch %d, after epoch %d", v, st.Validators[v].ActivationEpoch, epoch)
		}
		if st.Balances[v] <= types.Gwei(chain.MaxEffectiveBalance) {
			t.Fatalf("validator %d: balance %d, want rewards for attesting", v, st.Balances[v])
		}
	}
}

// attested returns the validators with an attestation for the previous
// epoch in node 0's head state, and those of them whose head vote was the
// block root at the attestation's slot.
func attested(t *testing.T, s *Sim) (any, rightHead map[types.ValidatorIndex]bool) {
	t.Helper()
	st, _ := s.HeadState(0)
	any, rightHead = map[types.ValidatorIndex]bool{}, map[types.ValidatorIndex]bool{}
	for _, a := range st.PreviousEpochAttestations {
		idx, err := s.tr.AttestingIndices(st, &a.Data, a.AggregationBits)
		if err != nil {
			t.Fatal(err)
		}
		slot, _ := s.tr.AttestationDataSlot(st, &a.Data)
		root, _ := s.tr.BlockRootAtSlot(st, slot)
		for _, v := range idx {
			any[v] = true
			if a.Data.BeaconBlockRoot == root {
				rightHead[v] = true
			}
		}
	}
	return any, rightHead
}

func TestMisbehaviour(t *testing.T) {
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	vs := func(lo, hi int) []types.ValidatorIndex {
		var out []types.ValidatorIndex
		for v := lo; v < hi; v++ {
			out = append(out, types.ValidatorIndex(v))
		}
		return out
	}
	if err := s.SetMisbehaviour(Offline, true, vs(0, 4)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMisbehaviour(WrongHead, true, vs(4, 8)); err != nil {
		t.Fatal(err)
	}
	if err := s.Censor(0, true, vs(8, 12)); err != nil { // node 0 hosts 0..15
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3} {
		if err := s.Censor(n, true, vs(8, 12)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetMisbehaviour(numMisbehaviours, true, nil); err == nil {
		t.Fatal("unknown misbehaviour: no error")
	}
	if err := s.Censor(9, true, nil); err == nil {
		t.Fatal("censor on node 9 of 4: no error")
	}
	s.RunSlots(3*8 - 1)
	any, right := attested(t, s)
	// Node 0 hosts 0..15; its aggregates that count a censored validator
	// are left out whole, so 12..15 are not checked.
	for v := range types.ValidatorIndex(64) {
		switch {
		case v < 4 && any[v]:
			t.Errorf("offline validator %d attested", v)
		case v >= 4 && v < 8 && (!any[v] || right[v]):
			t.Errorf("wrong-head validator %d: included %v, right head %v; want a wrong head included", v, any[v], right[v])
		case v >= 8 && v < 12 && any[v]:
			t.Errorf("censored validator %d was included", v)
		case v >= 16 && (!any[v] || !right[v]):
			t.Errorf("honest validator %d: included %v, right head %v", v, any[v], right[v])
		}
	}
	// Censoring stops and withholding starts: validators 8..11 are back,
	// 12..15 withhold, so only node 0's own blocks carry their votes.
	for n := range 4 {
		if err := s.Censor(n, false, vs(8, 12)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetMisbehaviour(Withhold, true, vs(12, 16)); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(5*8 - 1)
	any, _ = attested(t, s)
	st, _ := s.HeadState(0)
	blocks, err := s.CanonicalChain(0)
	if err != nil {
		t.Fatal(err)
	}
	withheld := 0
	for _, b := range blocks {
		if b.GetSlot() <= 32 {
			continue
		}
		body, _ := types.BlockBody(b)
		for _, a := range body.Attestations {
			idx, err := s.tr.AttestingIndices(st, &a.Data, a.AggregationBits)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(idx, func(v types.ValidatorIndex) bool { return v >= 12 && v < 16 }) {
				continue
			}
			withheld++
			if g := body.Graffiti; string(g[:13]) != "netsim node 0" {
				t.Errorf("block at slot %d (graffiti %q) includes a withheld vote", b.GetSlot(), g[:13])
			}
		}
	}
	if withheld == 0 {
		t.Error("no withheld vote reached node 0's own blocks")
	}
	for v := types.ValidatorIndex(8); v < 12; v++ {
		if !any[v] {
			t.Errorf("validator %d not included after censoring stopped", v)
		}
	}
}

func TestReorgDepthAndChain(t *testing.T) {
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.RunSlots(12)
	blocks, err := s.CanonicalChain(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 || blocks[0].GetSlot() == 0 {
		t.Fatalf("%d blocks, first at slot %d", len(blocks), blocks[0].GetSlot())
	}
	for i := 1; i < len(blocks); i++ {
		if blocks[i].GetSlot() <= blocks[i-1].GetSlot() {
			t.Fatal("canonical chain not in slot order")
		}
	}
	head, _ := blocks[len(blocks)-1].SigningRoot()
	mid, _ := blocks[len(blocks)-4].SigningRoot()
	if d, err := s.ReorgDepth(0, mid, head); err != nil || d != 0 {
		t.Fatalf("ancestor to head: depth %d, %v; want 0", d, err)
	}
	want := uint64(blocks[len(blocks)-1].GetSlot() - blocks[len(blocks)-4].GetSlot())
	if d, err := s.ReorgDepth(0, head, mid); err != nil || d != want {
		t.Fatalf("head back to its ancestor: depth %d, %v; want %d", d, err, want)
	}
	if _, err := s.ReorgDepth(0, types.Root{1}, head); err == nil {
		t.Fatal("unknown block: no error")
	}
	if _, err := s.CanonicalChain(7); err == nil {
		t.Fatal("node 7 of 4: no error")
	}
}
