package chain

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) kinds(k EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func TestImportOrder(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	s := f.newService(t, memDB(t))
	var rec recorder
	cancel := s.Subscribe(rec.add)
	defer cancel()
	seg := f.build(t, f.genesis, 1, 4, false)

	// A child before its parent: unknown parent, not invalid for the caller.
	s.OnTick(f.slotTime(4))
	_, err := s.ImportBlock(seg.blocks[1], core.VerifySigs)
	if !errors.Is(err, ErrUnknownParent) {
		t.Fatalf("child first: %v, want ErrUnknownParent", err)
	}
	importSeg(t, f, s, seg)
	head, slot := s.Head()
	if head != root(t, seg.blocks[3]) || slot != 4 {
		t.Fatalf("head %s at %d, want the last block", head, slot)
	}
	// Re-importing is a no-op.
	if _, err := s.ImportBlock(seg.blocks[2], core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	for i, b := range seg.blocks {
		got, r, ok := s.CanonicalBlock(b.Slot)
		if !ok || r != root(t, b) || got.GetSlot() != b.Slot {
			t.Fatalf("canonical block %d: %v %s", i, ok, r)
		}
	}
	if st := s.HeadState(); st.Slot != 4 {
		t.Fatalf("head state at slot %d", st.Slot)
	}
	if n := len(rec.kinds(EventNewBlock)); n != 4 {
		t.Fatalf("%d new-block events, want 4", n)
	}
	heads := rec.kinds(EventNewHead)
	if len(heads) != 4 || heads[3].Root != head || heads[3].Reorg {
		t.Fatalf("head events %+v", heads)
	}
	// A block from the future waits.
	next, _ := f.block(t, seg.states[3], 6, nil, 0)
	if _, err := s.ImportBlock(next, core.VerifySigs); !errors.Is(err, ErrFuture) {
		t.Fatalf("future block: %v", err)
	}
	// A badly signed block is invalid.
	bad, _ := f.block(t, seg.states[3], 5, nil, 0)
	bad.Signature[5] ^= 1
	s.OnTick(f.slotTime(5))
	if _, err := s.ImportBlock(bad, core.VerifySigs); !errors.Is(err, core.ErrInvalid) || errors.Is(err, ErrUnknownParent) {
		t.Fatalf("bad signature: %v", err)
	}
}

// TestReorg builds two branches from block 1: A (slots 2, 3, no votes) and
// B (slots 4, 5, where 5 carries the votes of slot 4's committee for B). The
// head ends on B, and the canonical index holds B's blocks only.
func TestReorg(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	s := f.newService(t, memDB(t))
	var rec recorder
	defer s.Subscribe(rec.add)()

	common := f.build(t, f.genesis, 1, 1, false)
	a := f.build(t, common.states[0], 2, 3, false)
	b4, st4 := f.block(t, common.states[0], 4, nil, 'b')
	votes := f.attest(t, st4, 4)
	b5, _ := f.block(t, st4, 5, votes, 'b')

	importSeg(t, f, s, common)
	importSeg(t, f, s, a)
	if h, _ := s.Head(); h != root(t, a.blocks[1]) {
		t.Fatal("head is not A's tip")
	}
	importSeg(t, f, s, chainSeg{blocks: []*types.ShardBeaconBlock{b4, b5}})
	if h, slot := s.Head(); h != root(t, b5) || slot != 5 {
		t.Fatalf("head %s at %d, want B's tip", h, slot)
	}
	for _, slot := range []types.Slot{2, 3} {
		if _, _, ok := s.CanonicalBlock(slot); ok {
			t.Fatalf("slot %d of the replaced branch is still canonical", slot)
		}
	}
	for _, blk := range []*types.ShardBeaconBlock{common.blocks[0], b4, b5} {
		if _, r, ok := s.CanonicalBlock(blk.Slot); !ok || r != root(t, blk) {
			t.Fatalf("slot %d: canonical %s, ok %v", blk.Slot, r, ok)
		}
	}
	reorgs := slices.DeleteFunc(rec.kinds(EventNewHead), func(e Event) bool { return !e.Reorg })
	if len(reorgs) == 0 || reorgs[0].Depth != 2 {
		t.Fatalf("reorg events %+v, want one of depth 2", reorgs)
	}
	// Replaced blocks stay available by root.
	if _, ok := s.Block(root(t, a.blocks[0])); !ok {
		t.Fatal("block of the replaced branch lost")
	}
}

// finalizedChain imports a chain with full attestations until the
// finalized epoch is at least 2 and returns the segment.
func finalizedChain(t testing.TB, f *fixture, s *Service) chainSeg {
	t.Helper()
	seg := f.build(t, f.genesis, 1, types.Slot(4*f.cfg.SlotsPerEpoch+1), true)
	importSeg(t, f, s, seg)
	if fin := s.Finalized(); fin.Epoch < 2 {
		t.Fatalf("finalized epoch %d after %d blocks, want >= 2", fin.Epoch, len(seg.blocks))
	}
	return seg
}

func TestFinalityPersistence(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	s := f.newService(t, memDB(t))
	var rec recorder
	defer s.Subscribe(rec.add)()
	finalizedChain(t, f, s)
	fin := s.Finalized()
	stored, err := s.store.Finalized()
	if err != nil || stored != fin {
		t.Fatalf("stored finalized %+v (%v), want %+v", stored, err, fin)
	}
	st, err := s.store.State(fin.Root)
	if err != nil {
		t.Fatalf("finalized state not stored: %v", err)
	}
	if b, ok := s.Block(fin.Root); !ok || st.Slot != b.GetSlot() {
		t.Fatal("stored finalized state is not the finalized block's post-state")
	}
	if j, err := s.store.Justified(); err != nil || j != s.Justified() {
		t.Fatalf("stored justified %+v (%v)", j, err)
	}
	if ev := rec.kinds(EventFinalized); len(ev) == 0 || ev[len(ev)-1].Checkpoint != fin {
		t.Fatalf("finalized events %+v", ev)
	}
	// The fork choice was pruned below the finalized block, but history is
	// still served from the store.
	if _, _, ok := s.CanonicalBlock(1); !ok {
		t.Fatal("finalized history not served")
	}
	if s.fc.Len() > int(3*f.cfg.SlotsPerEpoch) {
		t.Fatalf("fork choice holds %d blocks after finality", s.fc.Len())
	}
}

func TestRestartFromDisk(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	dir := t.TempDir()
	db, err := kv.OpenPebble(dir, kv.PebbleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := f.newService(t, db)
	seg := finalizedChain(t, f, s)
	_, headSlot := s.Head()
	r, db := f.restart(t, s, db, dir)
	defer db.Close()
	// The chain goes on.
	last := seg.states[len(seg.states)-1]
	next := f.build(t, last, headSlot+1, headSlot+2, false)
	importSeg(t, f, r, next)
	if _, slot := r.Head(); slot != headSlot+2 {
		t.Fatalf("head at %d after restart, want %d", slot, headSlot+2)
	}

	// Another genesis is refused.
	other, err := buildFixture(func(c *params.Config) { c.MinGenesisTime += 86400 })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.open(db); !errors.Is(err, ErrGenesisMismatch) && !errors.Is(err, store.ErrGenesisMismatch) {
		t.Fatalf("foreign genesis: %v", err)
	}
}

// TestRestartAcrossShardFork restarts a chain that crosses the shard fork
// (epoch 1): phase 0 blocks in epoch 0, ShardBeaconBlocks after it, one of
// them with fraud proofs, attested until finality. Every block, of either
// kind, must come back from the store: the replay reaches the stored head,
// the fraud proofs are applied again, and finalized history is served.
func TestRestartAcrossShardFork(t *testing.T) {
	t.Parallel()
	f, err := buildFixture(func(c *params.Config) { c.Shard.ForkEpoch = 1 })
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := kv.OpenPebble(dir, kv.PebbleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := f.newService(t, db)

	spe := types.Slot(f.cfg.SlotsPerEpoch)
	proofSlot := spe + 2
	proofs := [][]byte{fakeProof(3, 1), fakeProof(4, 1)}
	var blocks []types.AnyBlock
	st := f.genesis
	var atts []*types.Attestation
	for slot := types.Slot(1); slot <= 4*spe+1; slot++ {
		var p [][]byte
		if slot == proofSlot {
			p = proofs
		}
		b, post := f.anyBlock(t, st, slot, atts, p)
		s.OnTick(f.slotTime(slot))
		if _, err := s.ImportBlock(b, core.VerifySigs); err != nil {
			t.Fatalf("import block of slot %d: %v", slot, err)
		}
		blocks = append(blocks, b)
		st = post
		atts = f.attest(t, st, slot)
	}
	if _, ok := blocks[0].(*types.BeaconBlock); !ok {
		t.Fatalf("block of slot 1 is a %T, want a phase 0 block", blocks[0])
	}
	if _, ok := blocks[spe-1].(*types.ShardBeaconBlock); !ok {
		t.Fatalf("block of slot %d is a %T, want a shard-fork block", spe, blocks[spe-1])
	}
	fin := s.Finalized()
	if fin.Epoch < 2 {
		t.Fatalf("finalized epoch %d, want >= 2", fin.Epoch)
	}
	_, headSlot := s.Head()
	r, db := f.restart(t, s, db, dir)
	defer db.Close()
	hs := r.HeadState()
	if !hs.Validators[3].Slashed || !hs.Validators[4].Slashed {
		t.Fatal("the fraud proofs' offenders are not slashed after the replay")
	}
	// Every block is served, of its kind and unchanged, the finalized ones
	// from the store.
	if r.fc.Len() >= len(blocks) {
		t.Fatalf("fork choice holds %d blocks, so nothing is read from the store", r.fc.Len())
	}
	for _, want := range blocks {
		got, gotRoot, ok := r.CanonicalBlock(want.GetSlot())
		if !ok || gotRoot != root(t, want) {
			t.Fatalf("canonical block of slot %d: %s, %v", want.GetSlot(), gotRoot, ok)
		}
		a, _ := got.MarshalSSZ()
		b, _ := want.MarshalSSZ()
		if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) || !bytes.Equal(a, b) {
			t.Fatalf("block of slot %d: read a %T, imported a %T, or its bytes differ", want.GetSlot(), got, want)
		}
	}
	stored, err := r.store.Block(root(t, blocks[proofSlot-1]))
	if err != nil {
		t.Fatal(err)
	}
	if sb, ok := stored.(*types.ShardBeaconBlock); !ok || len(sb.Body.ShardFraudProofs) != len(proofs) {
		t.Fatalf("stored block of slot %d is %T without its fraud proofs", proofSlot, stored)
	}
	// The chain goes on.
	next, _ := f.anyBlock(t, st, headSlot+1, atts, nil)
	r.OnTick(f.slotTime(headSlot + 1))
	if _, err := r.ImportBlock(next, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	if _, slot := r.Head(); slot != headSlot+1 {
		t.Fatalf("head at %d after restart, want %d", slot, headSlot+1)
	}
}
