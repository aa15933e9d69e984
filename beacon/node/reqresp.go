package node

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// status returns the node's Status.
func (n *Node) status() Status {
	head, slot := n.chain.Head()
	fin := n.chain.Finalized()
	shards := append([]uint64(nil), n.cfg.ServedShards...)
	return Status{
		ForkVersion:    n.forkVersion(n.slots.CurrentEpoch(n.pcfg.SlotsPerEpoch)),
		GenesisRoot:    n.chain.GenesisRoot(),
		FinalizedRoot:  fin.Root,
		FinalizedEpoch: uint64(fin.Epoch),
		HeadRoot:       head,
		HeadSlot:       uint64(slot),
		Shards:         shards,
	}
}

// serveStatus records the requester's status and answers with ours.
func (n *Node) serveStatus(_ context.Context, from peer.ID, req []byte, w p2p.ResponseWriter) error {
	var st Status
	if err := types.Decode(&st, req); err != nil {
		return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad status"}
	}
	n.onStatus(from, st)
	ours := n.status()
	buf, err := ours.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	return w.WriteChunk(buf)
}

// maxRangeCount bounds the blocks of one range request.
const maxRangeCount = 1024

// serveBlocksByRange streams the canonical blocks of the requested slots.
func (n *Node) serveBlocksByRange(_ context.Context, _ peer.ID, req []byte, w p2p.ResponseWriter) error {
	var r BlocksByRangeRequest
	if err := types.Decode(&r, req); err != nil || r.Count == 0 || r.Step == 0 {
		return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad blocks by range request"}
	}
	count := min(r.Count, maxRangeCount)
	_, headSlot := n.chain.Head()
	var roots []types.Root
	if r.Step == 1 {
		if r.StartSlot > uint64(headSlot) {
			return nil
		}
		count = min(count, uint64(headSlot)-r.StartSlot+1)
		var err error
		if roots, err = n.chain.CanonicalRange(types.Slot(r.StartSlot), count); err != nil {
			return err
		}
	} else {
		for i := range count {
			slot := r.StartSlot + i*r.Step
			if slot > uint64(headSlot) || slot < r.StartSlot {
				break
			}
			if _, root, ok := n.chain.CanonicalBlock(types.Slot(slot)); ok {
				roots = append(roots, root)
			}
		}
	}
	return n.writeBlocks(w, roots)
}

// serveBlocksByRoot streams the requested blocks that the node has.
func (n *Node) serveBlocksByRoot(_ context.Context, _ peer.ID, req []byte, w p2p.ResponseWriter) error {
	var r BlocksByRootRequest
	if err := types.Decode(&r, req); err != nil {
		return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad blocks by root request"}
	}
	roots := make([]types.Root, len(r.Roots))
	for i, x := range r.Roots {
		roots[i] = x
	}
	return n.writeBlocks(w, roots)
}

func (n *Node) writeBlocks(w p2p.ResponseWriter, roots []types.Root) error {
	for _, root := range roots {
		b, ok := n.chain.Block(root)
		if !ok {
			continue
		}
		buf, err := b.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("encode block %s: %w", root, err)
		}
		if err := w.WriteChunk(buf); err != nil {
			return err
		}
	}
	return nil
}

// requestStatus exchanges statuses with p and records p's.
func (n *Node) requestStatus(ctx context.Context, p peer.ID) (Status, error) {
	ours := n.status()
	buf, err := ours.MarshalSSZ()
	if err != nil {
		return Status{}, fmt.Errorf("encode status: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Sync.RequestTimeout)
	defer cancel()
	chunks, err := n.p2p.Request(ctx, p, p2p.StatusProtocol, buf, 1)
	if err != nil {
		return Status{}, err
	}
	if len(chunks) != 1 {
		return Status{}, fmt.Errorf("status of %s: no response", p)
	}
	var st Status
	if err := types.Decode(&st, chunks[0]); err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", p, err)
	}
	n.onStatus(p, st)
	return st, nil
}

// requestBlocks sends a blocks request and decodes the chunks.
func (n *Node) requestBlocks(ctx context.Context, p peer.ID, protocol string, req interface{ MarshalSSZ() ([]byte, error) }, max int) ([]types.AnyBlock, error) {
	buf, err := req.MarshalSSZ()
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", protocol, err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Sync.RequestTimeout)
	defer cancel()
	chunks, err := n.p2p.Request(ctx, p, protocol, buf, max)
	if err != nil && len(chunks) == 0 {
		return nil, err
	}
	blocks := make([]types.AnyBlock, 0, len(chunks))
	for _, c := range chunks {
		b, err := types.DecodeBlock(n.pcfg, c)
		if err != nil {
			return blocks, fmt.Errorf("%s from %s: %w", protocol, p, err)
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// requestRange asks p for the canonical blocks of [start, start+count).
func (n *Node) requestRange(ctx context.Context, p peer.ID, start types.Slot, count uint64) ([]types.AnyBlock, error) {
	req := &BlocksByRangeRequest{StartSlot: uint64(start), Count: count, Step: 1}
	return n.requestBlocks(ctx, p, p2p.BeaconBlocksByRangeProtocol, req, int(min(count, maxRangeCount)))
}

// requestRoots asks p for blocks by root.
func (n *Node) requestRoots(ctx context.Context, p peer.ID, roots []types.Root) ([]types.AnyBlock, error) {
	req := &BlocksByRootRequest{Roots: make([][32]byte, len(roots))}
	for i, r := range roots {
		req.Roots[i] = r
	}
	return n.requestBlocks(ctx, p, p2p.BeaconBlocksByRootProtocol, req, len(roots))
}
