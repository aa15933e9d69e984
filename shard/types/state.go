package types

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
)

// ErrInvalidSSZ is wrapped by the decoding and shape errors of this package.
var ErrInvalidSSZ = errors.New("invalid ssz")

// ShardState is the state of one shard chain after a block:
//
//	class ShardState(Container):
//	    shard: Shard
//	    slot: Slot                  # slot of the last block applied
//	    beacon_slot: Slot           # slot of the beacon block it referenced
//	    accounts: List[Account, 2**32]
//	    outbox_nonces: List[uint64, MAX_SHARDS]   # next receipt nonce per destination shard
//	    inbox_nonces: List[uint64, MAX_SHARDS]    # next claimable receipt nonce per source shard
//
// The nonce lists have SHARD_COUNT entries. A ShardState keeps the Merkle
// tree of its accounts, so a block that touches k accounts costs O(k log n)
// hashes to re-root; callers change accounts through SetAccount (or mark
// direct edits with Touch) so the tree stays in step.
type ShardState struct {
	Shard        bt.Shard
	Slot         bt.Slot
	BeaconSlot   bt.Slot
	Accounts     []Account
	OutboxNonces []uint64
	InboxNonces  []uint64

	accounts *hash.Tree // leaf j = hash_tree_root(Accounts[j]); nil until first hashed
	stale    []uint64   // accounts changed since the tree was last updated
}

// Generalized indices of the shard state's tree (docs/protocol.md §2.3).
const (
	stateDepth       = 3 // 6 fields padded to 8
	accountDepth     = 2 // 3 fields padded to 4
	nonceChunksDepth = 8 // MAX_SHARDS uint64s, four to a chunk: 256 chunks
	crosslinkDepth   = 3 // 5 fields padded to 8

	GIndexShard      = 8
	GIndexSlot       = 9
	GIndexBeaconSlot = 10
	gAccounts        = 11
	gOutbox          = 12
	gInbox           = 13
	// The list roots' left children are the data trees, the right ones the lengths.
	gAccountsData = 2 * gAccounts
	gOutboxData   = 2 * gOutbox
	gInboxData    = 2 * gInbox
)

// Account field positions within an account's 4-leaf tree.
const (
	AccountFieldPubkey = iota
	AccountFieldBalance
	AccountFieldNonce
)

// GIndexAccountField is the generalized index of field f of account j.
func GIndexAccountField(j uint64, f int) uint64 {
	acc := gAccountsData<<params.MaxShardAccountsLog2 | j
	return acc<<accountDepth | uint64(f)
}

// GIndexOutbox is the generalized index of the chunk holding outbox_nonces[i].
func GIndexOutbox(i uint64) uint64 { return gOutboxData<<nonceChunksDepth | i/4 }

// GIndexInbox is the generalized index of the chunk holding inbox_nonces[i].
func GIndexInbox(i uint64) uint64 { return gInboxData<<nonceChunksDepth | i/4 }

// GenesisState returns the genesis state of shard: cfg.Shard.Accounts
// accounts with the given public keys, each holding SHARD_GENESIS_BALANCE.
func GenesisState(cfg *params.Config, shard bt.Shard, pubkeys [][32]byte) (*ShardState, error) {
	if uint64(len(pubkeys)) != cfg.Shard.Accounts {
		return nil, fmt.Errorf("shard %d genesis: %d public keys for SHARD_ACCOUNTS = %d", shard, len(pubkeys), cfg.Shard.Accounts)
	}
	s := &ShardState{
		Shard:        shard,
		Slot:         bt.Slot(cfg.GenesisSlot),
		BeaconSlot:   bt.Slot(cfg.GenesisSlot),
		Accounts:     make([]Account, len(pubkeys)),
		OutboxNonces: make([]uint64, cfg.ShardCount),
		InboxNonces:  make([]uint64, cfg.ShardCount),
	}
	for i, pk := range pubkeys {
		s.Accounts[i] = Account{Pubkey: pk, Balance: bt.Gwei(cfg.Shard.GenesisBalance)}
	}
	return s, nil
}

// Copy returns a deep copy, Merkle tree included.
func (s *ShardState) Copy() *ShardState {
	c := *s
	c.Accounts = append([]Account(nil), s.Accounts...)
	c.OutboxNonces = append([]uint64(nil), s.OutboxNonces...)
	c.InboxNonces = append([]uint64(nil), s.InboxNonces...)
	c.stale = append([]uint64(nil), s.stale...)
	if s.accounts != nil {
		c.accounts = s.accounts.Copy()
	}
	return &c
}

// SetAccount replaces account j (j < len(Accounts)).
func (s *ShardState) SetAccount(j uint64, a Account) {
	s.Accounts[j] = a
	s.stale = append(s.stale, j)
}

// Touch marks account j as changed by a direct edit of s.Accounts[j].
func (s *ShardState) Touch(j uint64) { s.stale = append(s.stale, j) }

// AccountRoot is hash_tree_root(Account).
func AccountRoot(a *Account) bt.Root {
	bal := uint64Chunk(uint64(a.Balance))
	nonce := uint64Chunk(a.Nonce)
	return hash.Hash64(hash.Hash64(a.Pubkey, bal), hash.Hash64(nonce, [32]byte{}))
}

func uint64Chunk(v uint64) [32]byte {
	var c [32]byte
	binary.LittleEndian.PutUint64(c[:], v)
	return c
}

// accountsTree brings the accounts tree up to date and returns it.
func (s *ShardState) accountsTree() (*hash.Tree, error) {
	if uint64(len(s.Accounts)) > 1<<params.MaxShardAccountsLog2 {
		return nil, fmt.Errorf("%w: %d accounts", ErrInvalidSSZ, len(s.Accounts))
	}
	if s.accounts == nil || s.accounts.Len() != len(s.Accounts) {
		leaves := make([][32]byte, len(s.Accounts))
		for j := range s.Accounts {
			leaves[j] = AccountRoot(&s.Accounts[j])
		}
		t, err := hash.NewTree(leaves, params.MaxShardAccountsLog2)
		if err != nil {
			return nil, err
		}
		s.accounts, s.stale = t, s.stale[:0]
		return t, nil
	}
	for _, j := range s.stale {
		if j < uint64(len(s.Accounts)) {
			_ = s.accounts.Set(int(j), AccountRoot(&s.Accounts[j])) // j is in range
		}
	}
	s.stale = s.stale[:0]
	return s.accounts, nil
}

// nonceTree builds the (small) tree of a nonce list.
func nonceTree(nonces []uint64) (*hash.Tree, error) {
	if len(nonces) > params.MaxShards {
		return nil, fmt.Errorf("%w: %d nonces, limit %d", ErrInvalidSSZ, len(nonces), params.MaxShards)
	}
	chunks := make([][32]byte, (len(nonces)+3)/4)
	for i, n := range nonces {
		binary.LittleEndian.PutUint64(chunks[i/4][8*(i%4):], n)
	}
	return hash.NewTree(chunks, nonceChunksDepth)
}

// fieldRoots returns the roots of the six fields (list roots mixed in).
func (s *ShardState) fieldRoots() ([8][32]byte, *hash.Tree, *hash.Tree, *hash.Tree, error) {
	var f [8][32]byte
	acc, err := s.accountsTree()
	if err != nil {
		return f, nil, nil, nil, err
	}
	out, err := nonceTree(s.OutboxNonces)
	if err != nil {
		return f, nil, nil, nil, err
	}
	in, err := nonceTree(s.InboxNonces)
	if err != nil {
		return f, nil, nil, nil, err
	}
	f[0] = uint64Chunk(uint64(s.Shard))
	f[1] = uint64Chunk(uint64(s.Slot))
	f[2] = uint64Chunk(uint64(s.BeaconSlot))
	f[3] = hash.MixInLength(acc.Root(), uint64(len(s.Accounts)))
	f[4] = hash.MixInLength(out.Root(), uint64(len(s.OutboxNonces)))
	f[5] = hash.MixInLength(in.Root(), uint64(len(s.InboxNonces)))
	return f, acc, out, in, nil
}

// HashTreeRoot returns the state root.
func (s *ShardState) HashTreeRoot() (bt.Root, error) {
	f, _, _, _, err := s.fieldRoots()
	if err != nil {
		return bt.Root{}, err
	}
	top, err := hash.NewTree(f[:], stateDepth)
	if err != nil {
		return bt.Root{}, err
	}
	return top.Root(), nil
}

// NodeFunc returns an accessor of the state's tree by generalized index, for
// building multiproofs (crypto/hash.BuildMultiproof). It hashes the state
// once; the accessor is valid until the state changes.
func (s *ShardState) NodeFunc() (func(g uint64) ([32]byte, error), error) {
	f, acc, out, in, err := s.fieldRoots()
	if err != nil {
		return nil, err
	}
	top, err := hash.NewTree(f[:], stateDepth)
	if err != nil {
		return nil, err
	}
	accountNode := func(leaf, inner uint64) ([32]byte, error) {
		if leaf >= uint64(len(s.Accounts)) {
			return zeroSubtree(inner, accountDepth)
		}
		a := &s.Accounts[leaf]
		t, err := hash.NewTree([][32]byte{a.Pubkey, uint64Chunk(uint64(a.Balance)), uint64Chunk(a.Nonce)}, accountDepth)
		if err != nil {
			return [32]byte{}, err
		}
		return t.TreeNode(inner)
	}
	return func(g uint64) ([32]byte, error) {
		if g == 0 {
			return [32]byte{}, fmt.Errorf("state node 0: %w", hash.ErrIndex)
		}
		d := bits.Len64(g) - 1
		if d <= stateDepth {
			return top.TreeNode(g)
		}
		rel := relative(g, d, stateDepth) // index within the field's subtree (1 = its root)
		switch g >> (d - stateDepth) {
		case gAccounts:
			return listNode(rel, len(s.Accounts), acc, accountNode)
		case gOutbox:
			return listNode(rel, len(s.OutboxNonces), out, nil)
		case gInbox:
			return listNode(rel, len(s.InboxNonces), in, nil)
		}
		return [32]byte{}, fmt.Errorf("state node %d: below a basic field: %w", g, hash.ErrIndex)
	}, nil
}

// relative returns the index of node g (at depth d) within the subtree of
// its ancestor at depth da.
func relative(g uint64, d, da int) uint64 {
	k := d - da
	return 1<<k | g&(1<<k-1)
}

// listNode resolves node rel of a list's subtree: 1 is the mixed-in root, 2
// the data tree's root, 3 the length; below 2, the data tree, and below its
// leaves, elem (for lists of containers).
func listNode(rel uint64, n int, data *hash.Tree, elem func(leaf, inner uint64) ([32]byte, error)) ([32]byte, error) {
	switch rel {
	case 1:
		return hash.MixInLength(data.Root(), uint64(n)), nil
	case 3:
		return uint64Chunk(uint64(n)), nil
	}
	d := bits.Len64(rel) - 1 // depth below the list root
	if rel>>(d-1) != 2 {
		return [32]byte{}, fmt.Errorf("node %d under a list length: %w", rel, hash.ErrIndex)
	}
	inData := relative(rel, d, 1)
	dd := d - 1
	if dd <= data.Depth() {
		return data.TreeNode(inData)
	}
	if elem == nil {
		return [32]byte{}, fmt.Errorf("node below a basic list's chunks: %w", hash.ErrIndex)
	}
	leafDepth := data.Depth()
	leaf := inData >> (dd - leafDepth) & (1<<leafDepth - 1)
	return elem(leaf, relative(inData, dd, leafDepth))
}

// zeroSubtree returns node inner of an all-zero subtree of the given depth.
func zeroSubtree(inner uint64, depth int) ([32]byte, error) {
	d := bits.Len64(inner) - 1
	if d > depth {
		return [32]byte{}, hash.ErrIndex
	}
	return hash.ZeroHash(depth - d), nil
}

// Size and encoding: shard, slot, beacon_slot, then the offsets of the three lists.
const (
	shardStateFixed = 8 + 8 + 8 + 3*4
	accountSize     = 32 + 8 + 8
)

// SizeSSZ returns the encoded size.
func (s *ShardState) SizeSSZ() int {
	return shardStateFixed + accountSize*len(s.Accounts) + 8*(len(s.OutboxNonces)+len(s.InboxNonces))
}

// MarshalSSZ encodes the state.
func (s *ShardState) MarshalSSZ() ([]byte, error) {
	if uint64(len(s.Accounts)) > 1<<params.MaxShardAccountsLog2 || len(s.OutboxNonces) > params.MaxShards || len(s.InboxNonces) > params.MaxShards {
		return nil, fmt.Errorf("%w: shard state lists over their limits", ErrInvalidSSZ)
	}
	dst := make([]byte, 0, s.SizeSSZ())
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.Shard))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.Slot))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.BeaconSlot))
	off := shardStateFixed
	dst = binary.LittleEndian.AppendUint32(dst, uint32(off))
	off += accountSize * len(s.Accounts)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(off))
	off += 8 * len(s.OutboxNonces)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(off))
	for i := range s.Accounts {
		a := &s.Accounts[i]
		dst = append(dst, a.Pubkey[:]...)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(a.Balance))
		dst = binary.LittleEndian.AppendUint64(dst, a.Nonce)
	}
	for _, l := range [][]uint64{s.OutboxNonces, s.InboxNonces} {
		for _, n := range l {
			dst = binary.LittleEndian.AppendUint64(dst, n)
		}
	}
	return dst, nil
}

// UnmarshalShardState decodes a state; malformed input is an error wrapping
// ErrInvalidSSZ.
func UnmarshalShardState(buf []byte) (*ShardState, error) {
	if len(buf) < shardStateFixed {
		return nil, fmt.Errorf("%w: shard state of %d bytes", ErrInvalidSSZ, len(buf))
	}
	s := &ShardState{
		Shard:      bt.Shard(binary.LittleEndian.Uint64(buf[0:])),
		Slot:       bt.Slot(binary.LittleEndian.Uint64(buf[8:])),
		BeaconSlot: bt.Slot(binary.LittleEndian.Uint64(buf[16:])),
	}
	o := [4]uint64{
		uint64(binary.LittleEndian.Uint32(buf[24:])),
		uint64(binary.LittleEndian.Uint32(buf[28:])),
		uint64(binary.LittleEndian.Uint32(buf[32:])),
		uint64(len(buf)),
	}
	if o[0] != shardStateFixed || o[1] < o[0] || o[2] < o[1] || o[2] > o[3] {
		return nil, fmt.Errorf("%w: shard state offsets %v", ErrInvalidSSZ, o)
	}
	acc := buf[o[0]:o[1]]
	if len(acc)%accountSize != 0 {
		return nil, fmt.Errorf("%w: accounts of %d bytes", ErrInvalidSSZ, len(acc))
	}
	s.Accounts = make([]Account, len(acc)/accountSize)
	for i := range s.Accounts {
		b := acc[i*accountSize:]
		copy(s.Accounts[i].Pubkey[:], b[:32])
		s.Accounts[i].Balance = bt.Gwei(binary.LittleEndian.Uint64(b[32:]))
		s.Accounts[i].Nonce = binary.LittleEndian.Uint64(b[40:])
	}
	var err error
	if s.OutboxNonces, err = decodeNonces(buf[o[1]:o[2]]); err != nil {
		return nil, err
	}
	if s.InboxNonces, err = decodeNonces(buf[o[2]:o[3]]); err != nil {
		return nil, err
	}
	return s, nil
}

func decodeNonces(b []byte) ([]uint64, error) {
	if len(b)%8 != 0 || len(b)/8 > params.MaxShards {
		return nil, fmt.Errorf("%w: nonce list of %d bytes", ErrInvalidSSZ, len(b))
	}
	out := make([]uint64, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out, nil
}
