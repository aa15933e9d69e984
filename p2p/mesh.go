package p2p

import (
	"context"
	"fmt"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// meshTracer follows gossipsub's mesh (GRAFT/PRUNE/peer down) and wakes
// waiters on every event that can change a topic's mesh or peer list (new
// streams, received subscriptions), so that the simulator and tests can
// wait for a formed mesh instead of sleeping: messages published before the
// mesh exists only reach direct peers. It implements pubsub.RawTracer;
// gossipsub calls it from its event loop, so every method is short. A
// waiter woken from the event loop that queries pubsub (ListPeers) is
// answered only after the loop finished handling the event, so it sees its
// effect.
type meshTracer struct {
	mu      sync.Mutex
	mesh    map[string]map[peer.ID]struct{} // full topic -> mesh peers
	changed chan struct{}                   // closed and replaced on change
}

var _ pubsub.RawTracer = (*meshTracer)(nil)

func newMeshTracer() *meshTracer {
	return &meshTracer{mesh: map[string]map[peer.ID]struct{}{}, changed: make(chan struct{})}
}

// notifyLocked wakes the waiters. m.mu must be held.
func (m *meshTracer) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *meshTracer) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh[topic] == nil {
		m.mesh[topic] = map[peer.ID]struct{}{}
	}
	m.mesh[topic][p] = struct{}{}
	m.notifyLocked()
}

func (m *meshTracer) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh[topic], p)
	m.notifyLocked()
}

func (m *meshTracer) OnClosedOutboundStream(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, peers := range m.mesh {
		delete(peers, p)
	}
	m.notifyLocked()
}

func (m *meshTracer) Leave(topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh, topic)
	m.notifyLocked()
}

func (m *meshTracer) OnNewOutboundStream(peer.ID, protocol.ID) { m.notify() }
func (m *meshTracer) Join(string)                              { m.notify() }

func (m *meshTracer) RecvRPC(rpc *pubsub.RPC) {
	if len(rpc.GetSubscriptions()) > 0 {
		m.notify()
	}
}

func (m *meshTracer) ValidateMessage(*pubsub.Message)       {}
func (m *meshTracer) DeliverMessage(*pubsub.Message)        {}
func (m *meshTracer) RejectMessage(*pubsub.Message, string) {}
func (m *meshTracer) DuplicateMessage(*pubsub.Message)      {}
func (m *meshTracer) ThrottlePeer(peer.ID)                  {}
func (m *meshTracer) SendRPC(*pubsub.RPC, peer.ID)          {}
func (m *meshTracer) DropRPC(*pubsub.RPC, peer.ID)          {}
func (m *meshTracer) UndeliverableMessage(*pubsub.Message)  {}

func (m *meshTracer) notify() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notifyLocked()
}

// changes returns a channel closed at the next event.
func (m *meshTracer) changes() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// peers returns the mesh of topic and a channel closed at the next change.
func (m *meshTracer) peers(topic string) ([]peer.ID, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]peer.ID, 0, len(m.mesh[topic]))
	for p := range m.mesh[topic] {
		out = append(out, p)
	}
	return out, m.changed
}

// MeshPeers returns this node's gossipsub mesh peers of the topic name.
func (n *Node) MeshPeers(name string) []peer.ID {
	p, _ := n.mesh.peers(TopicName(n.cfg.NetworkName, name))
	return p
}

// WaitMesh blocks until this node's mesh of the topic name has at least
// want peers, driven by GRAFT/PRUNE events.
func (n *Node) WaitMesh(ctx context.Context, name string, want int) error {
	topic := TopicName(n.cfg.NetworkName, name)
	for {
		p, changed := n.mesh.peers(topic)
		if len(p) >= want {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for mesh of %s (%d of %d peers): %w", name, len(p), want, ctx.Err())
		}
	}
}
