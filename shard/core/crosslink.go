package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	st "github.com/shardlab/shardlab/shard/types"
)

// Crosslink data (docs/protocol.md §4): in the shard fork a crosslink's
// data_root commits to the headers of the shard blocks in its range,
//
//	compute_crosslink_data_root(headers) =
//	    hash_tree_root(List[Root, MAX_CROSSLINK_HEADERS]([signing_root(h) for h in headers]))
//	MAX_CROSSLINK_HEADERS = SLOTS_PER_EPOCH * MAX_EPOCHS_PER_CROSSLINK
//
// where headers are the shard's canonical blocks with slots in
// [start_epoch * SLOTS_PER_EPOCH, end_epoch * SLOTS_PER_EPOCH), oldest first
// (the shard's genesis header is never part of a crosslink). Each block is in
// exactly one crosslink of the chain, so the beacon state's current crosslink
// commits, through its last header, to the shard's latest crosslinked state
// root.

// MaxCrosslinkHeaders is MAX_CROSSLINK_HEADERS.
func MaxCrosslinkHeaders(cfg *params.Config) uint64 {
	return cfg.SlotsPerEpoch * cfg.MaxEpochsPerCrosslink
}

// headersDepth is the depth of the header-root tree, ceil(log2(MAX_CROSSLINK_HEADERS)).
func headersDepth(cfg *params.Config) int { return hash.Depth(MaxCrosslinkHeaders(cfg)) }

// CrosslinkDataRoot is compute_crosslink_data_root of the header roots.
func CrosslinkDataRoot(cfg *params.Config, headerRoots []bt.Root) (bt.Root, error) {
	t, err := headerTree(cfg, headerRoots)
	if err != nil {
		return bt.Root{}, err
	}
	return hash.MixInLength(t.Root(), uint64(len(headerRoots))), nil
}

func headerTree(cfg *params.Config, headerRoots []bt.Root) (*hash.Tree, error) {
	if uint64(len(headerRoots)) > MaxCrosslinkHeaders(cfg) {
		return nil, invalid("%d headers exceed MAX_CROSSLINK_HEADERS %d", len(headerRoots), MaxCrosslinkHeaders(cfg))
	}
	leaves := make([][32]byte, len(headerRoots))
	for i := range headerRoots {
		leaves[i] = headerRoots[i]
	}
	return hash.NewTree(leaves, headersDepth(cfg))
}

// HeaderProofs returns the branch of every header in
// CrosslinkDataRoot(headerRoots): the tree siblings, then the length chunk.
func HeaderProofs(cfg *params.Config, headerRoots []bt.Root) ([][]bt.Root, error) {
	t, err := headerTree(cfg, headerRoots)
	if err != nil {
		return nil, err
	}
	return hash.ListProofs[bt.Root](t)
}

// HeaderProof returns the branch of header i (see HeaderProofs).
func HeaderProof(cfg *params.Config, headerRoots []bt.Root, i int) ([]bt.Root, error) {
	if i < 0 || i >= len(headerRoots) {
		return nil, fmt.Errorf("header %d of %d: %w", i, len(headerRoots), hash.ErrIndex)
	}
	all, err := HeaderProofs(cfg, headerRoots)
	if err != nil {
		return nil, err
	}
	return all[i], nil
}

// verifyHeaderInCrosslink checks that header is at index in c's data root
// and that its slot lies in c's range.
func verifyHeaderInCrosslink(cfg *params.Config, h *st.ShardBlockHeader, index uint64, branch []bt.Root, c *bt.Crosslink) error {
	depth := headersDepth(cfg)
	if index >= MaxCrosslinkHeaders(cfg) || len(branch) != depth+1 {
		return fmt.Errorf("header index %d or branch length %d out of range", index, len(branch))
	}
	if !hash.IsValidMerkleBranch(h.SigningRoot(), rootsOf(branch), uint64(depth+1), index, c.DataRoot) {
		return fmt.Errorf("header %s is not at index %d of crosslink data root %s", h.SigningRoot(), index, c.DataRoot)
	}
	// The slot's epoch against [start_epoch, end_epoch): the same as the
	// slot against [start_epoch, end_epoch) * SLOTS_PER_EPOCH, without the
	// products, which wrap for the huge epochs a hostile crosslink may carry.
	if e := uint64(h.Slot) / cfg.SlotsPerEpoch; e < uint64(c.StartEpoch) || e >= uint64(c.EndEpoch) || h.Shard != c.Shard {
		return fmt.Errorf("header of shard %d slot %d is outside crosslink of shard %d, epochs [%d, %d)", h.Shard, h.Slot, c.Shard, c.StartEpoch, c.EndEpoch)
	}
	return nil
}

// verifyCrosslinkChain checks that htr(chain[i]) == chain[i+1].parent_root,
// that all are of shard, and that the last is want.
func verifyCrosslinkChain(chain []*bt.Crosslink, shard bt.Shard, want bt.Crosslink) error {
	if len(chain) == 0 || len(chain) > params.MaxCrosslinkChain {
		return fmt.Errorf("crosslink chain of %d links", len(chain))
	}
	for i, c := range chain {
		if c == nil || c.Shard != shard {
			return fmt.Errorf("crosslink %d of the chain is not of shard %d", i, shard)
		}
		if i > 0 && chain[i-1].TreeRoot() != c.ParentRoot {
			return fmt.Errorf("crosslink %d does not follow crosslink %d", i, i-1)
		}
	}
	if *chain[len(chain)-1] != want {
		return fmt.Errorf("the chain does not end at the current crosslink of shard %d", shard)
	}
	return nil
}

func rootsOf(rs []bt.Root) [][32]byte {
	out := make([][32]byte, len(rs))
	for i := range rs {
		out[i] = rs[i]
	}
	return out
}
