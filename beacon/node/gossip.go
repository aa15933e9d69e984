package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/p2p"
)

// register subscribes to the gossip topics and installs the request
// handlers, all of which call the handler. Every gossip message is fully
// processed by the handler inside its validator (a block is imported, an
// attestation counted and pooled), so that only valid messages are
// forwarded; the p2p handlers have nothing left to do.
func (n *Node) register() error {
	noop := func(context.Context, peer.ID, []byte) {}
	for _, t := range handler.Topics {
		if err := n.p2p.Subscribe(t, n.gossipValidator(t), noop); err != nil {
			return fmt.Errorf("subscribe %s: %w", t, err)
		}
	}
	for _, name := range handler.Protocols {
		if !n.h.Serves(name) {
			continue
		}
		if err := n.p2p.Handle(name, n.requestHandler(name)); err != nil {
			return fmt.Errorf("handle %s: %w", name, err)
		}
	}
	return nil
}

// gossipValidator hands a topic's messages to the handler; once the node
// is closing they are ignored.
func (n *Node) gossipValidator(topic string) p2p.Validator {
	return func(_ context.Context, from peer.ID, data []byte) p2p.ValidationResult {
		res := p2p.Ignore
		n.do(func() {
			switch n.h.OnGossip(topic, from, data) {
			case handler.Accept:
				res = p2p.Accept
			case handler.Reject:
				res = p2p.Reject
			}
		})
		return res
	}
}

// requestHandler hands a protocol's requests to the handler and writes its
// chunks; once the node is closing requests are refused.
func (n *Node) requestHandler(protocol string) p2p.RequestHandler {
	return func(_ context.Context, from peer.ID, req []byte, w p2p.ResponseWriter) error {
		var chunks [][]byte
		var err error
		if !n.do(func() { chunks, err = n.h.OnRequest(from, protocol, req) }) {
			return &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "node closing"}
		}
		if errors.Is(err, handler.ErrInvalidRequest) {
			return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: err.Error()}
		}
		for _, c := range chunks {
			if werr := w.WriteChunk(c); werr != nil {
				return werr
			}
		}
		return err
	}
}
