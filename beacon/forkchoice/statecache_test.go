package forkchoice

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// TestNewStateCacheBound checks that a bound below one is refused.
func TestNewStateCacheBound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries int
		ok      bool
	}{
		{"negative", -1, false},
		{"zero", 0, false},
		{"one", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewStateCache(tc.entries)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidArgument)) {
				t.Fatalf("NewStateCache(%d): %v", tc.entries, err)
			}
			if tc.ok && c.Stats().Capacity != tc.entries {
				t.Fatalf("capacity %d, want %d", c.Stats().Capacity, tc.entries)
			}
		})
	}
}

// TestStateCacheEviction checks the least-recently-used bound and the
// counters; a nil cache reports zeros.
func TestStateCacheEviction(t *testing.T) {
	c, err := NewStateCache(2)
	if err != nil {
		t.Fatal(err)
	}
	a, b, d := StateKey{1}, StateKey{2}, StateKey{3}
	sa, sb, sd := &types.BeaconState{Slot: 1}, &types.BeaconState{Slot: 2}, &types.BeaconState{Slot: 3}
	c.add(a, sa)
	c.add(b, sb)
	if st, ok := c.get(a); !ok || st != sa { // a is now the most recent
		t.Fatal("a not held")
	}
	c.add(d, sd) // evicts b
	if _, ok := c.get(b); ok {
		t.Fatal("b survived eviction")
	}
	if st, ok := c.get(d); !ok || st != sd {
		t.Fatal("d not held")
	}
	want := StateCacheStats{Hits: 2, Misses: 1, Adds: 3, Evictions: 1, Entries: 2, Capacity: 2}
	if got := c.Stats(); got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
	var none *StateCache
	if none.Stats() != (StateCacheStats{}) {
		t.Fatal("nil cache reports counters")
	}
}

// TestStateCacheViews checks that the cache hands out one view per state
// it holds, and a fresh one for any other state or once evicted.
func TestStateCacheViews(t *testing.T) {
	tr := core.New(params.Minimal())
	c, err := NewStateCache(1)
	if err != nil {
		t.Fatal(err)
	}
	held, other := &types.BeaconState{Slot: 1}, &types.BeaconState{Slot: 2}
	c.add(StateKey{1}, held)
	v := c.View(tr, held)
	if v.State() != held || c.View(tr, held) != v {
		t.Fatal("a held state does not get one shared view")
	}
	if w := c.View(tr, other); w == c.View(tr, other) || w.State() != other {
		t.Fatal("a state the cache does not hold got a shared view")
	}
	c.add(StateKey{2}, other) // evicts held
	if c.View(tr, held) == v {
		t.Fatal("an evicted state kept its shared view")
	}
	if w := c.View(tr, other); c.View(tr, other) != w {
		t.Fatal("the newly held state does not get one shared view")
	}
	var none *StateCache
	if none.View(tr, held) == none.View(tr, held) {
		t.Fatal("a nil cache shares views")
	}
}
