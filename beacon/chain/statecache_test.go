package chain

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/forkchoice"
	"github.com/shardlab/shardlab/beacon/types"
)

// openStates opens a chain of f's genesis sharing post-states through c,
// skipping signatures when skip is set.
func openStates(t *testing.T, f *fixture, c *forkchoice.StateCache, skip ...bool) *Service {
	t.Helper()
	return openShared(t, f, nil, func(cfg *Config) {
		cfg.StateCache, cfg.SkipSignatures = c, len(skip) > 0 && skip[0]
	})
}

// newStateCache returns an empty state cache of entries states.
func newStateCache(t *testing.T, entries int) *forkchoice.StateCache {
	t.Helper()
	c, err := forkchoice.NewStateCache(entries)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stateRoot hashes st.
func stateRoot(t *testing.T, st *types.BeaconState) types.Root {
	t.Helper()
	r, err := st.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestStateCacheShared checks that chains sharing a state cache
// (simulated nodes) transition each block once between them, and that a
// state one chain hands out and its caller modifies leaves the other
// chain's (shared) state untouched.
func TestStateCacheShared(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	cache := newStateCache(t, 16)
	a, b := openStates(t, f, cache), openStates(t, f, cache)
	seg := f.build(t, f.genesis, 1, 3, true)
	importSeg(t, f, a, seg)
	if st := cache.Stats(); st.Hits != 0 || st.Misses != 3 || st.Entries != 3 {
		t.Fatalf("first chain: %+v, want 3 misses and 3 entries", st)
	}
	importSeg(t, f, b, seg)
	if st := cache.Stats(); st.Hits != 3 || st.Misses != 3 {
		t.Fatalf("second chain: %+v, want 3 hits (no transition run again)", st)
	}
	want := stateRoot(t, seg.states[2])

	// Mutate every kind of field of a's handed-out head state.
	mine := a.HeadState()
	mine.Slot += 100
	mine.Balances[0] = 0
	mine.Validators[0].Slashed = true
	mine.Validators[1].EffectiveBalance = 1
	mine.BlockRoots[0] = types.Root{0xff}
	mine.RandaoMixes[0] = types.Root{0xee}
	mine.CurrentJustifiedCheckpoint.Epoch = 77
	if stateRoot(t, mine) == want {
		t.Fatal("the mutations changed nothing")
	}
	for name, s := range map[string]*Service{"a": a, "b": b} {
		if got := stateRoot(t, s.HeadState()); got != want {
			t.Fatalf("chain %s head state %s after mutating a copy, want %s", name, got, want)
		}
		last, _ := s.StateAt(root(t, seg.blocks[2]))
		if got := stateRoot(t, last); got != want {
			t.Fatalf("chain %s StateAt %s after mutating a copy, want %s", name, got, want)
		}
	}
}

// TestStateCacheForgedSignature checks that a block whose signature was
// replaced does not reuse the original's cached post-state: the cache key
// covers the signature, so the transition runs and rejects it.
func TestStateCacheForgedSignature(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	cache := newStateCache(t, 16)
	a, b := openStates(t, f, cache), openStates(t, f, cache)
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
	if st := cache.Stats(); st.Hits != 2 {
		t.Fatalf("stats %+v, want 2 hits (the genuine blocks)", st)
	}
}

// TestStateCacheSkippedSignatures checks that a block imported without
// its signatures checked (an own proposal) neither fills nor reads the
// shared cache.
func TestStateCacheSkippedSignatures(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	cache := newStateCache(t, 16)
	a := openStates(t, f, cache)
	seg := f.build(t, f.genesis, 1, 2, false)
	for _, blk := range seg.blocks {
		a.OnTick(f.slotTime(blk.Slot))
		if _, err := a.ImportBlock(blk, core.SkipSigs); err != nil {
			t.Fatal(err)
		}
	}
	if st := cache.Stats(); st != (forkchoice.StateCacheStats{Capacity: 16}) {
		t.Fatalf("stats %+v after imports with skipped signatures, want none", st)
	}
}

// TestSkipSignatures checks that a chain configured to skip signatures
// (fake BLS) accepts a block with another block's signature, which a
// verifying chain rejects, and that a cache told to share unverified
// states then shares them.
func TestSkipSignatures(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	cache := newStateCache(t, 16)
	cache.ShareUnverified()
	open := func(skip bool) *Service { return openStates(t, f, cache, skip) }
	seg := f.build(t, f.genesis, 1, 2, false)
	forged := *seg.blocks[1]
	forged.Signature = seg.blocks[0].Signature
	for _, tc := range []struct {
		name string
		skip bool
	}{{"verifying", false}, {"skipping", true}} {
		s := open(tc.skip)
		importSeg(t, f, s, chainSeg{blocks: seg.blocks[:1], states: seg.states[:1]})
		s.OnTick(f.slotTime(2))
		_, err := s.ImportBlock(&forged, core.VerifySigs)
		if tc.skip != (err == nil) {
			t.Fatalf("%s chain, forged block: %v", tc.name, err)
		}
	}
	// Block 1 verified by the first chain and reused by the second; the
	// forgery added by the skipping chain only.
	if st := cache.Stats(); st.Adds != 2 || st.Hits != 1 {
		t.Fatalf("stats %+v, want 2 states added and 1 hit", st)
	}
	other := open(true)
	importSeg(t, f, other, chainSeg{blocks: seg.blocks[:1], states: seg.states[:1]})
	other.OnTick(f.slotTime(2))
	if _, err := other.ImportBlock(&forged, core.SkipSigs); err != nil {
		t.Fatal(err)
	}
	if st := cache.Stats(); st.Hits != 3 || st.Adds != 2 {
		t.Fatalf("stats %+v, want the second skipping chain to reuse both states", st)
	}
}

// TestStateCacheCheckpointShared checks that chains sharing a state cache
// advance a target's checkpoint state once between them (the second
// chain's attestation check and fork choice take the first's), and that
// the votes still count on both.
func TestStateCacheCheckpointShared(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	cache := newStateCache(t, 32)
	a, b := openStates(t, f, cache), openStates(t, f, cache)
	seg := f.build(t, f.genesis, 1, 7, false) // no block at slot 8: epoch 1's checkpoint state is advanced
	importSeg(t, f, a, seg)
	importSeg(t, f, b, seg)
	atts := f.attest(t, seg.states[6], 9)
	if atts[0].Data.Target.Epoch != 1 {
		t.Fatalf("target epoch %d, want 1", atts[0].Data.Target.Epoch)
	}
	for _, s := range []*Service{a, b} {
		s.OnTick(f.slotTime(10))
	}
	before := cache.Stats()
	if err := a.OnAttestation(atts[0]); err != nil {
		t.Fatal(err)
	}
	mid := cache.Stats()
	if adds := mid.Adds - before.Adds; adds != 1 {
		t.Fatalf("first chain added %d states, want its checkpoint state", adds)
	}
	if err := b.OnAttestation(atts[0]); err != nil {
		t.Fatal(err)
	}
	after := cache.Stats()
	if after.Adds != mid.Adds || after.Hits <= mid.Hits {
		t.Fatalf("second chain: %+v after %+v, want the first chain's checkpoint state reused", after, mid)
	}
	cp, ok := a.fc.CheckpointState(atts[0].Data.Target)
	if !ok {
		t.Fatal("first chain's fork choice has no checkpoint state")
	}
	if cpb, _ := b.fc.CheckpointState(atts[0].Data.Target); cpb != cp {
		t.Fatal("the chains hold different checkpoint states")
	}
	if cp.Slot != 8 {
		t.Fatalf("checkpoint state at slot %d, want 8", cp.Slot)
	}
	// Both chains validate further attestations of the target on that one
	// state (and so through one shared view of its committees).
	for name, s := range map[string]*Service{"a": a, "b": b} {
		s.mu.Lock()
		got, base, err := s.checkpointBaseLocked(atts[0].Data.Target)
		s.mu.Unlock()
		if err != nil || base != nil || got != cp {
			t.Fatalf("chain %s validates on %p (base %p, %v), want the shared %p", name, got, base, err, cp)
		}
	}
}

// TestHeadStateAt checks the duties' read-only advanced head state: chains
// sharing a state cache advance the head once between them and get one
// state; a chain without a cache gets a private copy each time.
func TestHeadStateAt(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	cache := newStateCache(t, 16)
	a, b := openStates(t, f, cache), openStates(t, f, cache)
	private := f.newService(t, memDB(t))
	seg := f.build(t, f.genesis, 1, 2, false)
	for _, s := range []*Service{a, b, private} {
		importSeg(t, f, s, seg)
	}
	want := root(t, seg.blocks[1])
	get := func(s *Service, slot types.Slot) *types.BeaconState {
		t.Helper()
		head, st, err := s.HeadStateAt(slot)
		if err != nil {
			t.Fatal(err)
		}
		if head != want || st.Slot != max(slot, 2) {
			t.Fatalf("head %s at slot %d, want %s at %d", head, st.Slot, want, max(slot, 2))
		}
		return st
	}
	if sa, sb := get(a, 9), get(b, 9); sa != sb {
		t.Fatal("chains sharing a cache advanced the head twice")
	}
	if get(a, 1) != get(a, 2) {
		t.Fatal("the head state at or past its slot is not the fork choice's own")
	}
	p := get(private, 9)
	wantRoot := stateRoot(t, p)
	p.Slot = 99
	if q := get(private, 9); q == p || stateRoot(t, q) != wantRoot {
		t.Fatal("a chain without a cache handed out a state it keeps")
	}
}
