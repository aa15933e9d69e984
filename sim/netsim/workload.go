package netsim

import (
	"fmt"
	"math"
	"time"
)

// SetWorkload changes the transaction workload from now on: rate transfers
// a second (0 stops it) with a cross share of them to another shard. The
// next transaction comes 1/rate after now. It needs shard nodes.
func (s *Sim) SetWorkload(rate, cross float64) error {
	switch {
	case s.cfg.Shard.Nodes == 0:
		return fmt.Errorf("set workload: %w: no shard nodes", ErrInvalidConfig)
	case rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0):
		return fmt.Errorf("set workload: %w: rate %v", ErrInvalidConfig, rate)
	case cross < 0 || cross > 1 || math.IsNaN(cross):
		return fmt.Errorf("set workload: %w: cross-shard share %v not in [0, 1]", ErrInvalidConfig, cross)
	}
	s.sh.txGen++ // drops the pending transaction of the old rate
	s.cfg.Shard.TxRate, s.cfg.Shard.CrossShard = rate, cross
	if rate == 0 {
		return nil
	}
	if err := s.initWorkload(); err != nil {
		return fmt.Errorf("set workload: %w", err)
	}
	s.scheduleTx(s.loop.now.Add(time.Duration(float64(time.Second) / rate)))
	return nil
}

// Workload is the current transaction rate and cross-shard share, and the
// transactions accepted so far.
func (s *Sim) Workload() (rate, cross float64, accepted uint64) {
	return s.cfg.Shard.TxRate, s.cfg.Shard.CrossShard, s.sh.txAccepted
}
