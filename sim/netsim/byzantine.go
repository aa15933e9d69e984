package netsim

import (
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// Byzantine validators. Each action signs with the hosting node's keys, so
// the messages are valid and only a slasher can tell they are offences.

// ErrByzantine is wrapped when a byzantine action cannot be staged.
var ErrByzantine = fmt.Errorf("%w: byzantine action", ErrInvalidConfig)

// Equivocate makes the proposer of slot (whichever node hosts it)
// equivocate: its block goes to half of its gossip neighbours and a second
// block for the same slot (other graffiti, validly signed) to the other
// half. Call it before the slot runs.
func (s *Sim) Equivocate(slot types.Slot) error {
	if slot < s.nextSlot || slot == 0 {
		return fmt.Errorf("equivocate at slot %d: %w: the slot has begun", slot, ErrByzantine)
	}
	for _, n := range s.nodes {
		n.intercept = func(topic string, data []byte) bool {
			if topic != p2p.BeaconBlockTopic {
				return false
			}
			a, err := types.DecodeBlock(s.pcfg, data)
			if err != nil || a.GetSlot() != slot {
				return false
			}
			s.disarm()
			b, err := n.h.EquivocatingBlock(a, fmt.Sprintf("netsim equivocation %d", n.index))
			if err != nil {
				n.log.Warn("equivocation failed", "slot", slot, "err", err)
				return false
			}
			second, err := b.MarshalSSZ()
			if err != nil {
				return false
			}
			n.log.Info("equivocating", "slot", slot)
			s.split(n.index, topic, data, second)
			return true
		}
	}
	return nil
}

// disarm removes every node's interceptor.
func (s *Sim) disarm() {
	for _, n := range s.nodes {
		n.intercept = nil
	}
}

// split sends one message to the even-numbered half of from's gossip
// neighbours and another to the rest; each then spreads on its own.
func (s *Sim) split(from int, topic string, one, other []byte) {
	ids := [2]msgID{newMsgID(topic, one), newMsgID(topic, other)}
	msgs := [2][]byte{one, other}
	n := s.nodes[from]
	n.seen[ids[0]], n.seen[ids[1]] = true, true
	for k, to := range s.meshOf(from) {
		data, id := msgs[k%2], ids[k%2]
		s.send(from, to, topic, data, len(data), func() { s.receive(to, from, topic, data, id) })
	}
}

// DoubleVote makes validator v cast, besides its honest vote of the
// current epoch, a second one for the same target with another head (its
// head's parent), a third of a slot into its duty slot. Call it at an
// epoch's start.
func (s *Sim) DoubleVote(v types.ValidatorIndex) error {
	return s.byzantineVote(v, handler.DoubleVote, s.slot/3+time.Millisecond)
}

// SurroundVote makes validator v vote, at the start of its duty slot of
// the current epoch, from the genesis checkpoint to the current target: it
// surrounds v's vote of the previous epoch (whose source is later than
// genesis once the chain justified). Call it at an epoch's start.
func (s *Sim) SurroundVote(v types.ValidatorIndex) error {
	return s.byzantineVote(v, handler.SurroundVote, time.Millisecond)
}

// byzantineVote schedules v's extra vote of kind at its duty slot of the
// current epoch plus offset; the host's handler builds and signs it
// (beacon/handler byzantine.go, as a real node's debug API does) and the
// host gossips it.
func (s *Sim) byzantineVote(v types.ValidatorIndex, kind handler.ByzantineVote, offset time.Duration) error {
	host := -1
	for i := range s.nodes {
		first, count, _ := s.ValidatorRange(i)
		if uint64(v) >= first && uint64(v) < first+count {
			host = i
		}
	}
	if host < 0 {
		return fmt.Errorf("%s as validator %d: %w: no such validator", kind, v, ErrByzantine)
	}
	n := s.nodes[host]
	slot, sc, err := n.h.ByzantineDuty(v, kind, s.nextSlot)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrByzantine, err)
	}
	s.At(time.Duration(slot)*s.slot+offset, func() {
		if n.down {
			return
		}
		a, err := n.h.ByzantineAttestation(v, slot, sc, kind)
		var data []byte
		if err == nil {
			data, err = a.MarshalSSZ()
		}
		if err != nil {
			n.log.Warn("byzantine vote failed", "validator", v, "err", err)
			return
		}
		n.log.Info("byzantine vote", "validator", v, "slot", slot, "kind", kind.String(), "source", a.Data.Source.Epoch, "target", a.Data.Target.Epoch)
		s.publish(n.index, p2p.BeaconAttestationTopic, data)
	})
	return nil
}
