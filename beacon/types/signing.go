package types

import (
	"fmt"

	ssz "github.com/ferranbt/fastssz"
)

// v0.8.3 signs signing_root(x): the hash tree root of x without its last field
// (the signature). Block roots (parent_root, block_roots, checkpoint roots) are
// signing roots too.

// withHasher runs fn on a pooled hasher and returns the single root it leaves.
func withHasher(fn func(hh *ssz.Hasher) error) (Root, error) {
	hh := ssz.DefaultHasherPool.Get()
	defer ssz.DefaultHasherPool.Put(hh)
	if err := fn(hh); err != nil {
		return Root{}, err
	}
	r, err := hh.HashRoot()
	return Root(r), err
}

// mustFixed is for fixed-size containers, whose hashing cannot fail.
func mustFixed(r Root, err error) Root {
	if err != nil {
		panic(fmt.Sprintf("types: hashing a fixed-size container failed: %v", err))
	}
	return r
}

// TreeRoot returns hash_tree_root(c).
func (c *Checkpoint) TreeRoot() Root { return mustFixed(htrOf(c)) }

// TreeRoot returns hash_tree_root(c).
func (c *Crosslink) TreeRoot() Root { return mustFixed(htrOf(c)) }

// TreeRoot returns hash_tree_root(d).
func (d *AttestationData) TreeRoot() Root { return mustFixed(htrOf(d)) }

// TreeRoot returns hash_tree_root(f).
func (f *Fork) TreeRoot() Root { return mustFixed(htrOf(f)) }

// TreeRoot returns hash_tree_root(v).
func (v *Validator) TreeRoot() Root { return mustFixed(validatorRoot(v)) }

// TreeRoot returns hash_tree_root(e).
func (e *Eth1Data) TreeRoot() Root { return mustFixed(htrOf(e)) }

// TreeRoot returns hash_tree_root(d).
func (d *AttestationDataAndCustodyBit) TreeRoot() Root { return mustFixed(htrOf(d)) }

// TreeRoot returns hash_tree_root(d) (the deposit tree leaf).
func (d *DepositData) TreeRoot() Root { return mustFixed(htrOf(d)) }

// SigningRoot returns signing_root(h), which is also the block root of the
// block h summarises.
func (h *BeaconBlockHeader) SigningRoot() Root {
	return mustFixed(withHasher(func(hh *ssz.Hasher) error {
		indx := hh.Index()
		hh.PutUint64(uint64(h.Slot))
		hh.PutBytes(h.ParentRoot[:])
		hh.PutBytes(h.StateRoot[:])
		hh.PutBytes(h.BodyRoot[:])
		hh.Merkleize(indx)
		return nil
	}))
}

// Header returns the block's header (body replaced by its root).
func (b *BeaconBlock) Header() (BeaconBlockHeader, error) {
	body, err := b.Body.HashTreeRoot()
	if err != nil {
		return BeaconBlockHeader{}, fmt.Errorf("hash block body: %w", err)
	}
	return BeaconBlockHeader{Slot: b.Slot, ParentRoot: b.ParentRoot, StateRoot: b.StateRoot, BodyRoot: body, Signature: b.Signature}, nil
}

// SigningRoot returns signing_root(b), the block's root.
func (b *BeaconBlock) SigningRoot() (Root, error) {
	h, err := b.Header()
	if err != nil {
		return Root{}, err
	}
	return h.SigningRoot(), nil
}

// SigningRoot returns signing_root(e).
func (e *VoluntaryExit) SigningRoot() Root {
	return mustFixed(withHasher(func(hh *ssz.Hasher) error {
		indx := hh.Index()
		hh.PutUint64(uint64(e.Epoch))
		hh.PutUint64(uint64(e.ValidatorIndex))
		hh.Merkleize(indx)
		return nil
	}))
}

// SigningRoot returns signing_root(t).
func (t *Transfer) SigningRoot() Root {
	return mustFixed(withHasher(func(hh *ssz.Hasher) error {
		indx := hh.Index()
		hh.PutUint64(uint64(t.Sender))
		hh.PutUint64(uint64(t.Recipient))
		hh.PutUint64(uint64(t.Amount))
		hh.PutUint64(uint64(t.Fee))
		hh.PutUint64(uint64(t.Slot))
		hh.PutBytes(t.Pubkey[:])
		hh.Merkleize(indx)
		return nil
	}))
}

// SigningRoot returns signing_root(d), what a deposit's signature covers.
func (d *DepositData) SigningRoot() Root {
	return mustFixed(withHasher(func(hh *ssz.Hasher) error {
		indx := hh.Index()
		hh.PutBytes(d.Pubkey[:])
		hh.PutBytes(d.WithdrawalCredentials[:])
		hh.PutUint64(uint64(d.Amount))
		hh.Merkleize(indx)
		return nil
	}))
}
