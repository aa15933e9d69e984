package clock

import (
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
)

// Slots does slot arithmetic for a chain: slot s starts at
// genesis + s * SECONDS_PER_SLOT. Slots before genesis do not exist: every
// time before genesis is reported as slot 0 with ok false. A Slots is
// immutable and safe for concurrent use.
type Slots struct {
	clock   Clock
	genesis time.Time
	slot    time.Duration
}

// NewSlots returns the slot arithmetic of a chain with the given genesis time
// (Unix seconds) and slot duration (SECONDS_PER_SLOT), reading time from c.
func NewSlots(c Clock, genesisTime, secondsPerSlot uint64) (*Slots, error) {
	if c == nil {
		return nil, fmt.Errorf("new slot clock: nil clock")
	}
	if secondsPerSlot == 0 || secondsPerSlot > uint64(24*time.Hour/time.Second) {
		return nil, fmt.Errorf("new slot clock: SECONDS_PER_SLOT %d out of range", secondsPerSlot)
	}
	if genesisTime > 1<<62/uint64(time.Second) {
		return nil, fmt.Errorf("new slot clock: genesis time %d out of range", genesisTime)
	}
	return &Slots{
		clock:   c,
		genesis: time.Unix(int64(genesisTime), 0),
		slot:    time.Duration(secondsPerSlot) * time.Second,
	}, nil
}

// Clock returns the underlying clock.
func (s *Slots) Clock() Clock { return s.clock }

// Now returns the clock's time.
func (s *Slots) Now() time.Time { return s.clock.Now() }

// Genesis returns the genesis time.
func (s *Slots) Genesis() time.Time { return s.genesis }

// SlotDuration returns SECONDS_PER_SLOT as a duration.
func (s *Slots) SlotDuration() time.Duration { return s.slot }

// SlotAt returns the slot at time t; ok is false before genesis (slot 0 is
// returned then).
func (s *Slots) SlotAt(t time.Time) (types.Slot, bool) {
	if t.Before(s.genesis) {
		return 0, false
	}
	return types.Slot(t.Sub(s.genesis) / s.slot), true
}

// CurrentSlot returns the slot at the clock's time; ok is false before
// genesis.
func (s *Slots) CurrentSlot() (types.Slot, bool) { return s.SlotAt(s.clock.Now()) }

// CurrentEpoch returns the epoch of the current slot (0 before genesis).
func (s *Slots) CurrentEpoch(slotsPerEpoch uint64) types.Epoch {
	slot, _ := s.CurrentSlot()
	return types.Epoch(uint64(slot) / slotsPerEpoch)
}

// SlotStart returns the time at which slot starts.
func (s *Slots) SlotStart(slot types.Slot) time.Time {
	return s.genesis.Add(time.Duration(slot) * s.slot)
}

// SinceGenesis returns the time elapsed since genesis (negative before).
func (s *Slots) SinceGenesis() time.Duration { return s.clock.Now().Sub(s.genesis) }

// UntilNextSlot returns the time left until the next slot starts (until
// genesis before genesis).
func (s *Slots) UntilNextSlot() time.Duration {
	now := s.clock.Now()
	if now.Before(s.genesis) {
		return s.genesis.Sub(now)
	}
	slot, _ := s.SlotAt(now)
	return s.SlotStart(slot + 1).Sub(now)
}

// SlotFraction returns how far into the current slot the clock is, in
// [0, 1) (0 before genesis).
func (s *Slots) SlotFraction() float64 {
	now := s.clock.Now()
	if now.Before(s.genesis) {
		return 0
	}
	into := now.Sub(s.genesis) % s.slot
	return float64(into) / float64(s.slot)
}

// Unix returns the clock's time in whole Unix seconds (rounded down; 0
// before 1970), the unit of the fork choice's on_tick.
func (s *Slots) Unix() uint64 {
	u := s.clock.Now().Unix()
	if u < 0 {
		return 0
	}
	return uint64(u)
}
