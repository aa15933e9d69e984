package forkchoice

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// StateCache shares the post-states of fully validated blocks between
// stores, so that stores importing the same block (simulated nodes in one
// process) run its state transition once and hold one copy of its
// post-state. An entry is keyed by the block's full hash tree root (the
// signing root and the signature) and the parent's state root: the
// transition is a function of the pre-state and the block, so any store
// that would run it on the same inputs gets the same state.
//
// The states it holds and hands out are immutable: the fork choice never
// modifies a block's post-state (it copies before advancing one, and the
// chain service copies before handing one out), so stores may share them.
// A StateCache is bounded (least recently used entries go first) and safe
// for concurrent use, but the states it hands out are hashed lazily by
// their owners: stores sharing a cache must run on one goroutine, as the
// simulator's do. A nil *StateCache caches nothing. Real nodes have none.
type StateCache struct {
	mu      sync.Mutex
	cap     int
	order   *list.List // front = most recently used; values are *stateEntry
	entries map[StateKey]*list.Element
	byState map[*types.BeaconState]*stateEntry // the entries, by their state
	stats   StateCacheStats
	// skipped admits transitions run with signatures skipped: for runs
	// where no store checks any signature (fake BLS).
	skipped bool
}

// StateKey names a post-state: the block's hash tree root (signature
// included) and the state root of its parent's post-state.
type StateKey [32]byte

// stateEntry is one cached post-state.
type stateEntry struct {
	key   StateKey
	state *types.BeaconState
	view  *core.StateView // made on first use
}

// StateCacheStats are a StateCache's counters since it was made.
type StateCacheStats struct {
	Hits      uint64 // imports that reused a state
	Misses    uint64 // imports that ran the transition
	Adds      uint64 // states added
	Evictions uint64 // states dropped to respect the bound
	Entries   int    // states held now
	Capacity  int    // the bound on Entries
}

// NewStateCache returns an empty cache of at most entries states
// (entries < 1 is an error).
func NewStateCache(entries int) (*StateCache, error) {
	if entries < 1 {
		return nil, fmt.Errorf("create state cache: %w: %d entries", ErrInvalidArgument, entries)
	}
	return &StateCache{cap: entries, order: list.New(), entries: make(map[StateKey]*list.Element),
		byState: make(map[*types.BeaconState]*stateEntry)}, nil
}

// stateKeyOf names the post-state of b applied to the state whose root is
// parentStateRoot.
func stateKeyOf(b types.AnyBlock, parentStateRoot types.Root) (StateKey, error) {
	full, err := b.HashTreeRoot()
	if err != nil {
		return StateKey{}, fmt.Errorf("hash block: %w", err)
	}
	h := sha256.New()
	h.Write([]byte("forkchoice/post-state"))
	h.Write(full[:])
	h.Write(parentStateRoot[:])
	var k StateKey
	copy(k[:], h.Sum(nil))
	return k, nil
}

// advancedKeyOf names the state whose root is stateRoot advanced to slot
// by process_slots: a function of the state's content alone, whatever
// checked the block that produced it.
func advancedKeyOf(stateRoot types.Root, slot types.Slot) StateKey {
	h := sha256.New()
	h.Write([]byte("forkchoice/advanced-state"))
	h.Write(stateRoot[:])
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(slot))
	h.Write(b[:])
	var k StateKey
	copy(k[:], h.Sum(nil))
	return k
}

// checkpointKey names checkpoint_states[cp] in the shared cache: the
// post-state of cp.Root advanced to the start of cp.Epoch. ok is false
// without a cache, for an unknown root or an epoch whose start overflows.
func (s *Store) checkpointKey(cp types.Checkpoint, n *node) (StateKey, bool) {
	if s.states == nil || n == nil {
		return StateKey{}, false
	}
	start, ok := s.epochStartSlot(cp.Epoch)
	if !ok {
		return StateKey{}, false
	}
	return advancedKeyOf(n.block.GetStateRoot(), start), true
}

// SharedCheckpointState returns the checkpoint state of cp (cp.Root's
// post-state advanced to the start of cp.Epoch) if a store sharing the
// state cache computed it. The state is shared: callers must not modify it.
func (s *Store) SharedCheckpointState(cp types.Checkpoint) (*types.BeaconState, bool) {
	k, ok := s.checkpointKey(cp, s.nodes[cp.Root])
	if !ok {
		return nil, false
	}
	return s.states.get(k)
}

// ShareCheckpointState offers st, the checkpoint state of cp its caller
// computed from cp.Root's post-state in this store, to the stores sharing
// the state cache, and returns the one to keep: the equal state another
// store shared first (whose view the stores share), or st. The caller must
// not modify st afterwards.
func (s *Store) ShareCheckpointState(cp types.Checkpoint, st *types.BeaconState) *types.BeaconState {
	if k, ok := s.checkpointKey(cp, s.nodes[cp.Root]); ok {
		return s.states.add(k, st)
	}
	return st
}

// AdvancedState returns the post-state of the block root advanced to slot
// by process_slots (the post-state itself when it is at or past slot),
// for reading only: with a state cache it is shared with the other stores
// (computed once between them), without one it is the store's own state or
// a fresh copy. Callers must not modify it either way.
func (s *Store) AdvancedState(root types.Root, slot types.Slot) (*types.BeaconState, error) {
	n, ok := s.nodes[root]
	if !ok {
		return nil, fmt.Errorf("advance state of %s: %w: no block state", root, ErrMissingState)
	}
	if n.state.Slot >= slot {
		return n.state, nil
	}
	var key StateKey
	if s.states != nil {
		key = advancedKeyOf(n.block.GetStateRoot(), slot)
		if st, ok := s.states.get(key); ok {
			return st, nil
		}
	}
	st := n.state.Copy()
	if err := s.tr.ProcessSlots(st, slot); err != nil {
		return nil, fmt.Errorf("advance state of %s to slot %d: %w", root, slot, err)
	}
	if s.states != nil {
		st = s.states.add(key, st)
	}
	return st, nil
}

// get returns the state held under k, counting a hit or a miss.
func (c *StateCache) get(k StateKey) (*types.BeaconState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	c.stats.Hits++
	c.order.MoveToFront(e)
	return e.Value.(*stateEntry).state, true
}

// add holds st under k, evicting the least recently used state when full,
// and returns the state held: st, or the equal one another store added
// first. st must be the post-state of a fully validated transition and
// must not be modified afterwards.
func (c *StateCache) add(k StateKey, st *types.BeaconState) *types.BeaconState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*stateEntry).state
	}
	c.stats.Adds++
	e := &stateEntry{key: k, state: st}
	c.entries[k] = c.order.PushFront(e)
	c.byState[st] = e
	for c.order.Len() > c.cap {
		old := c.order.Back()
		c.order.Remove(old)
		oe := old.Value.(*stateEntry)
		delete(c.entries, oe.key)
		if c.byState[oe.state] == oe {
			delete(c.byState, oe.state)
		}
		c.stats.Evictions++
	}
	return st
}

// View returns a view of st (see core.StateView): for a state the cache
// holds, one view shared by every store, so that the committees of a shared
// checkpoint state are derived once per run, not once per store; for any
// other state (or a nil cache), a new view. Like the states, the shared
// views are for stores running on one goroutine.
func (c *StateCache) View(tr *core.Transition, st *types.BeaconState) *core.StateView {
	if c == nil {
		return tr.NewStateView(st)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byState[st]
	if !ok {
		return tr.NewStateView(st)
	}
	if e.view == nil {
		e.view = tr.NewStateView(st)
	}
	return e.view
}

// Stats returns the cache's counters; a nil cache reports zeros.
func (c *StateCache) Stats() StateCacheStats {
	if c == nil {
		return StateCacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries, s.Capacity = c.order.Len(), c.cap
	return s
}

// ShareUnverified lets c share the post-states of blocks imported with
// signatures skipped. Only for runs in which no store sharing c checks any
// signature (the simulator's fake BLS): otherwise a state computed without
// checking a signature would stand in for a full validation.
func (c *StateCache) ShareUnverified() { c.skipped = true } // before any store uses c

// shares reports whether a transition under sigs reads and fills c.
func (c *StateCache) shares(sigs core.Sigs) bool {
	return c != nil && (sigs.Verifying() || (c.skipped && sigs.Skipping()))
}

// UseStateCache makes s consult c before running a block's transition and
// record there the post-states of blocks it validated in full (signatures
// checked). nil turns sharing off.
func (s *Store) UseStateCache(c *StateCache) { s.states = c }
