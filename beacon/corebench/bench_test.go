package corebench

import (
	"slices"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

func BenchmarkEpochTransition100k(b *testing.B) {
	f, err := NewEpochFixture(params.Mainnet(), 100_000)
	if err != nil {
		b.Fatal(err)
	}
	// A running node has the shufflings of the previous and current epochs
	// cached (block processing used them); the next epoch's is computed by
	// the transition itself, so it stays cold: every iteration uses a fresh
	// Transition that only shares those two.
	warm := func() *core.Transition {
		tr := core.New(f.Cfg)
		for _, e := range []types.Epoch{tr.PreviousEpoch(f.State), tr.CurrentEpoch(f.State)} {
			if _, err := tr.Committees(f.State, e); err != nil {
				b.Fatal(err)
			}
		}
		return tr
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st := f.State.Copy()
		tr := warm()
		b.StartTimer()
		if err := tr.ProcessEpoch(st); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStateRootAfterSlot100k(b *testing.B) {
	f, err := NewEpochFixture(params.Mainnet(), 100_000)
	if err != nil {
		b.Fatal(err)
	}
	st := f.State
	st.Slot -= 10
	if _, err := st.HashTreeRoot(); err != nil {
		b.Fatal(err)
	}
	for _, full := range []bool{false, true} {
		name := "incremental"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := st.Copy()
				if err := f.Tr.ProcessSlot(s); err != nil {
					b.Fatal(err)
				}
				s.Slot++
				if full {
					s.DropCache()
				}
				b.StartTimer()
				if _, err := s.HashTreeRoot(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBlock128Attestations(b *testing.B) {
	f, err := NewBlockFixture(params.Mainnet(), 100_000, 128)
	if err != nil {
		b.Fatal(err)
	}
	w, err := f.NewSignatureWork()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("process_block", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			st := f.Pre.Copy()
			b.StartTimer()
			if err := f.Process(st, core.VerifySigs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bls_only", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := w.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("no_sigs", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			st := f.Pre.Copy()
			b.StartTimer()
			if err := f.Process(st, core.SkipSigs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkShuffle1M(b *testing.B) {
	var seed types.Root
	copy(seed[:], "shardlab shuffle benchmark seed.")
	b.Run("whole_list", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			core.ShufflePositions(1<<20, seed, 90)
		}
	})
	b.Run("plain_baseline", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			plainShuffle(1<<20, seed, 90)
		}
	})
}

func TestPlainShuffleMatches(t *testing.T) {
	var seed types.Root
	seed[3] = 9
	for _, n := range []uint32{0, 1, 2, 255, 256, 257, 1000} {
		if got, want := plainShuffle(n, seed, 90), core.ShufflePositions(n, seed, 90); !slices.Equal(got, want) {
			t.Errorf("n=%d: plain and whole-list shuffles differ", n)
		}
	}
}

func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds keys and states")
	}
	cfg := params.Mainnet()
	cfg.MinGenesisActiveValidatorCount = 4096
	opts := Options{Cfg: cfg, Runs: 1, Validators: 4096, ShuffleN: 4096, Attestations: 16}
	rs, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range rs {
		names[r.Name] = true
		if r.Median <= 0 || r.Runs != 1 {
			t.Errorf("%s: bad result %+v", r.Name, r)
		}
	}
	for _, n := range []string{"shuffle", "epoch", "state_root", "block", "block_batched", "block_no_sigs"} {
		if !names[n] {
			t.Errorf("no %s result", n)
		}
	}
}
