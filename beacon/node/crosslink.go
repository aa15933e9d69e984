package node

import (
	"context"
	"fmt"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// CrosslinkDataRootProtocol is the request/response protocol on which shard
// nodes answer CrosslinkDataRequests with CrosslinkDataResponses.
const CrosslinkDataRootProtocol = handler.CrosslinkDataRootProtocol

// ErrNoCrosslinkData is returned by a CrosslinkData that has no answer.
var ErrNoCrosslinkData = handler.ErrNoCrosslinkData

// CrosslinkData gives an attester the data root to vote for a crosslink in
// the shard fork: the commitment to the shard block headers of
// [c.StartEpoch, c.EndEpoch) of shard c.Shard (docs/protocol.md §4;
// c.DataRoot is zero on input). The node asks it on a goroutine and hands
// the answer to its handler.
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
// simulations without shard nodes), at once.
type StaticCrosslinkData struct{ Root types.Root }

// DataRoot returns s.Root.
func (s StaticCrosslinkData) DataRoot(context.Context, types.Crosslink) (types.Root, error) {
	return s.Root, nil
}

// EmptyCrosslinkDataRoot is the data root of a crosslink whose range holds
// no shard block (handler.EmptyCrosslinkDataRoot).
func EmptyCrosslinkDataRoot(cfg *params.Config) types.Root {
	return handler.EmptyCrosslinkDataRoot(cfg)
}

// RemoteCrosslinkData asks the peers whose status lists the shard, over
// CrosslinkDataRootProtocol, and returns the root most of them answer
// (handler.Handler.RemoteDataRoot, which runs on the node's request path).
// It is what the node's handler does without Config.CrosslinkData; the
// shard node uses it for shards it does not follow.
type RemoteCrosslinkData struct {
	n *Node
}

// NewRemoteCrosslinkData returns the CrosslinkData that asks n's peers.
func NewRemoteCrosslinkData(n *Node) RemoteCrosslinkData { return RemoteCrosslinkData{n: n} }

// DataRoot waits for the handler's majority vote (bounded by the handler's
// lookup time) or ctx's end. It must not be called from inside a handler
// call.
func (r RemoteCrosslinkData) DataRoot(ctx context.Context, c types.Crosslink) (types.Root, error) {
	type answer struct {
		root types.Root
		err  error
	}
	ch := make(chan answer, 1)
	if !r.n.do(func() {
		r.n.h.RemoteDataRoot(c, func(root types.Root, err error) { ch <- answer{root, err} })
	}) {
		return types.Root{}, fmt.Errorf("crosslink data of shard %d: %w", c.Shard, p2p.ErrClosed)
	}
	select {
	case a := <-ch:
		return a.root, a.err
	case <-ctx.Done():
		return types.Root{}, fmt.Errorf("crosslink data of shard %d: %w: %w", c.Shard, ErrNoCrosslinkData, ctx.Err())
	}
}
