package p2p

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// Node is a libp2p host with gossipsub and the request/response protocols.
// Build it with New (own host) or NewWithHost (caller's host, e.g. mocknet),
// register topics and handlers, then Start it. All methods are safe for
// concurrent use.
type Node struct {
	cfg     Config
	log     *slog.Logger
	host    host.Host
	ownHost bool
	ps      *pubsub.PubSub
	metrics *metrics
	mesh    *meshTracer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	bootnodes []peer.AddrInfo
	inbound   chan struct{} // semaphore of inbound requests

	mu        sync.Mutex
	started   bool
	closed    bool
	topics    map[string]*topicState // by short name
	protocols map[protocol.ID]struct{}
	bans      map[peer.ID]time.Time
	blocked   map[peer.ID]bool // BlockPeers: refused until UnblockPeers
	mdns      mdns.Service
	shardDir  ShardDirectory

	scores       atomic.Pointer[map[peer.ID]float64]
	scoreSamples atomic.Uint64
}

// New builds a libp2p host from cfg (TCP, QUIC, noise, yamux, a connection
// manager bounded by MaxPeers, a connection gater refusing banned and
// blocked peers: gater.go) and a Node on it. The Node owns the host and
// closes it in Close. ctx bounds the Node's lifetime like Close does. reg
// receives the Node's metrics; nil means no registration.
func New(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key := cfg.PrivateKey
	if key == nil && cfg.KeyFile != "" {
		k, _, err := LoadOrGenerateKey(cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load node key: %w", err)
		}
		key = k
	}
	if key == nil {
		k, err := GenerateKey()
		if err != nil {
			return nil, err
		}
		key = k
	}
	low := max(1, cfg.MaxPeers*4/5)
	cm, err := connmgr.NewConnManager(low, cfg.MaxPeers, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("create connection manager: %w", err)
	}
	listen := libp2p.ListenAddrStrings(cfg.ListenAddrs...)
	if len(cfg.ListenAddrs) == 0 {
		listen = libp2p.NoListenAddrs // dial-only node
	}
	bw, err := newBandwidth(reg)
	if err != nil {
		_ = cm.Close()
		return nil, err
	}
	g := new(gater)
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.ConnectionGater(g),
		listen,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent("shardlab"),
		libp2p.DisableRelay(),
		// No global Prometheus registry: our own metrics go to reg.
		libp2p.DisableMetrics(),
		libp2p.BandwidthReporter(bw),
	)
	if err != nil {
		_ = cm.Close()
		return nil, fmt.Errorf("create libp2p host: %w", err)
	}
	n, err := newNode(ctx, h, true, cfg, logger, reg)
	if err != nil {
		_ = h.Close()
		return nil, err
	}
	banned := n.isBanned
	g.banned.Store(&banned)
	return n, nil
}

// NewWithHost builds a Node on a host the caller owns (for example a
// go-libp2p mocknet host in the simulator). cfg.ListenAddrs, PrivateKey,
// KeyFile and MaxPeers are ignored. Close does not close h.
func NewWithHost(ctx context.Context, h host.Host, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newNode(ctx, h, false, cfg, logger, reg)
}

func newNode(ctx context.Context, h host.Host, ownHost bool, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Node, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	boot, err := cfg.bootnodes()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:       cfg,
		log:       logger.With("component", "p2p"),
		host:      h,
		ownHost:   ownHost,
		metrics:   m,
		mesh:      newMeshTracer(),
		bootnodes: boot,
		inbound:   make(chan struct{}, cfg.ReqResp.MaxConcurrentInbound),
		topics:    make(map[string]*topicState),
		protocols: make(map[protocol.ID]struct{}),
		bans:      make(map[peer.ID]time.Time),
	}
	n.ctx, n.cancel = context.WithCancel(ctx)
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		n.cancel()
		return nil, fmt.Errorf("subscribe to connection events: %w", err)
	}
	if err := n.newPubSub(); err != nil {
		_ = sub.Close()
		n.cancel()
		return nil, err
	}
	if err := n.Handle(PeerExchangeProtocol, n.servePeers); err != nil {
		_ = sub.Close()
		n.cancel()
		return nil, err
	}
	n.wg.Add(1)
	go n.connectionEvents(sub)
	return n, nil
}

// Config returns the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// Host returns the underlying libp2p host.
func (n *Node) Host() host.Host { return n.host }

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Addrs returns the node's listen addresses (without /p2p/).
func (n *Node) Addrs() []ma.Multiaddr { return n.host.Addrs() }

// AddrInfo returns the node's ID and addresses.
func (n *Node) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()}
}

// FullAddrs returns the node's addresses with its /p2p/<peer ID> suffix,
// ready to be used as bootnodes by other nodes.
func (n *Node) FullAddrs() []ma.Multiaddr {
	ai := n.AddrInfo()
	addrs, err := peer.AddrInfoToP2pAddrs(&ai)
	if err != nil { // only for an empty ID, which a host never has
		return nil
	}
	return addrs
}

// Peers returns the currently connected peers.
func (n *Node) Peers() []peer.ID { return n.host.Network().Peers() }

// Connect dials a peer (a no-op when already connected). Banned peers and
// the node itself are refused.
func (n *Node) Connect(ctx context.Context, ai peer.AddrInfo) error {
	if ai.ID == n.host.ID() {
		return fmt.Errorf("connect peer %s: %w", ai.ID, ErrSelfDial)
	}
	if n.isBanned(ai.ID) {
		return fmt.Errorf("connect peer %s: %w", ai.ID, ErrPeerBanned)
	}
	if err := n.host.Connect(ctx, ai); err != nil {
		return fmt.Errorf("connect peer %s: %w", ai.ID, err)
	}
	return nil
}

// Start starts discovery: it logs the node's addresses, dials the bootnodes
// (and keeps redialing them with backoff), starts the peer exchange's
// dialing when DiscoveryConfig.TargetPeers > 0 (discover.go) and mDNS when
// enabled. The goroutines stop at Close.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if n.started {
		return ErrAlreadyStarted
	}
	n.started = true
	addrs := make([]string, 0)
	for _, a := range n.FullAddrs() {
		addrs = append(addrs, a.String())
	}
	n.log.Info("p2p node started", "peer", n.host.ID(), "addrs", addrs, "network", n.cfg.NetworkName)
	if len(n.bootnodes) > 0 {
		n.wg.Add(1)
		go n.dialBootnodes()
	}
	if n.cfg.Discovery.TargetPeers > 0 {
		n.wg.Add(1)
		go n.discover()
	}
	if n.cfg.MDNS {
		svc := mdns.NewMdnsService(n.host, n.cfg.MDNSServiceTag, mdnsNotifee{n})
		if err := svc.Start(); err != nil {
			// Not fatal: a host without multicast still works with bootnodes.
			n.log.Warn("mdns discovery unavailable", "err", err)
		} else {
			n.mdns = svc
		}
	}
	return nil
}

// Close stops the node: gossip, handlers, discovery, background goroutines,
// and the host when New created it. It is idempotent.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	svc := n.mdns
	protos := make([]protocol.ID, 0, len(n.protocols))
	for p := range n.protocols {
		protos = append(protos, p)
	}
	topics := make([]*topicState, 0, len(n.topics))
	for _, t := range n.topics {
		topics = append(topics, t)
	}
	n.topics = map[string]*topicState{}
	n.mu.Unlock()

	for _, p := range protos {
		n.host.RemoveStreamHandler(p)
	}
	for _, t := range topics {
		t.close()
	}
	if svc != nil {
		if err := svc.Close(); err != nil {
			n.log.Debug("close mdns", "err", err)
		}
	}
	n.cancel() // stops pubsub and our goroutines
	n.wg.Wait()
	if n.ownHost {
		if err := n.host.Close(); err != nil {
			return fmt.Errorf("close host: %w", err)
		}
	}
	return nil
}

// PeerScores returns the gossipsub scores of known peers, as sampled every
// ScoreConfig.InspectInterval (nil before the first sample or with scoring
// off).
func (n *Node) PeerScores() map[peer.ID]float64 {
	m := n.scores.Load()
	if m == nil {
		return nil
	}
	return maps.Clone(*m)
}

// PeerScore returns the last sampled gossipsub score of p.
func (n *Node) PeerScore(p peer.ID) (float64, bool) {
	m := n.scores.Load()
	if m == nil {
		return 0, false
	}
	s, ok := (*m)[p]
	return s, ok
}

// Banned reports whether p is currently refused for a low score.
func (n *Node) Banned(p peer.ID) bool { return n.isBanned(p) }

// inspectScores receives score samples from gossipsub (in its own
// goroutine), publishes them for PeerScores, and disconnects and bans peers
// below the graylist threshold.
func (n *Node) inspectScores(scores map[peer.ID]float64) {
	n.scores.Store(&scores)
	n.scoreSamples.Add(1)
	if n.ctx.Err() != nil {
		return
	}
	for p, s := range scores {
		if s >= n.cfg.Score.GraylistThreshold || n.host.Network().Connectedness(p) != network.Connected {
			continue
		}
		n.ban(p)
		n.log.Warn("disconnecting peer with low gossip score", "peer", p, "score", s)
		if err := n.host.Network().ClosePeer(p); err != nil {
			n.log.Debug("close peer", "peer", p, "err", err)
		}
	}
}

func (n *Node) ban(p peer.ID) {
	n.mu.Lock()
	n.bans[p] = time.Now().Add(n.cfg.Score.BanDuration)
	n.mu.Unlock()
}

func (n *Node) isBanned(p peer.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.blocked[p] {
		return true
	}
	until, ok := n.bans[p]
	if !ok {
		return false
	}
	if time.Now().After(until) {
		delete(n.bans, p)
		return false
	}
	return true
}

// connectionEvents keeps libp2p_peers current and drops connections from
// banned peers (inbound ones cannot be refused earlier on a caller's host).
func (n *Node) connectionEvents(sub event.Subscription) {
	defer n.wg.Done()
	defer sub.Close()
	n.metrics.peers.Set(float64(len(n.host.Network().Peers())))
	for {
		select {
		case <-n.ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			ev := e.(event.EvtPeerConnectednessChanged)
			n.metrics.peers.Set(float64(len(n.host.Network().Peers())))
			switch ev.Connectedness {
			case network.Connected:
				if n.isBanned(ev.Peer) {
					n.log.Debug("dropping connection of banned peer", "peer", ev.Peer)
					// Not inline: closing emits events into this loop.
					n.wg.Add(1)
					go func(p peer.ID) {
						defer n.wg.Done()
						_ = n.host.Network().ClosePeer(p)
					}(ev.Peer)
					continue
				}
				n.log.Debug("peer connected", "peer", ev.Peer)
			case network.NotConnected:
				n.log.Debug("peer disconnected", "peer", ev.Peer)
			}
		}
	}
}
