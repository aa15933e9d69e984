package netsim

import (
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/store/kv"
)

// Late joins and clock skew (the scenario actions late_join and
// clock_skew).

// Hold keeps node i out of the run from now until Join, as a node not yet
// started: it receives nothing and its validators miss their duties. Call
// it before the run for a node that joins late.
func (s *Sim) Hold(i int) error {
	if err := s.Crash(i); err != nil {
		return fmt.Errorf("hold node %d: %w", i, err)
	}
	return nil
}

// Join starts a held (or crashed) node i afresh, as a new process with an
// empty data directory: a new in-memory database, a chain from genesis and
// new handlers. It connects to its peers and syncs from them (status
// exchange and range sync, and for a shard node the shard handler's sync).
func (s *Sim) Join(i int) error {
	n, err := s.node(i)
	if err != nil {
		return err
	}
	if !n.down {
		return fmt.Errorf("join node %d: %w: it is running", i, ErrInvalidConfig)
	}
	db, err := kv.OpenPebbleMem()
	if err != nil {
		return fmt.Errorf("join node %d: open database: %w", i, err)
	}
	// The old database stays open until Close: answers to the old
	// incarnation's requests may still reach its handler.
	n.retired = append(n.retired, n.db)
	n.db = db
	return s.Restart(i)
}

// SetClockSkew sets node i's clock offset from now on: with a positive
// offset its clock is ahead (it starts its slots early, by the offset),
// with a negative one behind (late). Its handlers read the skewed time
// (Env.Now). The offset must be less than a slot either way.
func (s *Sim) SetClockSkew(i int, offset time.Duration) error {
	n, err := s.node(i)
	if err != nil {
		return err
	}
	if offset <= -s.slot || offset >= s.slot {
		return fmt.Errorf("set clock skew of node %d: %w: offset %s, expected less than a slot (%s) either way", i, ErrInvalidConfig, offset, s.slot)
	}
	n.skew = offset
	return nil
}

// ClockSkew is node i's clock offset (SetClockSkew).
func (s *Sim) ClockSkew(i int) (time.Duration, error) {
	n, err := s.node(i)
	if err != nil {
		return 0, err
	}
	return n.skew, nil
}
