package core

import (
	"encoding/binary"
	"fmt"

	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	st "github.com/shardlab/shardlab/shard/types"
)

// BeaconView is what a shard block reads of the beacon state it references
// (the post-state of its beacon_block_root): the slot, the current
// crosslinks its claims prove receipts against, and past state roots (to
// prove a crosslink was in the state a challenge window earlier).
type BeaconView interface {
	Slot() bt.Slot
	CurrentCrosslink(shard bt.Shard) (bt.Crosslink, error)
	// StateRoot is state.state_roots[slot % SLOTS_PER_HISTORICAL_ROOT], for
	// slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT.
	StateRoot(slot bt.Slot) (bt.Root, error)
}

func checkStateRootSlot(slot, at bt.Slot, sphr uint64) error {
	if !(slot < at && uint64(at) <= uint64(slot)+sphr) {
		return invalid("state root of slot %d is not in the history of a state at slot %d", slot, at)
	}
	return nil
}

// FullBeaconView reads a full beacon state.
type FullBeaconView struct{ S *bt.BeaconState }

func (v FullBeaconView) Slot() bt.Slot { return v.S.Slot }

func (v FullBeaconView) CurrentCrosslink(shard bt.Shard) (bt.Crosslink, error) {
	if uint64(shard) >= uint64(len(v.S.CurrentCrosslinks)) {
		return bt.Crosslink{}, invalid("shard %d out of range", shard)
	}
	return v.S.CurrentCrosslinks[shard], nil
}

func (v FullBeaconView) StateRoot(slot bt.Slot) (bt.Root, error) {
	sphr := uint64(len(v.S.StateRoots))
	if err := checkStateRootSlot(slot, v.S.Slot, sphr); err != nil {
		return bt.Root{}, err
	}
	return v.S.StateRoots[uint64(slot)%sphr], nil
}

// WitnessBeaconView reads a multiproof of a beacon state; the slot comes
// from the beacon block header the proof carries.
type WitnessBeaconView struct {
	P          *hash.PartialTree // nil: the witness reveals no crosslink
	slot       bt.Slot
	shardCount uint64
	sphr       uint64
}

// NewWitnessBeaconView checks that the witness hashes to root (the beacon
// block's state root). An empty witness (no indices, leaves or helpers) is
// allowed for blocks without claims: then every crosslink read fails with
// ErrMissingWitness. A witness with only some of the three is checked like
// any other, and fails.
func NewWitnessBeaconView(w *st.Multiproof, root bt.Root, slot bt.Slot, shardCount, slotsPerHistoricalRoot uint64) (*WitnessBeaconView, error) {
	v := &WitnessBeaconView{slot: slot, shardCount: shardCount, sphr: slotsPerHistoricalRoot}
	if len(w.Indices) == 0 && len(w.Leaves) == 0 && len(w.Helpers) == 0 {
		return v, nil
	}
	p, err := NewWitnessView(w, root)
	if err != nil {
		return nil, fmt.Errorf("beacon witness: %w", err)
	}
	v.P = p.P
	return v, nil
}

func (v *WitnessBeaconView) Slot() bt.Slot { return v.slot }

func (v *WitnessBeaconView) CurrentCrosslink(shard bt.Shard) (bt.Crosslink, error) {
	if uint64(shard) >= v.shardCount {
		return bt.Crosslink{}, invalid("shard %d out of range", shard)
	}
	if v.P == nil {
		return bt.Crosslink{}, fmt.Errorf("%w: no beacon witness", ErrMissingWitness)
	}
	var c [5][32]byte
	for f := range c {
		chunk, err := v.P.Leaf(bt.GIndexCurrentCrosslinkField(v.shardCount, uint64(shard), f))
		if err != nil {
			return bt.Crosslink{}, fmt.Errorf("%w: crosslink of shard %d: %v", ErrMissingWitness, shard, err)
		}
		c[f] = chunk
	}
	return bt.Crosslink{
		Shard:      bt.Shard(binary.LittleEndian.Uint64(c[0][:8])),
		ParentRoot: c[1],
		StartEpoch: bt.Epoch(binary.LittleEndian.Uint64(c[2][:8])),
		EndEpoch:   bt.Epoch(binary.LittleEndian.Uint64(c[3][:8])),
		DataRoot:   c[4],
	}, nil
}

func (v *WitnessBeaconView) StateRoot(slot bt.Slot) (bt.Root, error) {
	if err := checkStateRootSlot(slot, v.slot, v.sphr); err != nil {
		return bt.Root{}, err
	}
	if v.P == nil {
		return bt.Root{}, fmt.Errorf("%w: no beacon witness", ErrMissingWitness)
	}
	r, err := v.P.Leaf(bt.GIndexStateRoot(v.sphr, slot))
	if err != nil {
		return bt.Root{}, fmt.Errorf("%w: state root of slot %d: %v", ErrMissingWitness, slot, err)
	}
	return r, nil
}

// RecordingBeaconView reads a full beacon state and notes the chunks read.
type RecordingBeaconView struct {
	FullBeaconView
	Touched map[uint64]bool
}

// NewRecordingBeaconView records over s.
func NewRecordingBeaconView(s *bt.BeaconState) *RecordingBeaconView {
	return &RecordingBeaconView{FullBeaconView: FullBeaconView{S: s}, Touched: make(map[uint64]bool)}
}

func (r *RecordingBeaconView) CurrentCrosslink(shard bt.Shard) (bt.Crosslink, error) {
	if uint64(shard) < uint64(len(r.S.CurrentCrosslinks)) {
		for f := 0; f < 5; f++ {
			r.Touched[bt.GIndexCurrentCrosslinkField(uint64(len(r.S.CurrentCrosslinks)), uint64(shard), f)] = true
		}
	}
	return r.FullBeaconView.CurrentCrosslink(shard)
}

func (r *RecordingBeaconView) StateRoot(slot bt.Slot) (bt.Root, error) {
	root, err := r.FullBeaconView.StateRoot(slot)
	if err == nil {
		r.Touched[bt.GIndexStateRoot(uint64(len(r.S.StateRoots)), slot)] = true
	}
	return root, err
}

// Indices returns the chunks read.
func (r *RecordingBeaconView) Indices() []uint64 {
	out := make([]uint64, 0, len(r.Touched))
	for g := range r.Touched {
		out = append(out, g)
	}
	return out
}
