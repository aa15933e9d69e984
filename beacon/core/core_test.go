package core

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

func TestIntegerSquareroot(t *testing.T) {
	cases := []uint64{0, 1, 2, 3, 4, 15, 16, 17, 1 << 32, 1<<32 - 1, 1<<63 + 12345, math.MaxUint64, math.MaxUint64 - 1}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		cases = append(cases, r.Uint64(), r.Uint64()>>r.IntN(64))
	}
	for _, n := range cases {
		want := new(big.Int).Sqrt(new(big.Int).SetUint64(n)).Uint64()
		if got := IntegerSquareroot(n); got != want {
			t.Fatalf("IntegerSquareroot(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestMulDiv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		a, b, c := r.Uint64(), r.Uint64()>>r.IntN(64), r.Uint64()>>r.IntN(63)+1
		want := new(big.Int).Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(b))
		want.Div(want, new(big.Int).SetUint64(c))
		got := mulDiv(a, b, c)
		if want.IsUint64() && got != want.Uint64() {
			t.Fatalf("mulDiv(%d,%d,%d) = %d, want %s", a, b, c, got, want)
		}
		if !want.IsUint64() && got != math.MaxUint64 {
			t.Fatalf("mulDiv overflow not capped")
		}
	}
}

// TestShufflePositionsMatchesIndex checks the whole-list shuffle against the
// per-index spec function for many sizes, seeds and round counts.
func TestShufflePositionsMatchesIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 60; trial++ {
		var seed types.Root
		for i := range seed {
			seed[i] = byte(r.IntN(256))
		}
		n := uint32(r.IntN(700))
		if trial%10 == 0 {
			n = uint32(256*r.IntN(4) + r.IntN(3)) // block boundaries
		}
		rounds := uint64(r.IntN(91))
		perm := ShufflePositions(n, seed, rounds)
		seen := make([]bool, n)
		for i := range perm {
			want, err := ComputeShuffledIndex(uint64(i), uint64(n), seed, rounds)
			if err != nil {
				t.Fatal(err)
			}
			if uint64(perm[i]) != want {
				t.Fatalf("n=%d rounds=%d: position %d -> %d, want %d", n, rounds, i, perm[i], want)
			}
			if seen[perm[i]] {
				t.Fatalf("not a permutation")
			}
			seen[perm[i]] = true
		}
	}
	if _, err := ComputeShuffledIndex(5, 5, types.Root{}, 10); err == nil {
		t.Error("index == count accepted")
	}
}

func TestComputeCommitteeBounds(t *testing.T) {
	shuffled := []types.ValidatorIndex{9, 8, 7}
	// Committee indices past the count give an empty committee while the
	// spec's range is empty, and an error when it would read past the list.
	if c, err := ComputeCommittee(shuffled, 8, 8); err != nil || len(c) != 0 {
		t.Errorf("committee 8 of 8 over 3: %v %v", c, err)
	}
	if _, err := ComputeCommittee(make([]types.ValidatorIndex, 10), 8, 8); err == nil {
		t.Error("committee past the list accepted")
	}
	if _, err := ComputeCommittee(shuffled, 0, 0); err == nil {
		t.Error("zero count accepted")
	}
	total := 0
	for k := uint64(0); k < 8; k++ {
		c, _ := ComputeCommittee(make([]types.ValidatorIndex, 100), k, 8)
		total += len(c)
	}
	if total != 100 {
		t.Errorf("committees cover %d of 100", total)
	}
}

// TestDepositTree checks the incremental tree against merkleize and its
// proofs against is_valid_merkle_branch.
func TestDepositTree(t *testing.T) {
	var d DepositTree
	var leaves []types.Root
	for i := 0; i < 37; i++ {
		leaf := hash([]byte{byte(i)})
		d.Append(leaf)
		leaves = append(leaves, leaf)
		want := mixInLength(merkleize(leaves, 1<<params.DepositContractTreeDepth), uint64(len(leaves)))
		if got := d.Root(); got != want {
			t.Fatalf("root after %d leaves differs", i+1)
		}
		for _, j := range []int{0, i / 2, i} {
			proof, err := d.Proof(j, i+1)
			if err != nil {
				t.Fatal(err)
			}
			if !IsValidMerkleBranch(leaves[j], proof[:], params.DepositContractTreeDepth+1, uint64(j), want) {
				t.Fatalf("proof of leaf %d in %d invalid", j, i+1)
			}
		}
	}
	if _, err := d.Proof(40, 37); err == nil {
		t.Error("proof past the end accepted")
	}
}

// TestCommitteesMatchSingle checks the one-pass EpochCommittees against
// get_crosslink_committee per shard, and that every active validator is in
// exactly one committee.
func TestCommitteesMatchSingle(t *testing.T) {
	cfg := params.Minimal()
	tr := New(cfg)
	st := types.NewBeaconState(cfg)
	for i := 0; i < 100; i++ {
		st.Validators = append(st.Validators, types.Validator{EffectiveBalance: 32e9, ExitEpoch: types.FarFutureEpoch, WithdrawableEpoch: types.FarFutureEpoch})
		st.Balances = append(st.Balances, 32e9)
	}
	st.Validators[3].ExitEpoch = 0 // inactive
	st.Slot = 17
	for _, e := range []types.Epoch{1, 2, 3} {
		ec, err := tr.Committees(st, e)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[types.ValidatorIndex]int{}
		for k, com := range ec.Committees {
			single, err := tr.CrosslinkCommittee(st, e, ec.Shards[k])
			if err != nil {
				t.Fatal(err)
			}
			if len(single) != len(com) {
				t.Fatalf("epoch %d shard %d: committee sizes differ", e, ec.Shards[k])
			}
			for i := range com {
				if com[i] != single[i] {
					t.Fatalf("epoch %d shard %d differ", e, ec.Shards[k])
				}
				seen[com[i]]++
			}
		}
		if len(seen) != 99 {
			t.Errorf("epoch %d: %d validators in committees, want 99", e, len(seen))
		}
		for v, n := range seen {
			if n != 1 || v == 3 {
				t.Errorf("validator %d in %d committees", v, n)
			}
		}
	}
	if _, err := tr.Committees(st, 4); err == nil {
		t.Error("committees two epochs ahead accepted")
	}
}

func TestErrorClasses(t *testing.T) {
	cfg := params.Minimal()
	tr := New(cfg)
	st := types.NewBeaconState(cfg)
	st.Slot = 10
	err := tr.ProcessSlots(st, 3)
	if err == nil {
		t.Fatal("backwards slots accepted")
	}
	for _, class := range []error{ErrInvalid, ErrInvalidSlot} {
		if !errors.Is(err, class) {
			t.Errorf("error %v is not %v", err, class)
		}
	}
	// A state without validators has no proposer: an invalid state, not a panic.
	if _, err := tr.BeaconProposerIndex(st); !errors.Is(err, ErrInvalid) {
		t.Errorf("proposer of an empty registry: %v", err)
	}
}
