package p2ptest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/p2p"
)

// Topology says which nodes NewMockNet connects. Every pair of nodes is
// linked (can dial) whatever the topology.
type Topology int

const (
	// Unconnected leaves the nodes linked but not connected.
	Unconnected Topology = iota
	// FullMesh connects every pair.
	FullMesh
	// Line connects node i to node i+1.
	Line
	// Ring is Line plus an edge from the last node to the first.
	Ring
)

// Options configures NewMockNet.
type Options struct {
	// Config is the configuration of every node; the zero value means
	// p2p.TestConfig().
	Config p2p.Config
	// ConfigFn, when set, adjusts the configuration of node i.
	ConfigFn func(i int, cfg *p2p.Config)
	// Link is the default latency and bandwidth of every link.
	Link mocknet.LinkOptions
	// Topology selects the initial connections.
	Topology Topology
	// Logger receives the nodes' logs, each with a "node" attribute; nil
	// discards them.
	Logger *slog.Logger
	// Registerer, when set, receives every node's metrics with a "node"
	// label (the node index).
	Registerer prometheus.Registerer
}

// Net is a set of p2p nodes on one go-libp2p mock network.
type Net struct {
	// Mock is the underlying mock network (links, dials).
	Mock mocknet.Mocknet
	// Nodes are the nodes, in creation order.
	Nodes []*p2p.Node

	opts Options

	mu        sync.Mutex
	linkOpts  map[[2]int]mocknet.LinkOptions // per-pair overrides
	unlinked  map[[2]int]bool                // pairs cut by Partition
	connected map[[2]int]bool                // connections before the first Partition
	closed    bool
}

// NewMockNet builds n nodes over a go-libp2p mock network, linked pairwise
// with opts.Link and connected according to opts.Topology. With tb set,
// failures end the test and the network is closed at cleanup; tb may be
// nil (the simulator), in which case the caller must Close it.
func NewMockNet(tb testing.TB, n int, opts Options) (*Net, error) {
	if tb != nil {
		tb.Helper()
	}
	m, err := newMockNet(n, opts)
	if err != nil {
		if tb != nil {
			tb.Fatalf("new mock net: %v", err)
		}
		return nil, err
	}
	if tb != nil {
		tb.Cleanup(func() { _ = m.Close() })
	}
	return m, nil
}

func newMockNet(n int, opts Options) (*Net, error) {
	if n < 0 {
		return nil, fmt.Errorf("new mock net: %w: %d nodes", p2p.ErrInvalidArgument, n)
	}
	if opts.Config.NetworkName == "" {
		opts.Config = p2p.TestConfig()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	mn := mocknet.New()
	mn.SetLinkDefaults(opts.Link)
	m := &Net{
		Mock:     mn,
		opts:     opts,
		linkOpts: map[[2]int]mocknet.LinkOptions{},
		unlinked: map[[2]int]bool{},
	}
	for range n {
		if _, err := m.AddNode(); err != nil {
			_ = m.Close()
			return nil, err
		}
	}
	var edges [][2]int
	switch opts.Topology {
	case FullMesh:
		for i := range n {
			for j := i + 1; j < n; j++ {
				edges = append(edges, [2]int{i, j})
			}
		}
	case Line, Ring:
		for i := 0; i+1 < n; i++ {
			edges = append(edges, [2]int{i, i + 1})
		}
		if opts.Topology == Ring && n > 2 {
			edges = append(edges, [2]int{n - 1, 0})
		}
	}
	for _, e := range edges {
		if err := m.Connect(e[0], e[1]); err != nil {
			_ = m.Close()
			return nil, err
		}
	}
	return m, nil
}

// AddNode adds a node, linked to every existing node but not connected,
// and returns its index.
func (m *Net) AddNode() (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, fmt.Errorf("add node: %w", p2p.ErrClosed)
	}
	i := len(m.Nodes)
	h, err := m.Mock.GenPeer()
	if err != nil {
		return 0, fmt.Errorf("add node %d: %w", i, err)
	}
	cfg := m.opts.Config
	if m.opts.ConfigFn != nil {
		m.opts.ConfigFn(i, &cfg)
	}
	var reg prometheus.Registerer
	if m.opts.Registerer != nil {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"node": strconv.Itoa(i)}, m.opts.Registerer)
	}
	node, err := p2p.NewWithHost(context.Background(), h, cfg, m.opts.Logger.With("node", i), reg)
	if err != nil {
		_ = h.Close()
		return 0, fmt.Errorf("add node %d: %w", i, err)
	}
	for j, other := range m.Nodes {
		if _, err := m.Mock.LinkPeers(other.ID(), h.ID()); err != nil {
			_ = node.Close()
			_ = h.Close()
			return 0, fmt.Errorf("link nodes %d and %d: %w", j, i, err)
		}
	}
	m.Nodes = append(m.Nodes, node)
	return i, nil
}

// Connect connects nodes i and j (they must be linked) and waits until each
// identified the other as a gossipsub peer.
func (m *Net) Connect(i, j int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.connectLocked(i, j)
}

// readyTimeout bounds the wait for identify and the subscription exchange
// after a connection of pair p: half a second plus 20 link latencies (the
// exchange takes a handful of round trips). m.mu must be held.
func (m *Net) readyTimeout(p [2]int) time.Duration {
	lat := m.opts.Link.Latency
	if o, ok := m.linkOpts[p]; ok {
		lat = o.Latency
	}
	return 500*time.Millisecond + 20*lat
}

// connectLocked connects nodes i and j. m.mu must be held.
//
// It works around two races, by reconnecting the pair when the connection
// is not ready within readyTimeout:
//   - go-libp2p v0.51 identify answers from a snapshot of the host's
//     protocols that is refreshed asynchronously, so a node connected right
//     after its gossipsub registered its protocols may be identified without
//     them, and gossipsub then never talks to it;
//   - go-libp2p-pubsub v0.17 can handle the close of an old inbound stream
//     after the subscriptions that arrived on a new connection, and then
//     forgets them (only after a quick disconnect/reconnect, as in Heal).
func (m *Net) connectLocked(i, j int) error {
	a, b := m.Nodes[i], m.Nodes[j]
	var err error
	for range 4 {
		if _, err = m.Mock.ConnectPeers(a.ID(), b.ID()); err != nil {
			return fmt.Errorf("connect nodes %d and %d: %w", i, j, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), m.readyTimeout(pair(i, j)))
		err = waitGossipProtocols(ctx, a, b)
		if err == nil {
			err = waitGossipProtocols(ctx, b, a)
		}
		if err == nil {
			err = waitSubscriptions(ctx, a, b)
		}
		cancel()
		if err == nil {
			return nil
		}
		p := pair(i, j)
		if err := m.Mock.UnlinkPeers(a.ID(), b.ID()); err != nil {
			return fmt.Errorf("connect nodes %d and %d: %w", i, j, err)
		}
		cutErr := m.cutLocked([][2]int{p})
		if err := m.relinkLocked(p); err != nil {
			return err
		}
		if cutErr != nil {
			return fmt.Errorf("connect nodes %d and %d: %w", i, j, cutErr)
		}
	}
	return fmt.Errorf("connect nodes %d and %d: %w", i, j, err)
}

// waitSubscriptions waits until a and b know each other as subscribers of
// every topic both joined. Gossipsub has no event for a lost subscription,
// so this polls.
func waitSubscriptions(ctx context.Context, a, b *p2p.Node) error {
	var common []string
	for _, t := range a.Topics() {
		if slices.Contains(b.Topics(), t) {
			common = append(common, t)
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for _, t := range common {
		for !slices.Contains(a.TopicPeers(t), b.ID()) || !slices.Contains(b.TopicPeers(t), a.ID()) {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return fmt.Errorf("wait for subscriptions to %s: %w", t, ctx.Err())
			}
		}
	}
	return nil
}

// waitGossipProtocols waits until a's peerstore lists a gossipsub protocol
// for b, driven by a's identify events.
func waitGossipProtocols(ctx context.Context, a, b *p2p.Node) error {
	sub, err := a.Host().EventBus().Subscribe([]any{
		new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerProtocolsUpdated),
	})
	if err != nil {
		return fmt.Errorf("subscribe to identify events: %w", err)
	}
	defer sub.Close()
	for {
		protos, err := a.Host().Peerstore().SupportsProtocols(b.ID(), pubsub.GossipSubDefaultProtocols...)
		if err == nil && len(protos) > 0 {
			return nil
		}
		select {
		case <-sub.Out():
		case <-ctx.Done():
			return fmt.Errorf("wait for identify of %s: %w", b.ID(), ctx.Err())
		}
	}
}

// Disconnect closes the connections between nodes i and j, and waits until
// both gossipsub routers dropped their state of the other, so that a later
// Connect is safe (see p2p.Node.WaitGossipPeerGone). The link stays.
func (m *Net) Disconnect(i, j int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := pair(i, j)
	if !m.unlinked[p] {
		// Unlinked while cutting, so that gossipsub cannot redial.
		if err := m.Mock.UnlinkPeers(m.Nodes[i].ID(), m.Nodes[j].ID()); err != nil {
			return fmt.Errorf("disconnect nodes %d and %d: %w", i, j, err)
		}
		defer func() { _ = m.relinkLocked(p) }()
	}
	if err := m.cutLocked([][2]int{p}); err != nil {
		return fmt.Errorf("disconnect nodes %d and %d: %w", i, j, err)
	}
	return nil
}

// settleTimeout bounds how long Disconnect and Partition wait for gossipsub
// to process a disconnect (it usually takes well under a millisecond).
const settleTimeout = 10 * time.Second

// cutLocked closes the connections of unlinked node pairs and waits until
// gossipsub forgot them on both sides. m.mu must be held.
//
// It works around a go-libp2p v0.51 mocknet race: a conn resets its
// streams before it leaves the network's connection table, so gossipsub,
// seeing its stream die while the peer still looks connected, opens a new
// stream on the closing conn, and that stream is never reset: gossipsub
// would keep the peer forever. Resetting the streams left on the closed
// conns (captured before closing) finishes the job; the pairs are unlinked,
// so any later redial fails cleanly.
func (m *Net) cutLocked(pairs [][2]int) error {
	var conns []network.Conn
	for _, p := range pairs {
		a, b := m.Nodes[p[0]], m.Nodes[p[1]]
		conns = append(conns, a.Host().Network().ConnsToPeer(b.ID())...)
		conns = append(conns, b.Host().Network().ConnsToPeer(a.ID())...)
		_ = m.Mock.DisconnectPeers(a.ID(), b.ID())
		_ = m.Mock.DisconnectPeers(b.ID(), a.ID())
	}
	deadline := time.Now().Add(settleTimeout)
	for _, p := range pairs {
		for _, side := range [][2]int{{p[0], p[1]}, {p[1], p[0]}} {
			n, other := m.Nodes[side[0]], m.Nodes[side[1]].ID()
			for {
				for _, c := range conns {
					for _, s := range c.GetStreams() {
						_ = s.Reset()
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
				err := n.WaitGossipPeerGone(ctx, other)
				cancel()
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("node %d: %w", side[0], err)
				}
			}
		}
	}
	return nil
}

// relinkLocked restores the link of pair p. m.mu must be held.
func (m *Net) relinkLocked(p [2]int) error {
	l, err := m.Mock.LinkPeers(m.Nodes[p[0]].ID(), m.Nodes[p[1]].ID())
	if err != nil {
		return fmt.Errorf("link nodes %d and %d: %w", p[0], p[1], err)
	}
	if o, ok := m.linkOpts[p]; ok {
		l.SetOptions(o)
	}
	return nil
}

// SetLink sets the latency and bandwidth of the link between nodes i and j
// (kept across Partition and Heal).
func (m *Net) SetLink(i, j int, o mocknet.LinkOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.linkOpts[pair(i, j)] = o
	links := m.Mock.LinksBetweenPeers(m.Nodes[i].ID(), m.Nodes[j].ID())
	if len(links) == 0 {
		return fmt.Errorf("set link %d-%d: no link", i, j)
	}
	for _, l := range links {
		l.SetOptions(o)
	}
	return nil
}

// Partition splits the nodes into groups: links between nodes of different
// groups are cut and their connections closed; nodes listed in no group
// form one more group together. Heal undoes every Partition since the last
// Heal.
func (m *Net) Partition(groups ...[]int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	group := make([]int, len(m.Nodes))
	for i := range group {
		group[i] = -1
	}
	for g, members := range groups {
		for _, i := range members {
			if i < 0 || i >= len(m.Nodes) {
				return fmt.Errorf("partition: %w: node %d", p2p.ErrInvalidArgument, i)
			}
			group[i] = g
		}
	}
	if m.connected == nil {
		m.connected = map[[2]int]bool{}
		for i, a := range m.Nodes {
			for j := i + 1; j < len(m.Nodes); j++ {
				if a.Host().Network().Connectedness(m.Nodes[j].ID()) == network.Connected {
					m.connected[[2]int{i, j}] = true
				}
			}
		}
	}
	var errs []error
	var cut [][2]int
	for i := range m.Nodes {
		for j := i + 1; j < len(m.Nodes); j++ {
			p := [2]int{i, j}
			if group[i] == group[j] || m.unlinked[p] {
				continue
			}
			a, b := m.Nodes[i].ID(), m.Nodes[j].ID()
			if err := m.Mock.UnlinkPeers(a, b); err != nil {
				errs = append(errs, fmt.Errorf("unlink nodes %d and %d: %w", i, j, err))
				continue
			}
			m.unlinked[p] = true
			cut = append(cut, p)
		}
	}
	// Heal may reconnect right away: let gossipsub forget the cut
	// connections first.
	errs = append(errs, m.cutLocked(cut))
	return errors.Join(errs...)
}

// Heal relinks the pairs cut by Partition and reconnects the pairs that
// were connected before the first Partition.
func (m *Net) Heal() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for p := range m.unlinked {
		if err := m.relinkLocked(p); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(m.unlinked, p)
	}
	for p := range m.connected {
		a, b := m.Nodes[p[0]], m.Nodes[p[1]]
		if a.Host().Network().Connectedness(b.ID()) == network.Connected {
			continue
		}
		if err := m.connectLocked(p[0], p[1]); err != nil {
			errs = append(errs, fmt.Errorf("reconnect: %w", err))
		}
	}
	m.connected = nil
	return errors.Join(errs...)
}

// Subscribed waits until every node knows every connected peer as
// subscribed to the topic name and has a gossipsub mesh of at least
// min(connected peers, Dlo) peers. Call it after all nodes subscribed and
// before publishing: messages published earlier only reach direct peers.
func (m *Net) Subscribed(ctx context.Context, name string) error {
	for i, n := range m.Nodes {
		peers := len(n.Peers())
		if err := n.WaitTopicPeers(ctx, name, peers); err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
		if err := n.WaitMesh(ctx, name, min(peers, n.Config().Gossip.Dlo)); err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
	}
	return nil
}

// Index returns the index of the node with ID id, or -1.
func (m *Net) Index(id peer.ID) int {
	for i, n := range m.Nodes {
		if n.ID() == id {
			return i
		}
	}
	return -1
}

// Close closes every node and the mock network.
func (m *Net) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	nodes := m.Nodes
	m.mu.Unlock()
	var errs []error
	for _, n := range nodes {
		errs = append(errs, n.Close())
	}
	errs = append(errs, m.Mock.Close())
	return errors.Join(errs...)
}

func pair(i, j int) [2]int {
	if i > j {
		i, j = j, i
	}
	return [2]int{i, j}
}
