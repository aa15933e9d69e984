package forkchoice

import (
	"errors"
	"testing"

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
