package handler

import (
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// CrosslinkDataRootProtocol is the request/response protocol on which shard
// nodes answer CrosslinkDataRequests with CrosslinkDataResponses.
const CrosslinkDataRootProtocol = "crosslink_data_root"

// Protocols are the request protocols the Handler serves; the last,
// CrosslinkDataRootProtocol, only with Config.ServeCrosslinkData.
var Protocols = []string{
	p2p.StatusProtocol, p2p.BeaconBlocksByRangeProtocol, p2p.BeaconBlocksByRootProtocol, CrosslinkDataRootProtocol,
}

// Serves reports whether the Handler answers protocol.
func (h *Handler) Serves(protocol string) bool {
	if protocol == CrosslinkDataRootProtocol {
		return h.cfg.ServeCrosslinkData != nil
	}
	return slices.Contains(Protocols, protocol)
}

// OnRequest answers a request from peer from: the response chunks, or an
// error wrapping ErrInvalidRequest (bad request) or ErrUnknownProtocol.
func (h *Handler) OnRequest(from peer.ID, protocol string, req []byte) ([][]byte, error) {
	switch {
	case !h.Serves(protocol):
		return nil, fmt.Errorf("serve %s: %w", protocol, ErrUnknownProtocol)
	case protocol == p2p.StatusProtocol:
		return h.serveStatus(from, req)
	case protocol == p2p.BeaconBlocksByRangeProtocol:
		return h.serveBlocksByRange(req)
	case protocol == p2p.BeaconBlocksByRootProtocol:
		return h.serveBlocksByRoot(req)
	}
	return h.serveCrosslinkData(req)
}

// serveStatus records the requester's status and answers with ours.
func (h *Handler) serveStatus(from peer.ID, req []byte) ([][]byte, error) {
	var st Status
	if err := types.Decode(&st, req); err != nil {
		return nil, fmt.Errorf("%w: bad status", ErrInvalidRequest)
	}
	h.onStatus(from, st)
	ours := h.Status()
	buf, err := ours.MarshalSSZ()
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	return [][]byte{buf}, nil
}

// MaxRangeCount bounds the blocks of one range request.
const MaxRangeCount = 1024

// serveBlocksByRange returns the canonical blocks of the requested slots.
func (h *Handler) serveBlocksByRange(req []byte) ([][]byte, error) {
	var r BlocksByRangeRequest
	if err := types.Decode(&r, req); err != nil || r.Count == 0 || r.Step == 0 {
		return nil, fmt.Errorf("%w: bad blocks by range request", ErrInvalidRequest)
	}
	count := min(r.Count, MaxRangeCount)
	_, headSlot := h.chain.Head()
	var roots []types.Root
	if r.Step == 1 {
		if r.StartSlot > uint64(headSlot) {
			return nil, nil
		}
		count = min(count, uint64(headSlot)-r.StartSlot+1)
		var err error
		if roots, err = h.chain.CanonicalRange(types.Slot(r.StartSlot), count); err != nil {
			return nil, err
		}
	} else {
		for i := range count {
			slot := r.StartSlot + i*r.Step
			if slot > uint64(headSlot) || slot < r.StartSlot {
				break
			}
			if _, root, ok := h.chain.CanonicalBlock(types.Slot(slot)); ok {
				roots = append(roots, root)
			}
		}
	}
	return h.encodeBlocks(roots)
}

// serveBlocksByRoot returns the requested blocks that the node has.
func (h *Handler) serveBlocksByRoot(req []byte) ([][]byte, error) {
	var r BlocksByRootRequest
	if err := types.Decode(&r, req); err != nil {
		return nil, fmt.Errorf("%w: bad blocks by root request", ErrInvalidRequest)
	}
	roots := make([]types.Root, len(r.Roots))
	for i, x := range r.Roots {
		roots[i] = x
	}
	return h.encodeBlocks(roots)
}

func (h *Handler) encodeBlocks(roots []types.Root) ([][]byte, error) {
	var out [][]byte
	for _, root := range roots {
		b, ok := h.chain.Block(root)
		if !ok {
			continue
		}
		buf, err := b.MarshalSSZ()
		if err != nil {
			return out, fmt.Errorf("encode block %s: %w", root, err)
		}
		out = append(out, buf)
	}
	return out, nil
}

// serveCrosslinkData answers a CrosslinkDataRequest for a served shard.
func (h *Handler) serveCrosslinkData(req []byte) ([][]byte, error) {
	var r CrosslinkDataRequest
	if err := types.Decode(&r, req); err != nil {
		return nil, fmt.Errorf("%w: bad crosslink data request", ErrInvalidRequest)
	}
	resp := CrosslinkDataResponse{}
	if slices.Contains(h.cfg.ServedShards, r.Shard) && r.StartEpoch <= r.EndEpoch {
		root, err := h.cfg.ServeCrosslinkData(types.Crosslink{
			Shard: types.Shard(r.Shard), StartEpoch: types.Epoch(r.StartEpoch), EndEpoch: types.Epoch(r.EndEpoch),
		})
		if err == nil {
			resp = CrosslinkDataResponse{DataRoot: root, Known: true}
		}
	}
	buf, err := resp.MarshalSSZ()
	if err != nil {
		return nil, fmt.Errorf("encode crosslink data response: %w", err)
	}
	return [][]byte{buf}, nil
}
