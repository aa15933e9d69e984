package store_test

import (
	"fmt"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// benchStore is a store on Pebble on disk (every write synced).
func benchStore(b *testing.B, cfg *params.Config) *store.Store {
	b.Helper()
	db, err := kv.OpenPebble(b.TempDir(), kv.PebbleOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s, _ := newStoreOn(b, db, cfg)
	return s
}

func BenchmarkBlock(b *testing.B) {
	for _, nAtt := range []int{0, 16, 128} {
		blk := testBlock(9, root(1), nAtt)
		size := len(encode(b, blk))
		b.Run(fmt.Sprintf("save/%datt", nAtt), func(b *testing.B) {
			s := benchStore(b, params.Minimal())
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				blk.Slot = types.Slot(i) // a new block each time
				if _, err := s.SaveBlock(blk); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("read/%datt", nAtt), func(b *testing.B) {
			s := benchStore(b, params.Minimal())
			var roots []types.Root
			for i := range 256 {
				blk.Slot = types.Slot(i)
				r, err := s.SaveBlock(blk)
				if err != nil {
					b.Fatal(err)
				}
				roots = append(roots, r)
			}
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				if _, err := s.Block(roots[i%len(roots)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkState(b *testing.B) {
	cases := []struct {
		cfg *params.Config
		n   int
	}{
		{params.Minimal(), 64},
		{params.Minimal(), 10_000},
		{params.Mainnet(), 10_000},
	}
	for _, c := range cases {
		st := testState(c.cfg, c.n)
		size := len(encode(b, st))
		name := fmt.Sprintf("%s/%dval", c.cfg.Name, c.n)
		b.Run("save/"+name, func(b *testing.B) {
			s := benchStore(b, c.cfg)
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				if err := s.SaveState(root(byte(i%8)), st); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("read/"+name, func(b *testing.B) {
			s := benchStore(b, c.cfg)
			if err := s.SaveState(root(1), st); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := s.State(root(1)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckAndRecordAttestation measures one slashing-protection check
// and synced write, the cost added to every attestation a validator signs.
func BenchmarkCheckAndRecordAttestation(b *testing.B) {
	s := benchStore(b, params.Minimal())
	for i := 0; b.Loop(); i++ {
		if err := s.CheckAndRecordAttestation(types.ValidatorIndex(i%64), types.Epoch(i), types.Epoch(i+1), root(byte(i))); err != nil {
			b.Fatal(err)
		}
	}
}
