package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shardlab/shardlab/beacon/store/kv"
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// ErrNotFound is wrapped by the getters for a missing entry.
var ErrNotFound = kv.ErrNotFound

// ErrGenesisMismatch is returned by Open when the database holds another
// genesis for the shard.
var ErrGenesisMismatch = errors.New("shard genesis mismatch")

// KeyConfig is the key, outside every shard's namespace, under which the
// shard node records the consensus config of the database (beacon/store
// BindConsensus).
var KeyConfig = []byte("meta/config")

// Key prefixes (see the package documentation).
const (
	keyGenesis   = "g"
	keyAnchor    = "a"
	keyHead      = "h"
	preBlock     = 'b'
	preReceipts  = 'r'
	preState     = 's'
	preCanonical = 'c'
	preCrosslink = 'x'
	preInvalid   = 'i'
)

// Store is one shard's view of the database. It is safe for concurrent use
// (the database is); callers serialise the writes that must agree.
type Store struct {
	db    kv.DB
	shard bt.Shard
}

// Open returns the store of shard on db (namespaced by the shard number)
// and checks, or records on a fresh database, the shard's genesis header.
// fresh reports whether the shard had no data.
func Open(db kv.DB, shard bt.Shard, genesis st.ShardBlockHeader) (s *Store, fresh bool, err error) {
	var p [14]byte
	copy(p[:], "shard/")
	binary.BigEndian.PutUint64(p[6:], uint64(shard))
	s = &Store{db: kv.Prefix(db, p[:]), shard: shard}
	stored, err := s.db.Get([]byte(keyGenesis))
	switch {
	case errors.Is(err, kv.ErrNotFound):
		buf, err := genesis.MarshalSSZ()
		if err != nil {
			return nil, false, fmt.Errorf("encode shard %d genesis: %w", shard, err)
		}
		if err := s.db.Put([]byte(keyGenesis), buf); err != nil {
			return nil, false, fmt.Errorf("save shard %d genesis: %w", shard, err)
		}
		return s, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("read shard %d genesis: %w", shard, err)
	}
	var h st.ShardBlockHeader
	if err := bt.Decode(&h, stored); err != nil {
		return nil, false, fmt.Errorf("decode shard %d genesis: %w", shard, err)
	}
	if h.SigningRoot() != genesis.SigningRoot() {
		return nil, false, fmt.Errorf("open shard %d: %w: stored %s, configured %s", shard, ErrGenesisMismatch, h.SigningRoot(), genesis.SigningRoot())
	}
	return s, false, nil
}

func rootKey(prefix byte, root bt.Root) []byte {
	return append([]byte{prefix}, root[:]...)
}

func slotKey(slot bt.Slot) []byte {
	k := make([]byte, 9)
	k[0] = preCanonical
	binary.BigEndian.PutUint64(k[1:], uint64(slot))
	return k
}

func (s *Store) getRoot(key string) (bt.Root, error) {
	v, err := s.db.Get([]byte(key))
	if err != nil {
		return bt.Root{}, err
	}
	if len(v) != 32 {
		return bt.Root{}, fmt.Errorf("shard %d %s: %d bytes, want 32", s.shard, key, len(v))
	}
	return bt.Root(v), nil
}

// Anchor returns the stored anchor root (ErrNotFound on a fresh store).
func (s *Store) Anchor() (bt.Root, error) { return s.getRoot(keyAnchor) }

// Head returns the stored head root (ErrNotFound on a fresh store).
func (s *Store) Head() (bt.Root, error) { return s.getRoot(keyHead) }

// Block returns a stored block and its receipts.
func (s *Store) Block(root bt.Root) (*st.ShardBlock, []st.Receipt, error) {
	buf, err := s.db.Get(rootKey(preBlock, root))
	if err != nil {
		return nil, nil, fmt.Errorf("read shard block %s: %w", root, err)
	}
	b := new(st.ShardBlock)
	if err := bt.Decode(b, buf); err != nil {
		return nil, nil, fmt.Errorf("decode shard block %s: %w", root, err)
	}
	rbuf, err := s.db.Get(rootKey(preReceipts, root))
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, nil, fmt.Errorf("read receipts of %s: %w", root, err)
	}
	receipts, err := DecodeReceipts(rbuf)
	if err != nil {
		return nil, nil, fmt.Errorf("decode receipts of %s: %w", root, err)
	}
	return b, receipts, nil
}

// State returns a stored post-state.
func (s *Store) State(root bt.Root) (*st.ShardState, error) {
	buf, err := s.db.Get(rootKey(preState, root))
	if err != nil {
		return nil, fmt.Errorf("read shard state %s: %w", root, err)
	}
	state, err := st.UnmarshalShardState(buf)
	if err != nil {
		return nil, fmt.Errorf("decode shard state %s: %w", root, err)
	}
	return state, nil
}

// StateRoots returns the roots of the blocks whose post-state is stored.
func (s *Store) StateRoots() ([]bt.Root, error) {
	var out []bt.Root
	err := s.db.Iterate([]byte{preState}, func(k, _ []byte) (bool, error) {
		if len(k) == 33 {
			out = append(out, bt.Root(k[1:]))
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list shard states: %w", err)
	}
	return out, nil
}

// Canonical returns the canonical root at slot.
func (s *Store) Canonical(slot bt.Slot) (bt.Root, error) {
	v, err := s.db.Get(slotKey(slot))
	if err != nil {
		return bt.Root{}, err
	}
	if len(v) != 32 {
		return bt.Root{}, fmt.Errorf("canonical index at %d: %d bytes", slot, len(v))
	}
	return bt.Root(v), nil
}

// CrosslinkRecord is a crosslink with, when Resolved, the signing roots of
// the headers behind its data root (oldest first).
type CrosslinkRecord struct {
	Crosslink bt.Crosslink
	Resolved  bool
	Headers   []bt.Root
}

const crosslinkSize = 88

func (r *CrosslinkRecord) encode() ([]byte, error) {
	buf, err := r.Crosslink.MarshalSSZ()
	if err != nil {
		return nil, err
	}
	flag := byte(0)
	if r.Resolved {
		flag = 1
	}
	buf = append(buf, flag)
	for _, h := range r.Headers {
		buf = append(buf, h[:]...)
	}
	return buf, nil
}

func decodeCrosslinkRecord(buf []byte) (*CrosslinkRecord, error) {
	if len(buf) < crosslinkSize+1 || (len(buf)-crosslinkSize-1)%32 != 0 || buf[crosslinkSize] > 1 {
		return nil, fmt.Errorf("crosslink record of %d bytes", len(buf))
	}
	r := &CrosslinkRecord{Resolved: buf[crosslinkSize] == 1}
	if err := bt.Decode(&r.Crosslink, buf[:crosslinkSize]); err != nil {
		return nil, err
	}
	for p := buf[crosslinkSize+1:]; len(p) > 0; p = p[32:] {
		r.Headers = append(r.Headers, bt.Root(p[:32]))
	}
	return r, nil
}

// Crosslinks returns every stored crosslink record.
func (s *Store) Crosslinks() ([]*CrosslinkRecord, error) {
	var out []*CrosslinkRecord
	err := s.db.Iterate([]byte{preCrosslink}, func(_, v []byte) (bool, error) {
		r, err := decodeCrosslinkRecord(v)
		if err != nil {
			return false, err
		}
		out = append(out, r)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list crosslinks: %w", err)
	}
	return out, nil
}

// Invalid returns the roots of the blocks recorded as invalid.
func (s *Store) Invalid() ([]bt.Root, error) {
	var out []bt.Root
	err := s.db.Iterate([]byte{preInvalid}, func(k, _ []byte) (bool, error) {
		if len(k) == 33 {
			out = append(out, bt.Root(k[1:]))
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list invalid blocks: %w", err)
	}
	return out, nil
}

// Batch collects writes to the store, applied atomically by Commit. It is
// not safe for concurrent use.
type Batch struct {
	b   kv.Batch
	err error
}

// NewBatch returns an empty batch.
func (s *Store) NewBatch() *Batch { return &Batch{b: s.db.NewBatch()} }

func (b *Batch) put(k, v []byte) {
	if b.err == nil {
		b.err = b.b.Put(k, v)
	}
}

func (b *Batch) del(k []byte) {
	if b.err == nil {
		b.err = b.b.Delete(k)
	}
}

// PutBlock writes a block and its receipts.
func (b *Batch) PutBlock(root bt.Root, blk *st.ShardBlock, receipts []st.Receipt) {
	buf, err := blk.MarshalSSZ()
	if err != nil {
		b.err = errors.Join(b.err, fmt.Errorf("encode shard block %s: %w", root, err))
		return
	}
	b.put(rootKey(preBlock, root), buf)
	b.put(rootKey(preReceipts, root), EncodeReceipts(receipts))
}

// DeleteBlock removes a block, its receipts and its state.
func (b *Batch) DeleteBlock(root bt.Root) {
	b.del(rootKey(preBlock, root))
	b.del(rootKey(preReceipts, root))
	b.del(rootKey(preState, root))
}

// PutState writes a post-state.
func (b *Batch) PutState(root bt.Root, s *st.ShardState) {
	buf, err := s.MarshalSSZ()
	if err != nil {
		b.err = errors.Join(b.err, fmt.Errorf("encode shard state %s: %w", root, err))
		return
	}
	b.put(rootKey(preState, root), buf)
}

// DeleteState removes a post-state.
func (b *Batch) DeleteState(root bt.Root) { b.del(rootKey(preState, root)) }

// SetAnchor records the anchor root.
func (b *Batch) SetAnchor(root bt.Root) { b.put([]byte(keyAnchor), root[:]) }

// SetHead records the head root.
func (b *Batch) SetHead(root bt.Root) { b.put([]byte(keyHead), root[:]) }

// SetCanonical records the canonical root at slot.
func (b *Batch) SetCanonical(slot bt.Slot, root bt.Root) { b.put(slotKey(slot), root[:]) }

// DeleteCanonical removes the canonical entry of slot.
func (b *Batch) DeleteCanonical(slot bt.Slot) { b.del(slotKey(slot)) }

// PutCrosslink writes a crosslink record under the crosslink's root.
func (b *Batch) PutCrosslink(r *CrosslinkRecord) {
	buf, err := r.encode()
	if err != nil {
		b.err = errors.Join(b.err, fmt.Errorf("encode crosslink: %w", err))
		return
	}
	b.put(rootKey(preCrosslink, r.Crosslink.TreeRoot()), buf)
}

// DeleteCrosslink removes a crosslink record.
func (b *Batch) DeleteCrosslink(root bt.Root) { b.del(rootKey(preCrosslink, root)) }

// PutInvalid records a block as invalid.
func (b *Batch) PutInvalid(root bt.Root) { b.put(rootKey(preInvalid, root), nil) }

// Len is the number of writes collected.
func (b *Batch) Len() int { return b.b.Len() }

// Commit applies the writes atomically; an encoding error met while
// collecting them is returned instead and nothing is written.
func (b *Batch) Commit() error {
	if b.err != nil {
		b.b.Reset()
		return fmt.Errorf("commit shard batch: %w", b.err)
	}
	if err := b.b.Commit(); err != nil {
		return fmt.Errorf("commit shard batch: %w", err)
	}
	return nil
}

// receiptSize is the SSZ size of a Receipt (seven uint64s).
const receiptSize = 56

// EncodeReceipts concatenates the receipts' SSZ encodings.
func EncodeReceipts(rs []st.Receipt) []byte {
	out := make([]byte, 0, len(rs)*receiptSize)
	for i := range rs {
		out, _ = rs[i].MarshalSSZTo(out) // fixed size: cannot fail
	}
	return out
}

// DecodeReceipts decodes EncodeReceipts' output.
func DecodeReceipts(buf []byte) ([]st.Receipt, error) {
	if len(buf)%receiptSize != 0 {
		return nil, fmt.Errorf("receipts of %d bytes", len(buf))
	}
	out := make([]st.Receipt, len(buf)/receiptSize)
	for i := range out {
		if err := bt.Decode(&out[i], buf[i*receiptSize:(i+1)*receiptSize]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
