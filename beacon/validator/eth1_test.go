package validator

import (
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// fixedSource is an Eth1Source over a tree: from voteFrom on it votes for
// the whole tree.
type fixedSource struct {
	tree     *DepositTree
	voteFrom types.Slot
}

func (s fixedSource) Eth1Vote(slot types.Slot) (types.Eth1Data, bool) {
	if slot < s.voteFrom {
		return types.Eth1Data{}, false
	}
	root, _ := s.tree.Root(s.tree.Len())
	return types.Eth1Data{DepositRoot: root, DepositCount: s.tree.Len(), BlockHash: types.Root{1}}, true
}

func (s fixedSource) Deposit(index, count uint64) (*types.Deposit, error) {
	return s.tree.Deposit(index, count)
}

func TestDepositTreeProofs(t *testing.T) {
	t.Parallel()
	cfg := params.Minimal()
	keys, err := NewInteropKeys(0, 5)
	if err != nil {
		t.Fatal(err)
	}
	deps, err := InteropDeposits(cfg, keys, 5)
	if err != nil {
		t.Fatal(err)
	}
	tree := NewDepositTree(nil)
	for i, d := range deps {
		tree.Push(d.Data)
		// InteropDeposits proves deposit i against the tree of i+1.
		got, err := tree.Deposit(uint64(i), uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got.Proof != d.Proof {
			t.Fatalf("deposit %d: proof differs from the accumulator's", i)
		}
	}
	for count := uint64(1); count <= 5; count++ {
		root, err := tree.Root(count)
		if err != nil {
			t.Fatal(err)
		}
		for i := range count {
			d, err := tree.Deposit(i, count)
			if err != nil {
				t.Fatal(err)
			}
			if !core.IsValidMerkleBranch(d.Data.TreeRoot(), d.Proof[:], params.DepositContractTreeDepth+1, i, root) {
				t.Fatalf("deposit %d of %d: proof does not verify", i, count)
			}
		}
	}
	for _, bad := range [][2]uint64{{5, 5}, {0, 6}} {
		if _, err := tree.Deposit(bad[0], bad[1]); err == nil {
			t.Fatalf("Deposit(%d, %d): no error", bad[0], bad[1])
		}
	}
	if _, err := tree.Root(6); err == nil {
		t.Fatal("Root(6) of 5 deposits: no error")
	}
}

// TestProduceBlockEth1 votes for a tree with two more deposits than the
// genesis state knows: once the vote wins (more than half of the voting
// period), the next block includes both deposits with proofs and the
// registry grows, all under full signature verification.
func TestProduceBlockEth1(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	cfg := c.tr.Config()
	deps, err := InteropDeposits(cfg, c.keys, 64)
	if err != nil {
		t.Fatal(err)
	}
	tree := NewDepositTree(nil)
	for _, d := range deps {
		tree.Push(d.Data)
	}
	if root, _ := tree.Root(64); root != c.genesis.Eth1Data.DepositRoot {
		t.Fatal("tree root differs from the genesis deposit root")
	}
	more, err := NewInteropKeys(64, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(2) {
		d, err := DepositData(cfg, more, 64+i, types.Gwei(cfg.MaxEffectiveBalance))
		if err != nil {
			t.Fatal(err)
		}
		tree.Push(d)
	}
	all, err := JoinKeys(c.keys, more)
	if err != nil {
		t.Fatal(err)
	}
	src := fixedSource{tree: tree, voteFrom: 1}
	st := c.genesis
	need := cfg.SlotsPerEth1VotingPeriod/2 + 1
	for slot := types.Slot(1); slot <= types.Slot(need); slot++ {
		b, _, err := ProduceAnyBlock(c.tr, st, slot, all, Proposal{Eth1: src})
		if err != nil {
			t.Fatal(err)
		}
		blk := b.(*types.BeaconBlock)
		st = c.apply(t, st, blk)
		wantDeps := 0
		if uint64(slot) == need {
			wantDeps = 2
		}
		if len(blk.Body.Deposits) != wantDeps {
			t.Fatalf("slot %d: %d deposits, want %d", slot, len(blk.Body.Deposits), wantDeps)
		}
	}
	if len(st.Validators) != 66 || st.Eth1DepositIndex != 66 || st.Eth1Data.DepositCount != 66 {
		t.Fatalf("registry %d, deposit index %d, eth1 count %d; want 66", len(st.Validators), st.Eth1DepositIndex, st.Eth1Data.DepositCount)
	}
	// Without a source the state's pending deposits cannot be included.
	pending := st.Copy()
	pending.Eth1Data.DepositCount++
	if _, _, err := ProduceAnyBlock(c.tr, pending, st.Slot+1, all, Proposal{}); err == nil {
		t.Fatal("pending deposits without a source: no error")
	}
}

func TestSignVoluntaryExit(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	cfg := *c.tr.Config()
	cfg.PersistentCommitteePeriod = 0
	tr := core.New(&cfg)
	e, err := SignVoluntaryExit(tr, c.genesis, 5, 0, c.keys)
	if err != nil {
		t.Fatal(err)
	}
	st := c.genesis.Copy()
	if err := tr.ProcessVoluntaryExit(st, e, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	if st.Validators[5].ExitEpoch == types.FarFutureEpoch {
		t.Fatal("exit not initiated")
	}
	if _, err := SignVoluntaryExit(tr, c.genesis, 64, 0, c.keys); err == nil {
		t.Fatal("exit of an unknown validator: no error")
	}
}
