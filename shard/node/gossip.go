package node

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/p2p"
)

// topics returns the gossip topics the node subscribes to (none before
// the handler is built).
func (n *Node) topics() []string {
	if n.h == nil {
		return nil
	}
	return n.h.Topics()
}

// register subscribes to every served shard's block and transaction
// topics and installs the shard request handlers. As for the beacon
// topics, the validator (the shard handler) does all the work (a block is
// imported, a transaction or claim pooled), so only valid messages are
// forwarded.
func (n *Node) register() error {
	noop := func(context.Context, peer.ID, []byte) {}
	for _, topic := range n.topics() {
		if err := n.p2p.Subscribe(topic, n.validator(topic), noop); err != nil {
			return fmt.Errorf("subscribe %s: %w", topic, err)
		}
	}
	if err := n.p2p.Handle(p2p.ShardBlocksByRangeProtocol, n.serveHandler(p2p.ShardBlocksByRangeProtocol)); err != nil {
		return fmt.Errorf("handle %s: %w", p2p.ShardBlocksByRangeProtocol, err)
	}
	if err := n.p2p.Handle(ShardStateByRootProtocol, n.serveHandler(ShardStateByRootProtocol)); err != nil {
		return fmt.Errorf("handle %s: %w", ShardStateByRootProtocol, err)
	}
	if err := n.p2p.Handle(ShardInboxByCrosslinkProtocol, n.serveHandler(ShardInboxByCrosslinkProtocol)); err != nil {
		return fmt.Errorf("handle %s: %w", ShardInboxByCrosslinkProtocol, err)
	}
	return nil
}

// validator hands a topic's messages to the shard handler; once the node
// is closing they are ignored.
func (n *Node) validator(topic string) p2p.Validator {
	return func(_ context.Context, from peer.ID, data []byte) p2p.ValidationResult {
		if n.ctx.Err() != nil {
			return p2p.Ignore
		}
		switch n.h.OnGossip(topic, from, data) {
		case handler.Accept:
			return p2p.Accept
		case handler.Reject:
			return p2p.Reject
		}
		return p2p.Ignore
	}
}

// serveHandler hands a protocol's requests to the shard handler and
// writes its chunks; once the node is closing requests are refused.
func (n *Node) serveHandler(protocol string) p2p.RequestHandler {
	return func(_ context.Context, from peer.ID, req []byte, w p2p.ResponseWriter) error {
		if n.ctx.Err() != nil {
			return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "node closing"}
		}
		chunks, err := n.h.OnRequest(from, protocol, req)
		for _, c := range chunks {
			if werr := w.WriteChunk(c); werr != nil {
				return werr
			}
		}
		return err
	}
}

// publish encodes and publishes a message.
func (n *Node) publish(ctx context.Context, topic string, v interface{ MarshalSSZ() ([]byte, error) }) error {
	buf, err := v.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode %s message: %w", topic, err)
	}
	return n.p2p.Publish(ctx, topic, buf)
}
