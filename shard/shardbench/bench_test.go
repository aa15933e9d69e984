package shardbench

import (
	"fmt"
	"sync"
	"testing"

	bcore "github.com/shardlab/shardlab/beacon/core"
)

// The benchmarks share one chain of the default shape (64 validators,
// 16,384 accounts per shard), built on first use.
var (
	benchChainOnce sync.Once
	benchChain     *Chain
	benchChainErr  error
)

func chainForBench(b *testing.B) *Chain {
	b.Helper()
	benchChainOnce.Do(func() {
		def := DefaultOptions()
		benchChain, benchChainErr = NewChain(nil, def.Validators, def.Accounts)
	})
	if benchChainErr != nil {
		b.Fatal(benchChainErr)
	}
	return benchChain
}

// execFixtureForBench builds the default block of transfers on the shared
// chain.
func execFixtureForBench(b *testing.B) *ExecFixture {
	b.Helper()
	def := DefaultOptions()
	f, err := NewExecFixture(chainForBench(b), def.Transfers, def.CrossShardPercent)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkShardExec1024 is shard_exec: execute + roots with signatures
// verified, the ed25519 baseline, signatures skipped, and the roots alone.
// Run it with -cpu 1 for the single-core figures.
func BenchmarkShardExec1024(b *testing.B) {
	f := execFixtureForBench(b)
	n := len(f.Block.Body.Transactions)
	report := func(b *testing.B) {
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
	}
	for _, skip := range []bool{false, true} {
		name := "execute"
		if skip {
			name = "execute_no_sigs"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := f.Pre.Copy()
				b.StartTimer()
				if err := f.Execute(s, f.Chain.Opts(skip)); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
	}
	b.Run("process_block", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := f.Pre.Copy()
			b.StartTimer()
			if err := f.Process(s); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("ed25519_verify", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := f.VerifySignatures(); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("roots", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := f.Pre.Copy()
			receipts, err := f.ExecuteOnly(s, f.Chain.Opts(true))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := f.Roots(s, receipts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkClaimVerify is claim_verify: ns/claim is the figure (ns/op is
// close to it, rounded up to whole blocks of claims).
func BenchmarkClaimVerify(b *testing.B) {
	c := chainForBench(b)
	def := DefaultOptions()
	for _, l := range def.ChainLengths {
		f, err := NewClaimFixture(c, def.Claims, l)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("chain%d", l), func(b *testing.B) {
			// At least b.N claims, in blocks of f.Claims().
			done := 0
			for done < b.N {
				b.StopTimer()
				s := f.Pre.Copy()
				b.StartTimer()
				if err := f.Execute(s); err != nil {
					b.Fatal(err)
				}
				done += f.Claims()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(done), "ns/claim")
		})
	}
}

// BenchmarkFraudProof1024 is fraud_proof: build, verify with and without the
// BLS checks, and the full re-execution baseline.
func BenchmarkFraudProof1024(b *testing.B) {
	c := chainForBench(b)
	f, err := NewFraudFixture(c, DefaultOptions().FraudTransfers, DefaultOptions().CrossShardPercent)
	if err != nil {
		b.Fatal(err)
	}
	data, err := f.Build()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("build", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := f.Build(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(data)), "proof_bytes")
	})
	for _, sigs := range []struct {
		name string
		s    bcore.Sigs
	}{{"verify", bcore.VerifySigs}, {"verify_no_bls", bcore.SkipSigs}} {
		b.Run(sigs.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := f.Verify(data, sigs.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("reexecute", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := f.Pre.Copy()
			b.StartTimer()
			if err := f.Reexecute(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestRunSmall(t *testing.T) {
	opts := Options{Runs: 1, Validators: 64, Accounts: 64, Transfers: 32, CrossShardPercent: 25,
		Claims: 4, ChainLengths: []int{1, 4}, FraudTransfers: 16}
	rs, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]Result{}
	for _, r := range rs {
		names[r.Name] = r
		if r.Median <= 0 || r.Runs != 1 || len(r.Samples) != 1 {
			t.Errorf("%s: bad result %+v", r.Name, r)
		}
	}
	for _, n := range []string{"shard_exec", "shard_exec_no_sigs", "shard_exec_roots", "shard_exec_process_block", "claim_verify_chain1", "claim_verify_chain4", "fraud_proof_build", "fraud_proof_verify"} {
		if _, ok := names[n]; !ok {
			t.Errorf("no %s result", n)
		}
	}
	if r := names["shard_exec"]; r.Baseline <= 0 || r.Ratio <= 0 || r.Extra["transfers_per_s"] <= 0 {
		t.Errorf("shard_exec without baseline or rate: %+v", r)
	}
	if r := names["fraud_proof_verify"]; r.Extra["proof_bytes"] <= 0 || r.Baseline <= 0 {
		t.Errorf("fraud_proof_verify without size or baseline: %+v", r)
	}
	if r := names["claim_verify_chain4"]; r.Extra["claims_per_s"] <= 0 || r.BaselineName == "" {
		t.Errorf("claim_verify_chain4: %+v", r)
	}
	// Selection: a prefix, or the group name.
	only, err := Run(Options{Runs: 1, Accounts: 64, Transfers: 8, Claims: 2, FraudTransfers: 4, Only: "claim_verify_chain4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(only) != 1 || only[0].Name != "claim_verify_chain4" {
		t.Errorf("--only claim_verify_chain4 ran %d benchmarks", len(only))
	}
	if none, err := Run(Options{Runs: 1, Only: "epoch"}); err != nil || len(none) != 0 {
		t.Errorf("--only epoch: %d results, %v", len(none), err)
	}
}

func TestSelected(t *testing.T) {
	for _, tc := range []struct {
		only, name string
		want       bool
	}{
		{"", "shard_exec", true},
		{"shard", "fraud_proof_verify", true},
		{"shard", "claim_verify_chain1", true},
		{"shard_exec", "shard_exec_no_sigs", true},
		{"shard_exec", "claim_verify_chain1", false},
		{"fraud", "fraud_proof_build", true},
		{"block", "shard_exec", false},
	} {
		if got := Selected(tc.only, tc.name); got != tc.want {
			t.Errorf("Selected(%q, %q) = %v", tc.only, tc.name, got)
		}
	}
}
