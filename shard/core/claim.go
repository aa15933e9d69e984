package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// Building claims (what a relayer does). A claim needs, besides the receipt
// and its source header with their branches, the crosslink chain from the
// crosslink that contains the header to the source shard's current crosslink
// in the beacon state the claiming block references, and the challenge-window
// proof: which crosslink of that chain was current at WindowSlot, with its
// branch in that slot's state root.

// WindowProof returns the challenge-window part of a claim: the index in
// chain of the crosslink that was src's current crosslink in windowState (the
// beacon state at WindowSlot of the referenced state, on the same chain), and
// its branch in windowState's root. It fails while the receipt's crosslink
// (chain[0]) was not yet in the state at that slot: the claim must wait.
func WindowProof(cfg *params.Config, windowState *bt.BeaconState, src bt.Shard, chain []*bt.Crosslink) (uint64, []bt.Root, error) {
	return NewClaimBuilder(cfg, windowState).windowProof(src, chain)
}

// ErrNotClaimable is returned by the claim builders for a receipt whose
// crosslink is too recent: not an error of the receipt, a reason to wait.
var ErrNotClaimable = fmt.Errorf("not claimable yet")

// ClaimSource is what a relayer knows about one receipt.
type ClaimSource struct {
	Receipt       st.Receipt
	ReceiptIndex  uint64
	ReceiptBranch []bt.Root // st.ReceiptProofs of the source block's receipts
	Header        st.ShardBlockHeader
	HeaderIndex   uint64
	HeaderBranch  []bt.Root       // HeaderProofs of the crosslink's header roots
	Chain         []*bt.Crosslink // chain[0] contains Header; the last is the current crosslink
}

// BuildClaim assembles a claim of src valid against a beacon state whose
// state at WindowSlot is windowState. It hashes windowState for the window
// branch; a relayer building many claims uses a ClaimBuilder instead.
func BuildClaim(cfg *params.Config, src *ClaimSource, windowState *bt.BeaconState) (*st.ReceiptClaim, error) {
	return NewClaimBuilder(cfg, windowState).Build(src)
}

// ClaimBuilder builds many claims against one window state. The window
// branch of a claim depends only on its source shard, so the builder proves
// each source shard's current crosslink once and reuses the branch: a
// relay pass hashes the window state at most once per source shard instead
// of once per claim. The window state must not change while the builder is
// in use.
type ClaimBuilder struct {
	cfg      *params.Config
	window   *bt.BeaconState
	branches map[bt.Shard][]bt.Root
}

// NewClaimBuilder returns a builder of claims against windowState.
func NewClaimBuilder(cfg *params.Config, windowState *bt.BeaconState) *ClaimBuilder {
	return &ClaimBuilder{cfg: cfg, window: windowState, branches: make(map[bt.Shard][]bt.Root)}
}

// Build assembles the claim of src, as BuildClaim does.
func (b *ClaimBuilder) Build(src *ClaimSource) (*st.ReceiptClaim, error) {
	idx, branch, err := b.windowProof(src.Receipt.SrcShard, src.Chain)
	if err != nil {
		return nil, err
	}
	return &st.ReceiptClaim{
		Receipt:       src.Receipt,
		ReceiptIndex:  src.ReceiptIndex,
		ReceiptBranch: src.ReceiptBranch,
		Header:        src.Header,
		HeaderIndex:   src.HeaderIndex,
		HeaderBranch:  src.HeaderBranch,
		Crosslinks:    src.Chain,
		WindowIndex:   idx,
		WindowBranch:  branch,
	}, nil
}

// WindowProof is the package's WindowProof against the builder's window
// state, with the branch of each source shard computed once: a proposer
// refreshing many pooled claims for its block uses it (shard/chain
// ClaimsFor).
func (b *ClaimBuilder) WindowProof(src bt.Shard, chain []*bt.Crosslink) (uint64, []bt.Root, error) {
	return b.windowProof(src, chain)
}

// windowProof is WindowProof with the branch of each shard computed once.
// The returned branch is a copy: claims never share it.
func (b *ClaimBuilder) windowProof(shard bt.Shard, chain []*bt.Crosslink) (uint64, []bt.Root, error) {
	if uint64(shard) >= uint64(len(b.window.CurrentCrosslinks)) {
		return 0, nil, fmt.Errorf("window proof: shard %d out of range", shard)
	}
	then := b.window.CurrentCrosslinks[shard]
	for j, c := range chain {
		if c == nil || *c != then {
			continue
		}
		branch, ok := b.branches[shard]
		if !ok {
			var err error
			if branch, err = b.window.Branch(bt.GIndexCurrentCrosslink(b.cfg.ShardCount, uint64(shard))); err != nil {
				return 0, nil, fmt.Errorf("window proof: %w", err)
			}
			b.branches[shard] = branch
		}
		return uint64(j), append([]bt.Root(nil), branch...), nil
	}
	return 0, nil, fmt.Errorf("window proof: %w: the receipt's crosslink was not yet current at slot %d", ErrNotClaimable, b.window.Slot)
}
