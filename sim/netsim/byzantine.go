package netsim

import (
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
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
			pre, ok := n.chain.StateAt(a.GetParentRoot())
			if !ok {
				return false
			}
			var graffiti types.Root
			copy(graffiti[:], fmt.Sprintf("netsim equivocation %d", n.index))
			b, _, err := validator.ProduceAnyBlock(s.tr, pre, slot, n.keys, validator.Proposal{Graffiti: graffiti})
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
	for k, to := range s.net.mesh[from] {
		data, id := msgs[k%2], ids[k%2]
		s.send(from, to, topic, data, len(data), func() { s.receive(to, from, topic, data, id) })
	}
}

// DoubleVote makes validator v cast, besides its honest vote of the
// current epoch, a second one for the same target with another head (its
// head's parent), a third of a slot later. Call it at an epoch's start.
func (s *Sim) DoubleVote(v types.ValidatorIndex) error {
	return s.byzantineVote(v, s.slot/3+time.Millisecond, func(n *node, d *types.AttestationData) error {
		b, ok := n.chain.Block(d.BeaconBlockRoot)
		if !ok {
			return fmt.Errorf("head block %x gone", d.BeaconBlockRoot[:4])
		}
		d.BeaconBlockRoot = b.GetParentRoot()
		return nil
	})
}

// SurroundVote makes validator v vote, at the start of its duty slot of
// the current epoch, from the genesis checkpoint to the current target: it
// surrounds v's vote of the previous epoch (whose source is later than
// genesis once the chain justified). Call it at an epoch's start.
func (s *Sim) SurroundVote(v types.ValidatorIndex) error {
	return s.byzantineVote(v, time.Millisecond, func(n *node, d *types.AttestationData) error {
		if d.Source.Epoch == 0 {
			return fmt.Errorf("source is genesis already: nothing to surround")
		}
		d.Source = types.Checkpoint{Epoch: 0, Root: n.chain.GenesisRoot()}
		return nil
	})
}

// byzantineVote schedules v's extra vote at its duty slot of the current
// epoch plus offset: the honest attestation data of that slot on the host's
// head, changed by mutate, signed by v alone and gossiped by the host.
func (s *Sim) byzantineVote(v types.ValidatorIndex, offset time.Duration, mutate func(*node, *types.AttestationData) error) error {
	host := -1
	for i := range s.nodes {
		first, count, _ := s.ValidatorRange(i)
		if uint64(v) >= first && uint64(v) < first+count {
			host = i
		}
	}
	if host < 0 {
		return fmt.Errorf("vote as validator %d: %w: no such validator", v, ErrByzantine)
	}
	n := s.nodes[host]
	spe := types.Slot(s.pcfg.SlotsPerEpoch)
	start := s.nextSlot - s.nextSlot%spe
	st := n.chain.HeadState().Copy()
	if st.Slot < start {
		if err := s.tr.ProcessSlots(st, start); err != nil {
			return fmt.Errorf("vote as validator %d: %w", v, err)
		}
	}
	for slot := start; slot < start+spe; slot++ {
		coms, err := validator.SlotCommittees(s.tr, st, slot)
		if err != nil {
			return fmt.Errorf("vote as validator %d: %w", v, err)
		}
		for _, sc := range coms {
			for _, m := range sc.Committee {
				if m != v {
					continue
				}
				if slot < s.nextSlot {
					return fmt.Errorf("vote as validator %d: %w: its duty slot %d has begun", v, ErrByzantine, slot)
				}
				s.At(time.Duration(slot)*s.slot+offset, func() {
					s.castByzantine(n, v, slot, sc, mutate)
				})
				return nil
			}
		}
	}
	return fmt.Errorf("vote as validator %d: %w: not in a committee this epoch", v, ErrByzantine)
}

// castByzantine builds, signs and gossips the extra vote.
func (s *Sim) castByzantine(n *node, v types.ValidatorIndex, slot types.Slot, sc validator.SlotCommittee, mutate func(*node, *types.AttestationData) error) {
	if n.down {
		return
	}
	head, _ := n.chain.Head()
	st := n.chain.HeadState().Copy()
	if st.Slot < slot {
		if err := s.tr.ProcessSlots(st, slot); err != nil {
			n.log.Warn("byzantine vote failed", "validator", v, "err", err)
			return
		}
	}
	d, err := validator.ProduceAttestationData(s.tr, st, head, slot, sc.Shard)
	if err == nil {
		err = mutate(n, d)
	}
	var a *types.Attestation
	if err == nil {
		a, err = validator.SignAttestation(s.tr, st, d, sc.Committee, v, n.keys)
	}
	var data []byte
	if err == nil {
		data, err = a.MarshalSSZ()
	}
	if err != nil {
		n.log.Warn("byzantine vote failed", "validator", v, "err", err)
		return
	}
	n.log.Info("byzantine vote", "validator", v, "slot", slot, "source", d.Source.Epoch, "target", d.Target.Epoch)
	s.publish(n.index, p2p.BeaconAttestationTopic, data)
}
