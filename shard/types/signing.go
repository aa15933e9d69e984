package types

import (
	"encoding/binary"
	"fmt"

	ssz "github.com/ferranbt/fastssz"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
)

// Signing roots follow v0.8.3: the hash tree root of the container without
// its last field (the signature).

func withHasher(fn func(hh *ssz.Hasher) error) (bt.Root, error) {
	hh := ssz.DefaultHasherPool.Get()
	defer ssz.DefaultHasherPool.Put(hh)
	if err := fn(hh); err != nil {
		return bt.Root{}, err
	}
	r, err := hh.HashRoot()
	return bt.Root(r), err
}

func mustRoot(r bt.Root, err error) bt.Root {
	if err != nil {
		panic(fmt.Sprintf("shard types: hashing a fixed-size container failed: %v", err))
	}
	return r
}

// SigningRoot returns signing_root(h), the block root of the block h summarises.
func (h *ShardBlockHeader) SigningRoot() bt.Root {
	return mustRoot(withHasher(func(hh *ssz.Hasher) error {
		indx := hh.Index()
		hh.PutUint64(uint64(h.Slot))
		hh.PutUint64(uint64(h.Shard))
		hh.PutUint64(uint64(h.ProposerIndex))
		hh.PutBytes(h.ParentRoot[:])
		hh.PutBytes(h.BeaconBlockRoot[:])
		hh.PutBytes(h.StateRoot[:])
		hh.PutBytes(h.ReceiptsRoot[:])
		hh.PutBytes(h.BodyRoot[:])
		hh.Merkleize(indx)
		return nil
	}))
}

// Header returns the block's header (body replaced by its root).
func (b *ShardBlock) Header() (ShardBlockHeader, error) {
	body, err := b.Body.HashTreeRoot()
	if err != nil {
		return ShardBlockHeader{}, fmt.Errorf("hash shard block body: %w", err)
	}
	return ShardBlockHeader{
		Slot: b.Slot, Shard: b.Shard, ProposerIndex: b.ProposerIndex, ParentRoot: b.ParentRoot,
		BeaconBlockRoot: b.BeaconBlockRoot, StateRoot: b.StateRoot, ReceiptsRoot: b.ReceiptsRoot,
		BodyRoot: body, Signature: b.Signature,
	}, nil
}

// SigningRoot returns signing_root(b), the block's root.
func (b *ShardBlock) SigningRoot() (bt.Root, error) {
	h, err := b.Header()
	if err != nil {
		return bt.Root{}, err
	}
	return h.SigningRoot(), nil
}

// SigningRoot returns signing_root(tx).
func (tx *Transaction) SigningRoot() bt.Root {
	return mustRoot(withHasher(func(hh *ssz.Hasher) error {
		indx := hh.Index()
		hh.PutUint64(uint64(tx.Shard))
		hh.PutUint64(tx.From)
		hh.PutUint64(tx.Nonce)
		hh.PutUint64(uint64(tx.ToShard))
		hh.PutUint64(tx.To)
		hh.PutUint64(uint64(tx.Amount))
		hh.Merkleize(indx)
		return nil
	}))
}

// TreeRoot returns hash_tree_root(r).
func (r *Receipt) TreeRoot() bt.Root {
	root, err := r.HashTreeRoot()
	return mustRoot(bt.Root(root), err)
}

// SigningRoot returns signing_root(p), what the whistleblower signs: the root
// of the container without its last field (the signature), merkleized from
// the other fields' roots.
func (p *ShardFraudProof) SigningRoot() (bt.Root, error) {
	c := p
	return withHasher(func(hh *ssz.Hasher) error {
		indx := hh.Index()
		if err := c.Block.HashTreeRootWith(hh); err != nil {
			return err
		}
		if err := c.ParentHeader.HashTreeRootWith(hh); err != nil {
			return err
		}
		if err := c.StateWitness.HashTreeRootWith(hh); err != nil {
			return err
		}
		if err := c.BeaconHeader.HashTreeRootWith(hh); err != nil {
			return err
		}
		if err := c.BeaconWitness.HashTreeRootWith(hh); err != nil {
			return err
		}
		{
			sub := hh.Index()
			for _, e := range c.Evidence {
				if err := e.HashTreeRootWith(hh); err != nil {
					return err
				}
			}
			hh.MerkleizeWithMixin(sub, uint64(len(c.Evidence)), params.MaxFraudEvidence)
		}
		{
			sub := hh.Index()
			for _, r := range c.Rollbacks {
				if err := r.HashTreeRootWith(hh); err != nil {
					return err
				}
			}
			hh.MerkleizeWithMixin(sub, uint64(len(c.Rollbacks)), params.MaxFraudRollbacks)
		}
		hh.PutUint64(uint64(c.Whistleblower))
		hh.Merkleize(indx)
		return nil
	})
}

// ReceiptsRoot is hash_tree_root(List[Receipt, MAX_SHARD_TRANSACTIONS](receipts)),
// the receipts_root a block commits to.
func ReceiptsRoot(receipts []Receipt) (bt.Root, error) {
	t, err := NewReceiptsTree(receipts)
	if err != nil {
		return bt.Root{}, err
	}
	return t.Root(), nil
}

// ReceiptsDepth is the depth of a block's receipts tree (log2 MAX_SHARD_TRANSACTIONS).
const ReceiptsDepth = 10

// ReceiptProofs returns the branch of every receipt in ReceiptsRoot(receipts)
// (the ReceiptsDepth siblings, then the length chunk), from one tree.
func ReceiptProofs(receipts []Receipt) ([][]bt.Root, error) {
	t, err := NewReceiptsTree(receipts)
	if err != nil {
		return nil, err
	}
	return hash.ListProofs[bt.Root](t.t)
}

// ReceiptProof returns the branch of receipt i (see ReceiptProofs). To prove
// several receipts of one block, build a ReceiptsTree once.
func ReceiptProof(receipts []Receipt, i int) ([]bt.Root, error) {
	t, err := NewReceiptsTree(receipts)
	if err != nil {
		return nil, err
	}
	return t.Proof(i)
}

// ReceiptsTree is the tree of one block's receipts, for proving many of
// them: hashing the receipts (the leaves) costs far more than reading a
// branch, so a relayer builds it once per block instead of once per claim.
// It is not modified after NewReceiptsTree: concurrent Proof calls are safe.
type ReceiptsTree struct {
	t      *hash.Tree
	length bt.Root // the length chunk of the list
}

// NewReceiptsTree hashes receipts into the tree of ReceiptsRoot(receipts).
func NewReceiptsTree(receipts []Receipt) (*ReceiptsTree, error) {
	if len(receipts) > params.MaxShardTransactions {
		return nil, fmt.Errorf("%w: %d receipts", ErrInvalidSSZ, len(receipts))
	}
	leaves := make([][32]byte, len(receipts))
	for k := range receipts {
		leaves[k] = receipts[k].TreeRoot()
	}
	t, err := hash.NewTree(leaves, ReceiptsDepth)
	if err != nil {
		return nil, err
	}
	rt := &ReceiptsTree{t: t}
	binary.LittleEndian.PutUint64(rt.length[:], uint64(len(receipts)))
	t.Root() // settles the tree: Proof then only reads it
	return rt, nil
}

// Len returns the number of receipts.
func (rt *ReceiptsTree) Len() int { return rt.t.Len() }

// Root returns ReceiptsRoot of the receipts.
func (rt *ReceiptsTree) Root() bt.Root {
	return hash.MixInLength(rt.t.Root(), uint64(rt.t.Len()))
}

// Proof returns the branch of receipt i in ReceiptsRoot: the ReceiptsDepth
// siblings from the leaf up, then the length chunk.
func (rt *ReceiptsTree) Proof(i int) ([]bt.Root, error) {
	if i < 0 || i >= rt.t.Len() {
		return nil, fmt.Errorf("receipt %d of %d: %w", i, rt.t.Len(), hash.ErrIndex)
	}
	p, err := rt.t.Proof(i)
	if err != nil {
		return nil, err
	}
	out := make([]bt.Root, len(p)+1)
	for j := range p {
		out[j] = p[j]
	}
	out[len(p)] = rt.length
	return out, nil
}
