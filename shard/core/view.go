package core

import (
	"encoding/binary"
	"fmt"

	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	st "github.com/shardlab/shardlab/shard/types"
)

// StateView is what executing a shard block reads and writes of the shard
// state. Three implementations share one execution function (execute.go):
// the full state of a shard node, a witness (a multiproof of the pre-state)
// for the stateless fraud-proof verifier, and a recorder that notes which
// chunks a block touches so that a fisherman can build that witness.
type StateView interface {
	Shard() (bt.Shard, error)
	Slot() (bt.Slot, error)
	SetSlot(bt.Slot) error
	BeaconSlot() (bt.Slot, error)
	SetBeaconSlot(bt.Slot) error
	Account(j uint64) (st.Account, error)
	SetAccount(j uint64, a st.Account) error
	Outbox(dst uint64) (uint64, error)
	SetOutbox(dst, n uint64) error
	Inbox(src uint64) (uint64, error)
	SetInbox(src, n uint64) error
	Root() (bt.Root, error)
}

// FullView executes on a full shard state, modified in place.
type FullView struct{ S *st.ShardState }

func (v FullView) Shard() (bt.Shard, error)     { return v.S.Shard, nil }
func (v FullView) Slot() (bt.Slot, error)       { return v.S.Slot, nil }
func (v FullView) SetSlot(s bt.Slot) error      { v.S.Slot = s; return nil }
func (v FullView) BeaconSlot() (bt.Slot, error) { return v.S.BeaconSlot, nil }
func (v FullView) SetBeaconSlot(s bt.Slot) error {
	v.S.BeaconSlot = s
	return nil
}

func (v FullView) Account(j uint64) (st.Account, error) {
	if j >= uint64(len(v.S.Accounts)) {
		return st.Account{}, invalid("account %d does not exist (%d accounts)", j, len(v.S.Accounts))
	}
	return v.S.Accounts[j], nil
}

func (v FullView) SetAccount(j uint64, a st.Account) error {
	if j >= uint64(len(v.S.Accounts)) {
		return invalid("account %d does not exist", j)
	}
	v.S.SetAccount(j, a)
	return nil
}

func (v FullView) Outbox(dst uint64) (uint64, error) { return nonceAt(v.S.OutboxNonces, dst) }
func (v FullView) Inbox(src uint64) (uint64, error)  { return nonceAt(v.S.InboxNonces, src) }
func (v FullView) SetOutbox(dst, n uint64) error     { return setNonce(v.S.OutboxNonces, dst, n) }
func (v FullView) SetInbox(src, n uint64) error      { return setNonce(v.S.InboxNonces, src, n) }
func (v FullView) Root() (bt.Root, error)            { return v.S.HashTreeRoot() }

func nonceAt(l []uint64, i uint64) (uint64, error) {
	if i >= uint64(len(l)) {
		return 0, invalid("shard %d out of range", i)
	}
	return l[i], nil
}

func setNonce(l []uint64, i, n uint64) error {
	if i >= uint64(len(l)) {
		return invalid("shard %d out of range", i)
	}
	l[i] = n
	return nil
}

// WitnessView executes on a multiproof of a pre-state. Reading or writing a
// chunk the witness does not reveal fails with ErrMissingWitness.
type WitnessView struct{ P *hash.PartialTree }

// NewWitnessView checks that the witness hashes to root.
func NewWitnessView(w *st.Multiproof, root bt.Root) (*WitnessView, error) {
	leaves := make([][32]byte, len(w.Leaves))
	for i := range w.Leaves {
		leaves[i] = w.Leaves[i]
	}
	helpers := make([][32]byte, len(w.Helpers))
	for i := range w.Helpers {
		helpers[i] = w.Helpers[i]
	}
	p, err := hash.NewPartialTree(w.Indices, leaves, helpers)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
	}
	got, err := p.Root()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
	}
	if got != root {
		return nil, fmt.Errorf("%w: witness root %s, expected %s", ErrInvalidFraudProof, bt.Root(got), root)
	}
	return &WitnessView{P: p}, nil
}

func (w *WitnessView) u64(g uint64) (uint64, error) {
	c, err := w.P.Leaf(g)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrMissingWitness, err)
	}
	return binary.LittleEndian.Uint64(c[:8]), nil
}

func (w *WitnessView) setU64(g, v uint64) error {
	c, err := w.P.Leaf(g)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMissingWitness, err)
	}
	binary.LittleEndian.PutUint64(c[:8], v)
	return w.P.SetLeaf(g, c)
}

func (w *WitnessView) Shard() (bt.Shard, error) {
	v, err := w.u64(st.GIndexShard)
	return bt.Shard(v), err
}
func (w *WitnessView) Slot() (bt.Slot, error) {
	v, err := w.u64(st.GIndexSlot)
	return bt.Slot(v), err
}
func (w *WitnessView) SetSlot(s bt.Slot) error { return w.setU64(st.GIndexSlot, uint64(s)) }
func (w *WitnessView) BeaconSlot() (bt.Slot, error) {
	v, err := w.u64(st.GIndexBeaconSlot)
	return bt.Slot(v), err
}
func (w *WitnessView) SetBeaconSlot(s bt.Slot) error {
	return w.setU64(st.GIndexBeaconSlot, uint64(s))
}

func (w *WitnessView) Account(j uint64) (st.Account, error) {
	if j >= 1<<32 {
		return st.Account{}, invalid("account %d out of range", j)
	}
	var a st.Account
	pk, err := w.P.Leaf(st.GIndexAccountField(j, st.AccountFieldPubkey))
	if err != nil {
		return a, fmt.Errorf("%w: account %d: %v", ErrMissingWitness, j, err)
	}
	a.Pubkey = pk
	bal, err := w.u64(st.GIndexAccountField(j, st.AccountFieldBalance))
	if err != nil {
		return a, err
	}
	a.Balance = bt.Gwei(bal)
	if a.Nonce, err = w.u64(st.GIndexAccountField(j, st.AccountFieldNonce)); err != nil {
		return a, err
	}
	return a, nil
}

func (w *WitnessView) SetAccount(j uint64, a st.Account) error {
	if err := w.P.SetLeaf(st.GIndexAccountField(j, st.AccountFieldPubkey), a.Pubkey); err != nil {
		return fmt.Errorf("%w: %v", ErrMissingWitness, err)
	}
	if err := w.setU64(st.GIndexAccountField(j, st.AccountFieldBalance), uint64(a.Balance)); err != nil {
		return err
	}
	return w.setU64(st.GIndexAccountField(j, st.AccountFieldNonce), a.Nonce)
}

func (w *WitnessView) nonce(chunk func(uint64) uint64, i uint64) (uint64, error) {
	if i >= 1024 {
		return 0, invalid("shard %d out of range", i)
	}
	c, err := w.P.Leaf(chunk(i))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrMissingWitness, err)
	}
	return binary.LittleEndian.Uint64(c[8*(i%4):]), nil
}

func (w *WitnessView) setNonce(chunk func(uint64) uint64, i, n uint64) error {
	if i >= 1024 {
		return invalid("shard %d out of range", i)
	}
	c, err := w.P.Leaf(chunk(i))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMissingWitness, err)
	}
	binary.LittleEndian.PutUint64(c[8*(i%4):], n)
	return w.P.SetLeaf(chunk(i), c)
}

func (w *WitnessView) Outbox(dst uint64) (uint64, error) { return w.nonce(st.GIndexOutbox, dst) }
func (w *WitnessView) Inbox(src uint64) (uint64, error)  { return w.nonce(st.GIndexInbox, src) }
func (w *WitnessView) SetOutbox(dst, n uint64) error     { return w.setNonce(st.GIndexOutbox, dst, n) }
func (w *WitnessView) SetInbox(src, n uint64) error      { return w.setNonce(st.GIndexInbox, src, n) }
func (w *WitnessView) Root() (bt.Root, error) {
	r, err := w.P.Root()
	return bt.Root(r), err
}

// RecordingView executes on a full state (usually a scratch copy) and
// remembers the generalized index of every chunk it reads or writes: the
// leaves a witness of the pre-state must reveal.
type RecordingView struct {
	FullView
	Touched map[uint64]bool
}

// NewRecordingView records over s.
func NewRecordingView(s *st.ShardState) *RecordingView {
	return &RecordingView{FullView: FullView{S: s}, Touched: make(map[uint64]bool)}
}

func (r *RecordingView) note(gs ...uint64) {
	for _, g := range gs {
		r.Touched[g] = true
	}
}

func (r *RecordingView) Shard() (bt.Shard, error) { r.note(st.GIndexShard); return r.FullView.Shard() }
func (r *RecordingView) Slot() (bt.Slot, error)   { r.note(st.GIndexSlot); return r.FullView.Slot() }
func (r *RecordingView) SetSlot(s bt.Slot) error  { r.note(st.GIndexSlot); return r.FullView.SetSlot(s) }
func (r *RecordingView) BeaconSlot() (bt.Slot, error) {
	r.note(st.GIndexBeaconSlot)
	return r.FullView.BeaconSlot()
}
func (r *RecordingView) SetBeaconSlot(s bt.Slot) error {
	r.note(st.GIndexBeaconSlot)
	return r.FullView.SetBeaconSlot(s)
}
func (r *RecordingView) account(j uint64) {
	if j < 1<<32 {
		r.note(st.GIndexAccountField(j, 0), st.GIndexAccountField(j, 1), st.GIndexAccountField(j, 2))
	}
}
func (r *RecordingView) Account(j uint64) (st.Account, error) {
	r.account(j)
	return r.FullView.Account(j)
}
func (r *RecordingView) SetAccount(j uint64, a st.Account) error {
	r.account(j)
	return r.FullView.SetAccount(j, a)
}
func (r *RecordingView) Outbox(dst uint64) (uint64, error) {
	r.note(st.GIndexOutbox(dst))
	return r.FullView.Outbox(dst)
}
func (r *RecordingView) SetOutbox(dst, n uint64) error {
	r.note(st.GIndexOutbox(dst))
	return r.FullView.SetOutbox(dst, n)
}
func (r *RecordingView) Inbox(src uint64) (uint64, error) {
	r.note(st.GIndexInbox(src))
	return r.FullView.Inbox(src)
}
func (r *RecordingView) SetInbox(src, n uint64) error {
	r.note(st.GIndexInbox(src))
	return r.FullView.SetInbox(src, n)
}

// Indices returns the touched chunks.
func (r *RecordingView) Indices() []uint64 {
	out := make([]uint64, 0, len(r.Touched))
	for g := range r.Touched {
		out = append(out, g)
	}
	return out
}
