package corebench

import (
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
