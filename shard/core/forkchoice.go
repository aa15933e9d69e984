package core

import (
	"bytes"
	"fmt"
	"slices"

	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// ForkChoice is the shard fork choice (docs/protocol.md §4.5): the head of a
// shard is the tip of the longest chain of valid blocks descending from the
// shard's latest crosslinked block, ties going to the smaller block root.
// Blocks known to be invalid (a failed ProcessBlock or a fraud proof) are
// dropped with all their descendants, even ones that arrive later.
//
// It is a pure value: the caller feeds it headers it has validated (or found
// invalid) and the crosslinked root it reads from the beacon chain. It is not
// safe for concurrent use.
type ForkChoice struct {
	root     bt.Root // the latest crosslinked block (or the shard's genesis header)
	nodes    map[bt.Root]*fcNode
	invalid  map[bt.Root]bool // invalid roots, remembered to reject descendants
	orphaned map[bt.Root][]st.ShardBlockHeader
}

type fcNode struct {
	header   st.ShardBlockHeader
	parent   *fcNode
	children []*fcNode
	height   int // blocks from the root
}

// NewForkChoice starts a fork choice at root, the header of the shard's
// genesis (or latest crosslinked) block.
func NewForkChoice(root st.ShardBlockHeader) *ForkChoice {
	r := root.SigningRoot()
	return &ForkChoice{
		root:     r,
		nodes:    map[bt.Root]*fcNode{r: {header: root}},
		invalid:  make(map[bt.Root]bool),
		orphaned: make(map[bt.Root][]st.ShardBlockHeader),
	}
}

// Root is the block the fork choice is rooted at.
func (f *ForkChoice) Root() bt.Root { return f.root }

// Has reports whether a block is in the tree.
func (f *ForkChoice) Has(root bt.Root) bool { _, ok := f.nodes[root]; return ok }

// Header returns a block's header.
func (f *ForkChoice) Header(root bt.Root) (st.ShardBlockHeader, bool) {
	n, ok := f.nodes[root]
	if !ok {
		return st.ShardBlockHeader{}, false
	}
	return n.header, true
}

// IsInvalid reports whether root (or one of its ancestors) was found invalid.
func (f *ForkChoice) IsInvalid(root bt.Root) bool { return f.invalid[root] }

// AddValid adds a validated block. Its parent must be in the tree; a block
// whose parent is invalid is invalid too (ErrInvalidShardBlock), and one
// whose parent is unknown is kept aside until the parent arrives.
func (f *ForkChoice) AddValid(h st.ShardBlockHeader) error {
	root := h.SigningRoot()
	if _, ok := f.nodes[root]; ok {
		return nil
	}
	if f.invalid[h.ParentRoot] {
		f.markInvalid(root)
		return invalid("block %s descends from an invalid block", root)
	}
	parent, ok := f.nodes[h.ParentRoot]
	if !ok {
		f.orphaned[h.ParentRoot] = append(f.orphaned[h.ParentRoot], h)
		return fmt.Errorf("%w: parent %s of %s", ErrUnknownShardParent, h.ParentRoot, root)
	}
	if h.Slot <= parent.header.Slot || h.Shard != parent.header.Shard {
		return invalid("block at slot %d of shard %d on a parent at slot %d of shard %d", h.Slot, h.Shard, parent.header.Slot, parent.header.Shard)
	}
	n := &fcNode{header: h, parent: parent, height: parent.height + 1}
	parent.children = append(parent.children, n)
	f.nodes[root] = n
	// Blocks waiting for this one.
	waiting := f.orphaned[root]
	delete(f.orphaned, root)
	for _, w := range waiting {
		_ = f.AddValid(w) // their own validity was checked by the caller
	}
	return nil
}

// ErrUnknownShardParent is returned by AddValid for a block whose parent is not
// in the tree yet (the caller should fetch it).
var ErrUnknownShardParent = fmt.Errorf("unknown shard parent")

// MarkInvalid records that a block is invalid: it and every descendant,
// present or future, leave the fork choice.
func (f *ForkChoice) MarkInvalid(root bt.Root) { f.markInvalid(root) }

func (f *ForkChoice) markInvalid(root bt.Root) {
	f.invalid[root] = true
	if n, ok := f.nodes[root]; ok {
		f.remove(n)
	}
	for _, w := range f.orphaned[root] {
		f.markInvalid(w.SigningRoot())
	}
	delete(f.orphaned, root)
}

// remove drops n and its subtree.
func (f *ForkChoice) remove(n *fcNode) {
	for _, c := range n.children {
		f.invalid[c.header.SigningRoot()] = true
		f.remove(c)
	}
	delete(f.nodes, n.header.SigningRoot())
	if p := n.parent; p != nil {
		p.children = slices.DeleteFunc(p.children, func(c *fcNode) bool { return c == n })
	}
}

// SetRoot re-roots the fork choice at the latest crosslinked block (which
// must be in the tree): blocks not descending from it are dropped. Heights
// are counted from the new root.
func (f *ForkChoice) SetRoot(root bt.Root) error {
	n, ok := f.nodes[root]
	if !ok {
		return fmt.Errorf("%w: crosslinked block %s is not in the shard fork choice", ErrUnknownShardParent, root)
	}
	if root == f.root {
		return nil
	}
	keep := make(map[bt.Root]*fcNode)
	var walk func(x *fcNode, h int)
	walk = func(x *fcNode, h int) {
		x.height = h
		keep[x.header.SigningRoot()] = x
		for _, c := range x.children {
			walk(c, h+1)
		}
	}
	walk(n, 0)
	n.parent = nil
	f.nodes, f.root = keep, root
	return nil
}

// Head is the tip of the longest valid chain from the root, ties to the
// smaller root.
func (f *ForkChoice) Head() bt.Root {
	var best *fcNode
	var bestRoot bt.Root
	for _, n := range f.nodes {
		r := rootOf(n)
		if best == nil || n.height > best.height || (n.height == best.height && bytes.Compare(r[:], bestRoot[:]) < 0) {
			best, bestRoot = n, r
		}
	}
	return bestRoot
}

func rootOf(n *fcNode) bt.Root { return n.header.SigningRoot() }

// Chain returns the headers from the root (exclusive) to head (inclusive),
// oldest first, or an error if head is not in the tree.
func (f *ForkChoice) Chain(head bt.Root) ([]st.ShardBlockHeader, error) {
	n, ok := f.nodes[head]
	if !ok {
		return nil, fmt.Errorf("%w: head %s", ErrUnknownShardParent, head)
	}
	var out []st.ShardBlockHeader
	for ; n.parent != nil; n = n.parent {
		out = append(out, n.header)
	}
	slices.Reverse(out)
	return out, nil
}

// CrosslinkHeaders returns what an honest attester crosslinks for c: the
// canonical chain's headers (from the head) with slots in
// [c.start_epoch * SLOTS_PER_EPOCH, c.end_epoch * SLOTS_PER_EPOCH), oldest first.
func (f *ForkChoice) CrosslinkHeaders(slotsPerEpoch uint64, c bt.Crosslink) ([]st.ShardBlockHeader, error) {
	chain, err := f.Chain(f.Head())
	if err != nil {
		return nil, err
	}
	start, end := uint64(c.StartEpoch)*slotsPerEpoch, uint64(c.EndEpoch)*slotsPerEpoch
	var out []st.ShardBlockHeader
	for _, h := range chain {
		if uint64(h.Slot) >= start && uint64(h.Slot) < end {
			out = append(out, h)
		}
	}
	return out, nil
}

// Len is the number of blocks in the tree, the root included.
func (f *ForkChoice) Len() int { return len(f.nodes) }
