package node

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// The node's HTTP API: beacon/api's server over the chain service
// (apiBackend) and the node's networking and sync state (apiNode), plus
// the node's own endpoints:
//
//	GET /shardlab/v1/debug/block_arrivals?since=SLOT  first-seen times of blocks (BlockArrivals)
//	GET /metrics                                      the Registerer's metrics, when it is a Gatherer
//
// The server is built by New when Config.HTTPPort > 0, so that callers (the
// shard node) can Mount more handlers on API() before Run, which serves it
// on Config.HTTPHost:HTTPPort and shuts it down gracefully when it returns.

// BlockArrivalsPath is the route of the block arrivals endpoint.
const BlockArrivalsPath = "/shardlab/v1/debug/block_arrivals"

// apiBackend adapts the chain service to api.Backend.
type apiBackend struct{ c *chain.Service }

// NewAPIBackend returns the chain service as the HTTP API's Backend.
func NewAPIBackend(c *chain.Service) api.Backend { return apiBackend{c: c} }

func (b apiBackend) Config() *params.Config       { return b.c.Config() }
func (b apiBackend) Transition() *core.Transition { return b.c.Transition() }

func (b apiBackend) GenesisRoot() (types.Root, error) { return b.c.GenesisRoot(), nil }

func (b apiBackend) Head() (types.Root, types.Slot) { return b.c.Head() }

func (b apiBackend) Finality() (justified, finalized types.Checkpoint) {
	return b.c.Justified(), b.c.Finalized()
}

func (b apiBackend) Block(root types.Root) (types.AnyBlock, error) {
	blk, ok := b.c.Block(root)
	if !ok {
		return nil, fmt.Errorf("block %s: %w", root, api.ErrNotFound)
	}
	return blk, nil
}

func (b apiBackend) CanonicalRoot(slot types.Slot) (types.Root, error) {
	if _, head := b.c.Head(); slot > head {
		return types.Root{}, fmt.Errorf("slot %d after the head slot %d: %w", slot, head, api.ErrNotFound)
	}
	_, root, ok := b.c.CanonicalBlock(slot)
	if !ok {
		return types.Root{}, fmt.Errorf("canonical block at slot %d: %w", slot, api.ErrNotFound)
	}
	return root, nil
}

// State returns a copy of the block's post-state (chain.StateAt copies), so
// the API's read-only use never races with the chain.
func (b apiBackend) State(blockRoot types.Root) (*types.BeaconState, error) {
	st, ok := b.c.StateAt(blockRoot)
	if !ok {
		return nil, fmt.Errorf("state of block %s: %w", blockRoot, api.ErrNotFound)
	}
	return st, nil
}

// apiNode adapts the node to api.NodeBackend.
type apiNode struct{ n *Node }

func (a apiNode) PeerID() string { return a.n.PeerID().String() }

func (a apiNode) Addrs() []string {
	addrs := a.n.Addrs()
	out := make([]string, len(addrs))
	for i, ad := range addrs {
		out[i] = ad.String()
	}
	return out
}

func (a apiNode) Peers() []api.PeerInfo {
	peers := a.n.Peers()
	out := make([]api.PeerInfo, len(peers))
	for i, p := range peers {
		out[i] = api.PeerInfo{PeerID: p.ID.String(), Direction: p.Direction}
		if len(p.Addrs) > 0 {
			out[i].Addr = p.Addrs[0].String()
		}
	}
	return out
}

func (a apiNode) SyncStatus() api.SyncStatus {
	head, dist, syncing := a.n.SyncStatus()
	return api.SyncStatus{HeadSlot: head, SyncDistance: dist, IsSyncing: syncing, Ready: a.n.Ready()}
}

func (a apiNode) Version() string { return a.n.cfg.Version }

// APIBackend returns the node's chain as the HTTP API's Backend.
func (n *Node) APIBackend() api.Backend { return NewAPIBackend(n.chain) }

// APINodeBackend returns the node's identity, peers and sync state as the
// HTTP API's NodeBackend.
func (n *Node) APINodeBackend() api.NodeBackend { return apiNode{n: n} }

// API returns the HTTP API server Run serves (nil when Config.HTTPPort is
// 0). Mount more handlers on it (the shard API under shard/api.Prefix)
// before calling Run.
func (n *Node) API() *api.Server { return n.api }

// HTTPAddr returns the address the HTTP API listens on, once Run has
// started it (nil before, and without an API).
func (n *Node) HTTPAddr() net.Addr {
	if a := n.httpAddr.Load(); a != nil {
		return *a
	}
	return nil
}

// apiMetrics are the HTTP API's request metrics.
type apiMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newAPIMetrics(reg prometheus.Registerer) (*apiMetrics, error) {
	m := &apiMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beacon_http_requests_total",
			Help: "HTTP API requests, by method, route pattern (\"unmatched\" for none) and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "beacon_http_request_duration_seconds",
			Help:    "HTTP API request durations, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register http api metrics: %w", err)
		}
	}
	return m, nil
}

func (m *apiMetrics) observe(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// newAPI builds the HTTP API server of Config.HTTPHost:HTTPPort.
func (n *Node) newAPI(logger *slog.Logger) (*api.Server, error) {
	m, err := newAPIMetrics(n.cfg.Registerer)
	if err != nil {
		return nil, err
	}
	sc := api.DefaultServerConfig()
	sc.Addr = net.JoinHostPort(n.apiHost(), strconv.Itoa(n.cfg.HTTPPort))
	sc.Observe = m.observe
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	alog := logger.With("component", "api")
	srv := api.NewServer(sc, n.APIBackend(), n.APINodeBackend(), alog)
	srv.Mount("GET "+BlockArrivalsPath, n.BlockArrivalsHandler(alog))
	if n.cfg.DebugAPI {
		n.mountDebug(srv, alog)
	}
	if g, ok := n.cfg.Registerer.(prometheus.Gatherer); ok {
		srv.Mount("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	return srv, nil
}

// BlockArrival is one entry of the block arrivals endpoint.
type BlockArrival struct {
	Root types.Root
	Slot types.Slot
	// FirstSeenUnixNanos is when the node first saw the block: its gossip
	// arrival (before validation) or its own proposal.
	FirstSeenUnixNanos uint64
}

// BlockArrivalsSince returns the recorded first-seen times (BlockArrivals)
// of the known blocks at slot >= since, ordered by slot then root. Blocks
// the chain does not have (never imported, or invalid) are left out.
func (n *Node) BlockArrivalsSince(since types.Slot) []BlockArrival {
	out := []BlockArrival{}
	for root, t := range n.BlockArrivals() {
		b, ok := n.chain.Block(root)
		if !ok || b.GetSlot() < since {
			continue
		}
		out = append(out, BlockArrival{Root: root, Slot: b.GetSlot(), FirstSeenUnixNanos: uint64(max(t.UnixNano(), 0))})
	}
	slices.SortFunc(out, func(a, b BlockArrival) int {
		if c := cmp.Compare(a.Slot, b.Slot); c != 0 {
			return c
		}
		return slices.Compare(a.Root[:], b.Root[:])
	})
	return out
}

// BlockArrivalsHandler returns the handler of GET BlockArrivalsPath, for
// servers other than the node's own (the shard node's, which embeds a
// beacon node): srv.Mount("GET "+BlockArrivalsPath, n.BlockArrivalsHandler(logger)).
func (n *Node) BlockArrivalsHandler(logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return api.NewHandler(logger, api.JSONOnly(n.serveBlockArrivals))
}

// serveBlockArrivals answers GET /shardlab/v1/debug/block_arrivals
// ?since=SLOT (default 0) with {"data": [{"root", "slot",
// "first_seen_unix_nanos"}]}.
func (n *Node) serveBlockArrivals(w http.ResponseWriter, r *http.Request) error {
	since, _, err := api.QueryUint(r, "since")
	if err != nil {
		return err
	}
	return api.WriteData(w, n.BlockArrivalsSince(types.Slot(since)))
}

// apiHost is the HTTP API's listen host.
func (n *Node) apiHost() string {
	if n.cfg.HTTPHost == "" {
		return "127.0.0.1"
	}
	return n.cfg.HTTPHost
}
