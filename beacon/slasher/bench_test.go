package slasher

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// BenchmarkSlasherAttestation feeds an honest network's attestations to a
// slasher on a Pebble database on disk: 16,384 validators in committees of
// 128, each epoch every validator votes once (source = previous epoch), one
// aggregate per OnAttestations call. One op is one aggregate attestation of
// 128 validators. Reported besides time and allocations: the time per
// validator vote, the disk bytes per validator (keys and values in the
// database at the end, before compaction) and the heap held by the span
// cache per validator.
func BenchmarkSlasherAttestation(b *testing.B) {
	const (
		validators = 16384
		committee  = 128
		perEpoch   = validators / committee
	)
	db, err := kv.OpenPebble(b.TempDir(), kv.PebbleOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := New(db, params.Mainnet(), DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	perm := make([]uint64, validators)
	for i := range perm {
		perm[i] = uint64(i)
	}
	committees := func() [][]uint64 { // one shuffle per epoch, like the spec's
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		out := make([][]uint64, perEpoch)
		for c := range out {
			out[c] = slices.Sorted(slices.Values(perm[c*committee : (c+1)*committee]))
		}
		return out
	}
	var cur [][]uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		epoch := types.Epoch(i/perEpoch + 1)
		if i%perEpoch == 0 {
			b.StopTimer()
			cur = committees()
			b.StartTimer()
			if err := s.Advance(epoch, validators); err != nil {
				b.Fatal(err)
			}
		}
		a := att(epoch-1, epoch, byte(epoch), cur[i%perEpoch]...)
		got, err := s.OnAttestations([]*types.IndexedAttestation{a})
		if err != nil || len(got) != 0 {
			b.Fatalf("honest attestation: %d slashings, %v", len(got), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*committee), "ns/vote")
	var disk int
	if err := db.Iterate(nil, func(k, v []byte) (bool, error) { disk += len(k) + len(v); return true, nil }); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(disk)/validators, "disk-B/validator")
	b.ReportMetric(float64(len(s.cache)*chunkBytes)/validators, "cache-B/validator")
	runtime.KeepAlive(s)
}
