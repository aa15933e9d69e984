package core

import (
	"errors"
	"testing"

	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

func hdr(parent st.ShardBlockHeader, slot bt.Slot, tag byte) st.ShardBlockHeader {
	return st.ShardBlockHeader{Slot: slot, Shard: parent.Shard, ParentRoot: parent.SigningRoot(), StateRoot: bt.Root{tag}}
}

func TestShardForkChoice(t *testing.T) {
	genesis := st.ShardBlockHeader{Shard: 3, StateRoot: bt.Root{0xee}}
	f := NewForkChoice(genesis)
	a1 := hdr(genesis, 1, 1)
	a2 := hdr(a1, 2, 2)
	b2 := hdr(a1, 2, 3) // fork at slot 2
	b3 := hdr(b2, 3, 4)
	for _, h := range []st.ShardBlockHeader{a1, a2, b2} {
		if err := f.AddValid(h); err != nil {
			t.Fatal(err)
		}
	}
	// a2 and b2 tie in height: the smaller root wins.
	want := a2.SigningRoot()
	if r := b2.SigningRoot(); string(r[:]) < string(want[:]) {
		want = r
	}
	if f.Head() != want {
		t.Fatalf("tie: head %s, want %s", f.Head(), want)
	}
	// b3 makes the b branch the longest.
	if err := f.AddValid(b3); err != nil {
		t.Fatal(err)
	}
	if f.Head() != b3.SigningRoot() {
		t.Fatalf("head %s, want b3", f.Head())
	}
	// b2 is found invalid: it and b3 leave; later descendants are rejected.
	f.MarkInvalid(b2.SigningRoot())
	if f.Head() != a2.SigningRoot() || f.Has(b3.SigningRoot()) {
		t.Fatalf("after invalidation head %s", f.Head())
	}
	if err := f.AddValid(hdr(b3, 4, 5)); !errors.Is(err, ErrInvalidShardBlock) {
		t.Fatalf("descendant of an invalid block: %v", err)
	}
	// Orphans wait for their parent.
	a3 := hdr(a2, 3, 6)
	a4 := hdr(a3, 4, 7)
	if err := f.AddValid(a4); !errors.Is(err, ErrUnknownShardParent) {
		t.Fatalf("orphan: %v", err)
	}
	if err := f.AddValid(a3); err != nil {
		t.Fatal(err)
	}
	if f.Head() != a4.SigningRoot() {
		t.Fatalf("orphan not adopted: head %s", f.Head())
	}
	chain, err := f.Chain(f.Head())
	if err != nil || len(chain) != 4 || chain[0] != a1 || chain[3] != a4 {
		t.Fatalf("chain %v %v", len(chain), err)
	}
	// Crosslink headers of slots [2*1, 4*1) with one-slot epochs.
	hs, err := f.CrosslinkHeaders(1, bt.Crosslink{StartEpoch: 2, EndEpoch: 4})
	if err != nil || len(hs) != 2 || hs[0] != a2 || hs[1] != a3 {
		t.Fatalf("crosslink headers %v %v", hs, err)
	}
	// Re-rooting at the crosslinked a2 keeps only its descendants.
	c3 := hdr(a2, 3, 8) // a sibling of a3
	if err := f.AddValid(c3); err != nil {
		t.Fatal(err)
	}
	if err := f.SetRoot(a2.SigningRoot()); err != nil {
		t.Fatal(err)
	}
	if f.Has(a1.SigningRoot()) || !f.Has(c3.SigningRoot()) || f.Head() != a4.SigningRoot() || f.Len() != 4 {
		t.Fatalf("after re-rooting: len %d head %s", f.Len(), f.Head())
	}
	if err := f.SetRoot(bt.Root{9}); err == nil {
		t.Fatal("re-rooting at an unknown block accepted")
	}
	// Invalid parent relations are rejected.
	if err := f.AddValid(st.ShardBlockHeader{Slot: 2, Shard: 3, ParentRoot: a4.SigningRoot()}); !errors.Is(err, ErrInvalidShardBlock) {
		t.Fatalf("slot not after the parent: %v", err)
	}
}
