package chain

import "github.com/shardlab/shardlab/beacon/types"

// EventKind says what an Event reports.
type EventKind int

const (
	// EventNewBlock: a block was imported (Root, Slot).
	EventNewBlock EventKind = iota + 1
	// EventNewHead: the head changed (Root, Slot); Reorg says whether the
	// previous head (PreviousHead) is not an ancestor of the new one, and
	// Depth how many canonical blocks the reorg replaced.
	EventNewHead
	// EventFinalized: the finalized checkpoint advanced (Checkpoint).
	EventFinalized
)

func (k EventKind) String() string {
	switch k {
	case EventNewBlock:
		return "new_block"
	case EventNewHead:
		return "new_head"
	case EventFinalized:
		return "finalized"
	}
	return "unknown"
}

// Event is one change of the chain, delivered to subscribers in the order
// the changes happened.
type Event struct {
	Kind EventKind
	Root types.Root
	Slot types.Slot
	// NewHead only.
	PreviousHead types.Root
	Reorg        bool
	Depth        int
	// Finalized only.
	Checkpoint types.Checkpoint
}

// Subscribe registers fn to receive every later event and returns a function
// that cancels the subscription. Events are delivered synchronously, in
// order, from the goroutine that caused them (ImportBlock, OnAttestation,
// OnTick), after the chain's lock is released: fn may read the Service
// (Head, Block, StateAt, ...), but must not call ImportBlock, OnAttestation
// or OnTick (that would deadlock) and should return quickly; hand work to
// another goroutine if needed.
func (s *Service) Subscribe(fn func(Event)) (cancel func()) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	return func() {
		s.subsMu.Lock()
		delete(s.subs, id)
		s.subsMu.Unlock()
	}
}

// unlockAndEmit releases s.mu and delivers events, keeping the order of
// changes across goroutines: emitMu is taken before s.mu is released.
func (s *Service) unlockAndEmit(events []Event) {
	if len(events) == 0 {
		s.mu.Unlock()
		return
	}
	s.emitMu.Lock()
	s.mu.Unlock()
	defer s.emitMu.Unlock()
	s.subsMu.Lock()
	fns := make([]func(Event), 0, len(s.subs))
	for _, fn := range s.subs {
		fns = append(fns, fn)
	}
	s.subsMu.Unlock()
	for _, ev := range events {
		for _, fn := range fns {
			fn(ev)
		}
	}
}
