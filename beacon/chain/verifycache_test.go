package chain

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/crypto/bls"
)

// TestVerifyCacheGossipThenImport checks that an attestation verified at
// gossip validation is not verified again when a block carrying it is
// imported, and that a changed copy is still checked.
func TestVerifyCacheGossipThenImport(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	s := f.newService(t, memDB(t))
	if s.VerifyCache() == nil {
		t.Fatal("a chain without a verification cache")
	}
	seg := f.build(t, f.genesis, 1, 2, false)
	importSeg(t, f, s, seg)
	atts := f.attest(t, seg.states[1], 2)
	if err := s.OnAttestation(atts[0]); err != nil {
		t.Fatal(err)
	}

	// A copy carrying another attestation's (valid) signature must not
	// ride on the cached success of the original.
	forged := *atts[0]
	forged.Signature = f.attest(t, seg.states[0], 1)[0].Signature
	if err := s.OnAttestation(&forged); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("attestation with another's signature: %v", err)
	}

	before := s.VerifyCache().Stats()
	b3, _ := f.block(t, seg.states[1], 3, atts[:1], 0)
	s.OnTick(f.slotTime(3))
	if _, err := s.ImportBlock(b3, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	after := s.VerifyCache().Stats()
	// The block's own signature and RANDAO reveal are new; its attestation
	// is the one verified at gossip.
	if hits := after.Hits - before.Hits; hits != 1 {
		t.Fatalf("%d cache hits importing a block with a gossiped attestation, want 1", hits)
	}
	if misses := after.Misses - before.Misses; misses != 2 {
		t.Fatalf("%d cache misses, want 2 (proposer signature, RANDAO reveal)", misses)
	}
}

// openShared opens a chain of f's genesis that verifies through c; mutate,
// when not nil, adjusts the config first.
func openShared(t *testing.T, f *fixture, c *bls.VerifyCache, mutate ...func(*Config)) *Service {
	t.Helper()
	st, err := store.New(memDB(t), f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Transition, cfg.Store, cfg.Genesis = f.tr, st, f.genesis
	cfg.VerifyCache = c
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerifyCacheShared checks that chains sharing one cache (simulated
// nodes) verify each block signature once between them.
func TestVerifyCacheShared(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	shared := bls.NewVerifyCache(1024)
	a, b := openShared(t, f, shared), openShared(t, f, shared)
	seg := f.build(t, f.genesis, 1, 3, true)
	importSeg(t, f, a, seg)
	first := shared.Stats()
	if first.Hits != 0 || first.Misses == 0 {
		t.Fatalf("first chain: stats %+v, want only misses", first)
	}
	importSeg(t, f, b, seg)
	second := shared.Stats()
	if second.Misses != first.Misses {
		t.Fatalf("second chain verified %d signatures again", second.Misses-first.Misses)
	}
	if second.Hits != first.Misses {
		t.Fatalf("second chain: %d hits, want %d", second.Hits, first.Misses)
	}
	last, err := seg.blocks[len(seg.blocks)-1].SigningRoot()
	if err != nil {
		t.Fatal(err)
	}
	if ha, _ := a.Head(); ha != last {
		t.Fatal("first chain not at the last block")
	}
	if hb, _ := b.Head(); hb != last {
		t.Fatal("second chain not at the last block")
	}
}

// TestVerifyCacheBadBlockSignature checks that a block whose signature was
// replaced is rejected although the original's checks are cached.
func TestVerifyCacheBadBlockSignature(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	shared := bls.NewVerifyCache(1024)
	a, b := openShared(t, f, shared), openShared(t, f, shared)
	seg := f.build(t, f.genesis, 1, 2, false)
	importSeg(t, f, a, seg)
	importSeg(t, f, b, chainSeg{blocks: seg.blocks[:1], states: seg.states[:1]})
	b.OnTick(f.slotTime(2))
	bad := *seg.blocks[1]
	bad.Signature = seg.blocks[0].Signature // a valid signature, of another block
	if _, err := b.ImportBlock(&bad, core.VerifySigs); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("block with another block's signature: %v", err)
	}
	if _, err := b.ImportBlock(seg.blocks[1], core.VerifySigs); err != nil {
		t.Fatalf("the original block after the forgery: %v", err)
	}
}

// BenchmarkRepeatedAttestation checks the signature of one full-committee
// attestation again and again, as a node (or every simulated node) does
// for a copy seen at gossip and again in blocks: "uncached" is the
// spec's is_valid_indexed_attestation, "cached" the same through a warm
// VerifyCache (key aggregation and the digest remain).
func BenchmarkRepeatedAttestation(b *testing.B) {
	f := defaultFixture(b)
	seg := f.build(b, f.genesis, 1, 1, false)
	st := seg.states[0]
	att := f.attest(b, st, 1)[0]
	ia, err := f.tr.IndexedAttestation(st, att)
	if err != nil {
		b.Fatal(err)
	}
	cache := bls.NewVerifyCache(16)
	for _, bc := range []struct {
		name string
		sigs core.Sigs
	}{
		{name: "uncached", sigs: core.VerifySigs},
		{name: "cached", sigs: core.VerifySigs.WithCache(cache)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := f.tr.IsValidIndexedAttestation(st, ia, bc.sigs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestVerifyCacheBatchPolicy checks the batching policy through a cache: a
// check verified in one batch is not queued in the next, a changed one is.
func TestVerifyCacheBatchPolicy(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	seg := f.build(t, f.genesis, 1, 2, false)
	st := seg.states[1]
	att := f.attest(t, st, 2)[0]
	ia, err := f.tr.IndexedAttestation(st, att)
	if err != nil {
		t.Fatal(err)
	}
	cache := bls.NewVerifyCache(16)
	batch := func() *bls.Batch { return &bls.Batch{Cache: cache} }
	first := batch()
	if err := f.tr.IsValidIndexedAttestation(st, ia, core.BatchSigs(first)); err != nil {
		t.Fatal(err)
	}
	if first.Len() != 1 {
		t.Fatalf("cold batch holds %d sets, want 1", first.Len())
	}
	if err := first.Verify(); err != nil {
		t.Fatal(err)
	}
	second := batch()
	if err := f.tr.IsValidIndexedAttestation(st, ia, core.BatchSigs(second)); err != nil {
		t.Fatal(err)
	}
	if second.Len() != 0 {
		t.Fatalf("warm batch holds %d sets, want 0", second.Len())
	}
	forged := *ia
	forged.Signature = f.attest(t, seg.states[0], 1)[0].Signature
	third := batch()
	if err := f.tr.IsValidIndexedAttestation(st, &forged, core.BatchSigs(third)); err != nil {
		t.Fatal(err)
	}
	if third.Len() != 1 {
		t.Fatalf("forged copy: batch holds %d sets, want 1", third.Len())
	}
	if err := third.Verify(); !errors.Is(err, bls.ErrInvalidSignature) {
		t.Fatalf("forged copy: %v", err)
	}
}
