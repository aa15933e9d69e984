package netsim

import (
	"fmt"
	"math"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// This file is the fault and observation API the scenario layer
// (sim/scenario) drives between slots: crash and restart nodes, take their
// validators offline, change the links, and read each node's view.

// NodeCount is the number of simulated nodes.
func (s *Sim) NodeCount() int { return len(s.nodes) }

// ChainConfig is the chain config the nodes run.
func (s *Sim) ChainConfig() *params.Config { return s.pcfg }

// SlotDuration is the length of a slot.
func (s *Sim) SlotDuration() time.Duration { return s.slot }

// TraceHash is the trace hash of everything delivered so far.
func (s *Sim) TraceHash() [32]byte { return s.trace.sum() }

// NetStats is the network's traffic so far.
func (s *Sim) NetStats() Stats { return s.stats }

// NodeStatus is one node's view of the chain.
type NodeStatus struct {
	// Up is false while the node is crashed; Duties is false while its
	// validators are offline.
	Up, Duties bool
	Head       types.Root
	HeadSlot   types.Slot
	// Justified and Finalized are the node's checkpoint epochs.
	Justified, Finalized types.Epoch
	// Participation is the previous epoch's target participation by the
	// node's head state (0 before there is a previous epoch).
	Participation float64
}

// Status returns node i's view (as of its last state before a crash).
func (s *Sim) Status(i int) (NodeStatus, error) {
	n, err := s.node(i)
	if err != nil {
		return NodeStatus{}, err
	}
	head, slot := n.chain.Head()
	return NodeStatus{
		Up: !n.down, Duties: !n.idle, Head: head, HeadSlot: slot,
		Justified: n.chain.Justified().Epoch, Finalized: n.chain.Finalized().Epoch,
		Participation: s.tr.PreviousEpochParticipation(n.chain.HeadState()),
	}, nil
}

// HeadState is node i's head state (not to be modified).
func (s *Sim) HeadState(i int) (*types.BeaconState, error) {
	n, err := s.node(i)
	if err != nil {
		return nil, err
	}
	return n.chain.HeadState(), nil
}

// ValidatorRange is the first validator index node i hosts and how many
// (none on a shard node: the beacon nodes split the validators).
func (s *Sim) ValidatorRange(i int) (first, count uint64, err error) {
	n, err := s.node(i)
	if err != nil || n.keys == nil {
		return 0, 0, err
	}
	return n.keys.Start(), uint64(n.keys.Len()), nil
}

func (s *Sim) node(i int) (*node, error) {
	if i < 0 || i >= len(s.nodes) {
		return nil, fmt.Errorf("select node: %w: node %d of %d", ErrInvalidConfig, i, len(s.nodes))
	}
	return s.nodes[i], nil
}

// SetLatency changes every link's delay from now on (messages in flight
// keep theirs).
func (s *Sim) SetLatency(l Latency) error {
	if err := l.validate(); err != nil {
		return err
	}
	s.cfg.Latency = l
	return nil
}

// SetLoss changes the per-message loss probability from now on.
func (s *Sim) SetLoss(p float64) error {
	if p < 0 || p >= 1 || math.IsNaN(p) {
		return fmt.Errorf("set loss: %w: %v not in [0, 1)", ErrInvalidConfig, p)
	}
	s.cfg.Loss = p
	return nil
}

// SetDuties turns node i's validators on or off: an offline node still
// follows the clock and imports what it receives, but neither proposes nor
// attests.
func (s *Sim) SetDuties(i int, on bool) error {
	n, err := s.node(i)
	if err != nil {
		return err
	}
	n.idle = !on
	return nil
}

// Crash stops node i at once, as kill -9 would: it receives nothing, its
// timers and slot work stop and messages to it are lost. Its database
// survives for Restart.
func (s *Sim) Crash(i int) error {
	n, err := s.node(i)
	if err != nil {
		return err
	}
	if n.down {
		return fmt.Errorf("crash node %d: %w: already down", i, ErrInvalidConfig)
	}
	n.down = true
	n.gen++
	return nil
}

// Restart starts a crashed node i again from its database: a new chain
// service and handler resume from the stored chain, forget the gossip seen
// before, and exchange statuses with every peer to catch up.
func (s *Sim) Restart(i int) error {
	n, err := s.node(i)
	if err != nil {
		return err
	}
	if !n.down {
		return fmt.Errorf("restart node %d: %w: not crashed", i, ErrInvalidConfig)
	}
	if err := n.open(s.tr, s.genesisState); err != nil {
		return fmt.Errorf("restart node %d: %w", i, err)
	}
	n.down = false
	n.seen = make(map[msgID]bool)
	s.forgetScores(i) // a new process keeps no scores or bans (score.go)
	for _, p := range s.peersOf(i) {
		n.h.OnPeerConnected(p)
	}
	return nil
}

// LinkFault degrades every message to or from one node, on top of the
// network's latency and loss (as tc netem on the node's interface would).
type LinkFault struct {
	// Delay is added to each message's latency.
	Delay Latency
	// Loss is the extra probability that a message is lost.
	Loss float64
}

// SetLinkFault degrades node i's traffic from now on; the zero LinkFault
// lifts it. A message between two degraded nodes gets both.
func (s *Sim) SetLinkFault(i int, f LinkFault) error {
	if _, err := s.node(i); err != nil {
		return err
	}
	if err := f.Delay.validate(); err != nil {
		return err
	}
	if f.Loss < 0 || f.Loss >= 1 || math.IsNaN(f.Loss) {
		return fmt.Errorf("set link fault: %w: loss %v not in [0, 1)", ErrInvalidConfig, f.Loss)
	}
	if s.linkFaults == nil {
		s.linkFaults = make(map[int]LinkFault)
	}
	if f == (LinkFault{}) {
		delete(s.linkFaults, i)
		return nil
	}
	s.linkFaults[i] = f
	return nil
}

// linkFaultLost draws the link faults' loss of a message (no draw when
// neither end is degraded, so runs without link faults keep their trace).
func (s *Sim) linkFaultLost(from, to int) bool {
	for _, i := range [2]int{from, to} {
		if f, ok := s.linkFaults[i]; ok && f.Loss > 0 && s.rng.Float64() < f.Loss {
			return true
		}
	}
	return false
}

// linkFaultDelay draws the link faults' extra delay of a message.
func (s *Sim) linkFaultDelay(from, to int) time.Duration {
	var d time.Duration
	for _, i := range [2]int{from, to} {
		if f, ok := s.linkFaults[i]; ok {
			d += f.Delay.sample(s.rng)
		}
	}
	return d
}
