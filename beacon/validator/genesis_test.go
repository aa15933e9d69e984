package validator

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

func TestInteropDepositsProofs(t *testing.T) {
	t.Parallel()
	cfg := params.Minimal()
	const n = 37
	keys, err := NewInteropKeys(0, n)
	if err != nil {
		t.Fatal(err)
	}
	deps, err := InteropDeposits(cfg, keys, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) != n {
		t.Fatalf("%d deposits, want %d", len(deps), n)
	}
	domain := core.ComputeDomain(cfg.DomainDeposit, types.Version{})
	var tree core.DepositTree
	for i, d := range deps {
		tree.Append(d.Data.TreeRoot())
		if !core.IsValidMerkleBranch(d.Data.TreeRoot(), d.Proof[:], params.DepositContractTreeDepth+1, uint64(i), tree.Root()) {
			t.Fatalf("deposit %d: proof does not verify against the root of the first %d deposits", i, i+1)
		}
		if i < 10 {
			want, err := tree.Proof(i, i+1)
			if err != nil {
				t.Fatal(err)
			}
			if want != d.Proof {
				t.Fatalf("deposit %d: proof differs from core.DepositTree.Proof", i)
			}
		}
		pk, _ := keys.Pubkey(uint64(i))
		h := sha256.Sum256(pk[:])
		if d.Data.Pubkey != pk || d.Data.WithdrawalCredentials[0] != cfg.BLSWithdrawalPrefix[0] ||
			string(d.Data.WithdrawalCredentials[1:]) != string(h[1:]) || uint64(d.Data.Amount) != cfg.MaxEffectiveBalance {
			t.Fatalf("deposit %d: data %+v", i, d.Data)
		}
		key, err := bls.PublicKeyFromBytes(pk[:])
		if err != nil {
			t.Fatal(err)
		}
		sig, err := bls.SignatureFromBytes(d.Data.Signature[:])
		if err != nil {
			t.Fatal(err)
		}
		if !bls.Verify(key, d.Data.SigningRoot(), sig, domain) {
			t.Fatalf("deposit %d: signature does not verify", i)
		}
	}
	// An old proof no longer matches the grown tree (the length is mixed in).
	if core.IsValidMerkleBranch(deps[3].Data.TreeRoot(), deps[3].Proof[:], params.DepositContractTreeDepth+1, 3, tree.Root()) {
		t.Fatal("proof of deposit 3 verifies against the root of all deposits")
	}

	if _, err := InteropDeposits(cfg, keys, n+1); !errors.Is(err, ErrNoKey) {
		t.Fatalf("more deposits than keys: err = %v, want ErrNoKey", err)
	}
	unsigned, err := InteropDeposits(cfg, keys, 3, SkipDepositSignatures())
	if err != nil {
		t.Fatal(err)
	}
	if unsigned[0].Data.Signature != (types.BLSSignature{}) {
		t.Fatal("SkipDepositSignatures produced a signature")
	}
}

func TestInteropGenesis(t *testing.T) {
	t.Parallel()
	cfg := params.Minimal()
	tr := core.New(cfg)
	const day = params.SecondsPerDay
	keys, err := NewInteropKeys(0, 64)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		n         uint64
		requested uint64
		want      uint64 // genesis_time, or 0 for an error
		errText   string
		opts      []GenesisOption
	}{
		{name: "min genesis time", n: 64, requested: cfg.MinGenesisTime, want: cfg.MinGenesisTime},
		{name: "a later midnight", n: 64, requested: cfg.MinGenesisTime + 3*day, want: cfg.MinGenesisTime + 3*day},
		{name: "rounded down to midnight", n: 64, requested: cfg.MinGenesisTime + day + 5*3600, want: cfg.MinGenesisTime + day},
		{name: "unsigned deposits", n: 64, requested: cfg.MinGenesisTime, want: cfg.MinGenesisTime, opts: []GenesisOption{SkipDepositSignatures()}},
		{name: "derived keys", n: 64, requested: cfg.MinGenesisTime, want: cfg.MinGenesisTime, opts: []GenesisOption{}},
		{name: "too early", n: 64, requested: cfg.MinGenesisTime - 1, errText: "below MIN_GENESIS_TIME"},
		{name: "too few validators", n: 63, requested: cfg.MinGenesisTime, errText: "at least MIN_GENESIS_ACTIVE_VALIDATOR_COUNT = 64"},
	}
	var roots []types.Root
	for _, tc := range tests {
		opts := tc.opts
		if opts == nil {
			opts = []GenesisOption{WithKeys(keys)}
		} else if tc.name != "derived keys" {
			opts = append(opts, WithKeys(keys))
		}
		st, err := InteropGenesis(tr, tc.n, tc.requested, opts...)
		if tc.errText != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.errText)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if st.GenesisTime != tc.want {
			t.Errorf("%s: genesis_time %d, want %d", tc.name, st.GenesisTime, tc.want)
		}
		if !tr.IsValidGenesisState(st) || len(st.Validators) != int(tc.n) || st.Eth1Data.BlockHash != InteropEth1BlockHash() {
			t.Errorf("%s: not a valid interop genesis", tc.name)
		}
		for i := range st.Validators {
			pk, _ := keys.Pubkey(uint64(i))
			if st.Validators[i].Pubkey != pk || st.Validators[i].ActivationEpoch != 0 {
				t.Fatalf("%s: validator %d is not interop key %d, active at genesis", tc.name, i, i)
			}
		}
		st.GenesisTime = 0
		r, err := st.HashTreeRoot()
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, r)
	}
	// Signed genesis (with given or derived keys) is one state; unsigned
	// deposits change only the deposit root.
	if roots[0] != roots[4] || roots[0] == roots[3] {
		t.Error("genesis states: signed with given and derived keys must match, unsigned must differ")
	}
}

func TestInteropGenesisSkipSigsSameRegistry(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	fast, err := InteropGenesis(c.tr, 64, c.genesis.GenesisTime, WithKeys(c.keys), SkipDepositSignatures())
	if err != nil {
		t.Fatal(err)
	}
	if len(fast.Validators) != len(c.genesis.Validators) {
		t.Fatal("registries differ in length")
	}
	for i := range fast.Validators {
		if fast.Validators[i] != c.genesis.Validators[i] || fast.Balances[i] != c.genesis.Balances[i] {
			t.Fatalf("validator %d differs", i)
		}
	}
	if fast.Eth1Data.DepositRoot == c.genesis.Eth1Data.DepositRoot {
		t.Fatal("deposit roots of signed and unsigned deposits are equal")
	}
}
