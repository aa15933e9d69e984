package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	"github.com/shardlab/shardlab/p2p"
)

// CrosslinkDataRootProtocol is the request/response protocol on which shard
// nodes answer CrosslinkDataRequests with CrosslinkDataResponses.
const CrosslinkDataRootProtocol = "crosslink_data_root"

// ErrNoCrosslinkData is returned by a CrosslinkData that has no answer.
var ErrNoCrosslinkData = errors.New("no crosslink data")

// CrosslinkData gives an attester the data root to vote for a crosslink in
// the shard fork: the commitment to the shard block headers of
// [c.StartEpoch, c.EndEpoch) of shard c.Shard (docs/protocol.md §4;
// c.DataRoot is zero on input).
type CrosslinkData interface {
	DataRoot(ctx context.Context, c types.Crosslink) (types.Root, error)
}

// CrosslinkDataFunc adapts a function to CrosslinkData.
type CrosslinkDataFunc func(ctx context.Context, c types.Crosslink) (types.Root, error)

// DataRoot calls f.
func (f CrosslinkDataFunc) DataRoot(ctx context.Context, c types.Crosslink) (types.Root, error) {
	return f(ctx, c)
}

// StaticCrosslinkData answers every crosslink with the same root (tests and
// simulations without shard nodes).
type StaticCrosslinkData struct{ Root types.Root }

// DataRoot returns s.Root.
func (s StaticCrosslinkData) DataRoot(context.Context, types.Crosslink) (types.Root, error) {
	return s.Root, nil
}

// EmptyCrosslinkDataRoot is the data root of a crosslink whose range holds
// no shard block: hash_tree_root(List[Root, MAX_CROSSLINK_HEADERS]([])) with
// MAX_CROSSLINK_HEADERS = SLOTS_PER_EPOCH * MAX_EPOCHS_PER_CROSSLINK, which
// is what shard/core.CrosslinkDataRoot(cfg, nil) computes. Attesters vote it
// when no source answers.
func EmptyCrosslinkDataRoot(cfg *params.Config) types.Root {
	depth := hash.Depth(cfg.SlotsPerEpoch * cfg.MaxEpochsPerCrosslink)
	return hash.MixInLength(hash.ZeroHash(depth), 0)
}

// RemoteCrosslinkData asks the peers whose status lists the shard, over
// CrosslinkDataRootProtocol, and returns the root most of them answer. It
// is the node's default CrosslinkData. A validator that does not follow
// the shard itself trusts these peers for the data it votes for
// (docs/protocol.md §4): asking several and taking the majority means one
// lying peer among honest ones does not decide the vote.
type RemoteCrosslinkData struct {
	n *Node
}

// NewRemoteCrosslinkData returns the CrosslinkData that asks n's peers.
func NewRemoteCrosslinkData(n *Node) RemoteCrosslinkData { return RemoteCrosslinkData{n: n} }

// maxCrosslinkPeers bounds the peers asked at once.
const maxCrosslinkPeers = 4

// DataRoot asks up to four serving peers concurrently and waits for all of
// them (or ctx's end, which the caller keeps short) to return the root
// given by the most peers, the earliest of equals; ErrNoCrosslinkData when
// none knows (or none serves the shard). Disagreeing answers are logged.
func (r RemoteCrosslinkData) DataRoot(ctx context.Context, c types.Crosslink) (types.Root, error) {
	peers := r.n.peersServing(uint64(c.Shard))
	if len(peers) == 0 {
		return types.Root{}, fmt.Errorf("crosslink data of shard %d: %w: no peer serves the shard", c.Shard, ErrNoCrosslinkData)
	}
	if len(peers) > maxCrosslinkPeers {
		peers = peers[:maxCrosslinkPeers]
	}
	req := CrosslinkDataRequest{Shard: uint64(c.Shard), StartEpoch: uint64(c.StartEpoch), EndEpoch: uint64(c.EndEpoch)}
	buf, err := req.MarshalSSZ()
	if err != nil {
		return types.Root{}, fmt.Errorf("encode crosslink data request: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		root  types.Root
		known bool
	}
	answers := make(chan answer, len(peers))
	for _, p := range peers {
		go func(p peer.ID) {
			chunks, err := r.n.p2p.Request(ctx, p, CrosslinkDataRootProtocol, buf, 1)
			if err != nil || len(chunks) != 1 {
				answers <- answer{}
				return
			}
			var resp CrosslinkDataResponse
			if err := types.Decode(&resp, chunks[0]); err != nil || !resp.Known {
				answers <- answer{}
				return
			}
			answers <- answer{root: types.Root(resp.DataRoot), known: true}
		}(p)
	}
	var order []types.Root // distinct roots, first answer first
	votes := make(map[types.Root]int)
wait:
	for range peers {
		select {
		case a := <-answers:
			if a.known {
				if votes[a.root] == 0 {
					order = append(order, a.root)
				}
				votes[a.root]++
			}
		case <-ctx.Done():
			break wait
		}
	}
	if len(order) == 0 {
		return types.Root{}, fmt.Errorf("crosslink data of shard %d: %w: %d peers asked", c.Shard, ErrNoCrosslinkData, len(peers))
	}
	best := order[0]
	for _, root := range order[1:] {
		if votes[root] > votes[best] {
			best = root
		}
	}
	if len(order) > 1 {
		r.n.log.Warn("peers disagree on a crosslink's data root", "shard", c.Shard, "epoch", c.EndEpoch,
			"roots", len(order), "chosen", best, "votes", votes[best])
	}
	return best, nil
}

// serveCrosslinkData answers CrosslinkDataRequests for the served shards.
func (n *Node) serveCrosslinkData(ctx context.Context, _ peer.ID, req []byte, w p2p.ResponseWriter) error {
	var r CrosslinkDataRequest
	if err := types.Decode(&r, req); err != nil {
		return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "bad crosslink data request"}
	}
	resp := CrosslinkDataResponse{}
	if slices.Contains(n.cfg.ServedShards, r.Shard) && r.StartEpoch <= r.EndEpoch {
		root, err := n.cfg.ServeCrosslinkData.DataRoot(ctx, types.Crosslink{
			Shard: types.Shard(r.Shard), StartEpoch: types.Epoch(r.StartEpoch), EndEpoch: types.Epoch(r.EndEpoch),
		})
		if err == nil {
			resp = CrosslinkDataResponse{DataRoot: root, Known: true}
		}
	}
	buf, err := resp.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode crosslink data response: %w", err)
	}
	return w.WriteChunk(buf)
}
