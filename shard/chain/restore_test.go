package chain

import (
	"maps"
	"testing"

	bt "github.com/shardlab/shardlab/beacon/types"
)

// lagging returns a copy of f's beacon chain with the blocks up to slot
// only: the beacon store of a node that lost its later blocks.
func (f *fakeBeacon) lagging(slot bt.Slot) *fakeBeacon {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := &fakeBeacon{tr: f.tr, states: maps.Clone(f.states), blocks: maps.Clone(f.blocks), canon: make(map[bt.Slot]bt.Root)}
	for s, r := range f.canon {
		if s <= slot {
			l.canon[s] = r
			if s == slot {
				l.head = r
			}
			continue
		}
		delete(l.states, r)
		delete(l.blocks, r)
	}
	return l
}

// catchUp gives l the blocks of f it lacks: the beacon chain synced them
// again from peers.
func (l *fakeBeacon) catchUp(f *fakeBeacon) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states, l.blocks, l.canon, l.head = maps.Clone(f.states), maps.Clone(f.blocks), maps.Clone(f.canon), f.head
}

// TestRestoreOnLaggingBeacon restarts a shard chain of 6 blocks on a beacon
// chain that lost its blocks after slot 2 (a damaged beacon database in a
// shard node): the shard blocks referencing the lost beacon blocks are
// reported pending and kept out of the fork choice, and rejoin it once the
// beacon chain has synced them again, so the node ends on its old head.
func TestRestoreOnLaggingBeacon(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	db := newMemDB()
	a := f.service(t, 3, db, "a")
	for slot := bt.Slot(1); slot <= 6; slot++ {
		f.beacon.advance(t, slot, nil)
		f.propose(t, a, slot)
	}
	head := a.Head()
	if head.Header.Slot != 6 {
		t.Fatalf("head at %d, want 6", head.Header.Slot)
	}

	lag := f.beacon.lagging(2)
	c := f.config(t, 3, db)
	c.Beacon, c.Logger = lag, testLogger("restarted")
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if n, last := r.PendingBeaconRefs(); n != 4 || last != 6 {
		t.Fatalf("pending beacon references: %d blocks up to slot %d, want 4 up to 6", n, last)
	}
	if h := r.Head(); h.Header.Slot != 2 {
		t.Fatalf("head at %d on a beacon chain at slot 2, want 2", h.Header.Slot)
	}

	lag.catchUp(f.beacon)
	_, st := lag.headState()
	if err := r.ObserveBeacon(st, false); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.PendingBeaconRefs(); n != 0 {
		t.Fatalf("%d blocks still pending after the beacon chain caught up", n)
	}
	if h := r.Head(); h.Root != head.Root {
		t.Fatalf("head %s at %d after the beacon chain caught up, want %s at 6", h.Root, h.Header.Slot, head.Root)
	}
}
