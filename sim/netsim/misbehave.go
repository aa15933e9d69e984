package netsim

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
)

// Validator-level faults and misbehaviour, set per validator (not per
// node) and carried out by the production handler through its Behaviour
// hooks: a validator offline, withholding its attestations, or voting for
// a wrong head; and proposers that censor chosen validators' attestations.

// Misbehaviour is what a validator does wrong.
type Misbehaviour int

// The validator misbehaviours.
const (
	// Offline does no duty.
	Offline Misbehaviour = iota
	// Withhold attests but keeps the attestations to its own node.
	Withhold
	// WrongHead votes for its head's parent.
	WrongHead
	numMisbehaviours
)

var misbehaviourNames = [...]string{"offline", "withhold", "wrong head"}

func (m Misbehaviour) String() string {
	if m < 0 || m >= numMisbehaviours {
		return fmt.Sprintf("Misbehaviour(%d)", int(m))
	}
	return misbehaviourNames[m]
}

// misbehaviour is the run's validator-level state.
type misbehaviour struct {
	sets [numMisbehaviours]map[types.ValidatorIndex]bool
	// censor[i] are the validators node i's proposers leave out.
	censor map[int]map[types.ValidatorIndex]bool
}

// SetMisbehaviour turns m on (or off) for validators; it takes effect at
// the validators' next duty.
func (s *Sim) SetMisbehaviour(m Misbehaviour, on bool, validators []types.ValidatorIndex) error {
	if m < 0 || m >= numMisbehaviours {
		return fmt.Errorf("set misbehaviour: %w: %v", ErrInvalidConfig, m)
	}
	set := &s.bad.sets[m]
	if *set == nil {
		*set = make(map[types.ValidatorIndex]bool)
	}
	for _, v := range validators {
		if on {
			(*set)[v] = true
		} else {
			delete(*set, v)
		}
	}
	return nil
}

// Censor makes the proposers of node i leave out (on true) or include
// again every attestation counting one of validators.
func (s *Sim) Censor(i int, on bool, validators []types.ValidatorIndex) error {
	if _, err := s.node(i); err != nil {
		return err
	}
	if s.bad.censor == nil {
		s.bad.censor = make(map[int]map[types.ValidatorIndex]bool)
	}
	if s.bad.censor[i] == nil {
		s.bad.censor[i] = make(map[types.ValidatorIndex]bool)
	}
	for _, v := range validators {
		if on {
			s.bad.censor[i][v] = true
		} else {
			delete(s.bad.censor[i], v)
		}
	}
	return nil
}

// behaviour is node n's handler.Behaviour, reading the run's state at each
// duty (so later changes apply, and survive restarts).
func (s *Sim) behaviour(n *node) handler.Behaviour {
	in := func(m Misbehaviour) func(types.ValidatorIndex) bool {
		return func(v types.ValidatorIndex) bool { return s.bad.sets[m][v] }
	}
	return handler.Behaviour{
		Offline: in(Offline), Withhold: in(Withhold), WrongHead: in(WrongHead),
		Censor: func(v types.ValidatorIndex) bool { return s.bad.censor[n.index][v] },
	}
}
