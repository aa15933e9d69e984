package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// Inbox proofs let a node that does not follow a shard learn, without
// trusting whoever answers, the shard's inbox nonces as of a crosslink of
// it (docs/protocol.md §5.3, "Learning a destination's inbox"): the
// crosslink's data root commits to its header roots, the last header to
// its post-state root, and that root to the state's inbox_nonces list.

// Shape of the proof of the inbox_nonces field in the shard state
// (docs/protocol.md §2.3): the list's root is field 5 of the state's 8
// field leaves, at generalized index 13, which st.GIndexInbox's chunks
// descend from (its data tree at 26, of depth log2(MAX_SHARDS / 4)).
var (
	inboxListGIndex = st.GIndexInbox(0) >> (hash.Depth(params.MaxShards/4) + 1)
	// InboxBranchDepth is the length of an inbox proof's Branch.
	InboxBranchDepth = bits.Len64(inboxListGIndex) - 1
)

// ErrInvalidInboxProof is wrapped by VerifyInboxProof's failures (the
// sender of such a proof is faulty).
var ErrInvalidInboxProof = errors.New("invalid inbox proof")

// InboxProof proves a shard's inbox nonces at the last block of a
// crosslink of the shard.
type InboxProof struct {
	// HeaderRoots are the roots of the crosslink's headers, oldest first:
	// the list behind its data root.
	HeaderRoots []bt.Root
	// Header is the last of them.
	Header st.ShardBlockHeader
	// InboxNonces is the inbox_nonces list of Header's post-state.
	InboxNonces []uint64
	// Branch is the Merkle branch of the list's hash_tree_root in
	// Header.StateRoot (InboxBranchDepth siblings, from the field up).
	Branch []bt.Root
}

// InboxProof returns the proof of the shard's inbox nonces at crosslink c:
// c must be a crosslink of the shard the service observed in the beacon
// chain, its header list known, non-empty, and the post-state of its last
// block still held (that of the fork choice's anchor or of a block after
// it). Otherwise it returns an error wrapping ErrNoData; an empty
// crosslink proves nothing (its inbox is its parent's).
func (s *Service) InboxProof(c bt.Crosslink) (*InboxProof, error) {
	if c.Shard != s.shard {
		return nil, fmt.Errorf("inbox proof: %w: crosslink of shard %d on shard %d", ErrNoData, c.Shard, s.shard)
	}
	s.mu.Lock()
	l, ok := s.links[c.TreeRoot()]
	if !ok || !s.resolveLocked(l) || len(l.headers) == 0 {
		s.mu.Unlock()
		return nil, fmt.Errorf("inbox proof of crosslink [%d, %d): %w: no header list known", c.StartEpoch, c.EndEpoch, ErrNoData)
	}
	roots := slices.Clone(l.headers)
	last := s.blocks[roots[len(roots)-1]]
	if last == nil || last.post == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("inbox proof of crosslink [%d, %d): %w: post-state of its last block not held", c.StartEpoch, c.EndEpoch, ErrNoData)
	}
	header, state := last.header, last.post.Copy() // hashing fills the state's caches: a copy
	s.mu.Unlock()

	node, err := state.NodeFunc()
	if err != nil {
		return nil, fmt.Errorf("inbox proof: %w", err)
	}
	if root, err := node(1); err != nil || root != header.StateRoot {
		return nil, fmt.Errorf("inbox proof: the state of %s does not hash to its state root (%v)", roots[len(roots)-1], err)
	}
	branch := make([]bt.Root, 0, InboxBranchDepth)
	for g := inboxListGIndex; g > 1; g >>= 1 {
		sib, err := node(g ^ 1)
		if err != nil {
			return nil, fmt.Errorf("inbox proof: %w", err)
		}
		branch = append(branch, sib)
	}
	return &InboxProof{HeaderRoots: roots, Header: header, InboxNonces: slices.Clone(state.InboxNonces), Branch: branch}, nil
}

// VerifyInboxProof checks p against crosslink c of a shard (from a beacon
// state): the header roots give c's data root, the header is the last of
// them and of c's shard and range, and the inbox nonces, SHARD_COUNT of
// them, are those of the header's state root. Any failure wraps
// ErrInvalidInboxProof.
func VerifyInboxProof(cfg *params.Config, c bt.Crosslink, p *InboxProof) error {
	if p == nil {
		return fmt.Errorf("%w: nil", ErrInvalidInboxProof)
	}
	n := len(p.HeaderRoots)
	if n == 0 || uint64(n) > shardcore.MaxCrosslinkHeaders(cfg) {
		return fmt.Errorf("%w: %d header roots", ErrInvalidInboxProof, n)
	}
	dr, err := shardcore.CrosslinkDataRoot(cfg, p.HeaderRoots)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidInboxProof, err)
	}
	if dr != c.DataRoot {
		return fmt.Errorf("%w: the header roots give data root %s, the crosslink has %s", ErrInvalidInboxProof, dr, c.DataRoot)
	}
	h := &p.Header
	spe := bt.Slot(cfg.SlotsPerEpoch)
	if h.SigningRoot() != p.HeaderRoots[n-1] || h.Shard != c.Shard ||
		h.Slot < bt.Slot(c.StartEpoch)*spe || h.Slot >= bt.Slot(c.EndEpoch)*spe {
		return fmt.Errorf("%w: the header is not the crosslink's last", ErrInvalidInboxProof)
	}
	if uint64(len(p.InboxNonces)) != cfg.ShardCount {
		return fmt.Errorf("%w: %d inbox nonces for %d shards", ErrInvalidInboxProof, len(p.InboxNonces), cfg.ShardCount)
	}
	leaf, err := NonceListRoot(p.InboxNonces)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidInboxProof, err)
	}
	depth := uint64(InboxBranchDepth)
	if uint64(len(p.Branch)) != depth ||
		!hash.IsValidMerkleBranch(leaf, roots(p.Branch), depth, inboxListGIndex-(1<<depth), h.StateRoot) {
		return fmt.Errorf("%w: the inbox nonces are not in the header's state root", ErrInvalidInboxProof)
	}
	return nil
}

// NonceListRoot is hash_tree_root(List[uint64, MAX_SHARDS]) of nonces
// (the state's outbox_nonces and inbox_nonces).
func NonceListRoot(nonces []uint64) (bt.Root, error) {
	if len(nonces) > params.MaxShards {
		return bt.Root{}, fmt.Errorf("%d nonces, limit %d", len(nonces), params.MaxShards)
	}
	chunks := make([][32]byte, (len(nonces)+3)/4)
	for i, v := range nonces {
		binary.LittleEndian.PutUint64(chunks[i/4][8*(i%4):], v)
	}
	r, err := hash.Merkleize(chunks, params.MaxShards/4)
	if err != nil {
		return bt.Root{}, err
	}
	return hash.MixInLength(r, uint64(len(nonces))), nil
}
