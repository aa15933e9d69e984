package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	bchain "github.com/shardlab/shardlab/beacon/chain"
	bcore "github.com/shardlab/shardlab/beacon/core"
	bnode "github.com/shardlab/shardlab/beacon/node"
	"github.com/shardlab/shardlab/beacon/params"
	bstore "github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/crypto/sigcache"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
	"github.com/shardlab/shardlab/shard/store"
)

// Node is a shard node: a beacon node (a follower without validators, or
// with BeaconValidators in shardlab node) and one chain service per served
// shard on one p2p node, with the shard gossip topics, shard blocks by
// range, the proposer, relayer and fisherman duties, and the HTTP API.
// Build it with New, run it with Run, stop it with Close. Its methods are
// safe for concurrent use.
type Node struct {
	cfg    Config
	log    *slog.Logger
	tr     *bcore.Transition
	pcfg   *params.Config
	p2p    *p2p.Node
	ownP2P bool
	beacon *bnode.Node
	bchain *bchain.Service
	// verifier is the fraud-proof verifier of the chain's genesis: the
	// fisherman builds its proofs, the shard chains check transaction
	// signatures, with its transaction domain.
	verifier shardcore.FraudVerifier
	db       kv.DB
	shards   []bt.Shard
	chains   map[bt.Shard]*chain.Service

	markerMu sync.Mutex
	marked   map[bt.Shard]bt.Root // head roots last written to the markers
	keys     *validator.Keys      // nil without hosted keys
	m        *metrics
	api      *beaconapi.Server

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	events   chan bchain.Event
	overflow atomic.Bool // events were dropped: refresh everything
	unsub    func()

	// h makes the shard decisions (gossip, proposals, relaying, fraud
	// proofs, crosslink data); the node drives it over libp2p.
	h *shardhandler.Handler
	// dataSource is h once built, for the embedded beacon node's
	// crosslink data server, which runs from New on.
	dataSource atomic.Pointer[shardhandler.Handler]

	runMu     sync.Mutex
	running   bool
	ran       bool
	closeOnce sync.Once
	closeErr  error
}

// New builds a shard node: the p2p node, the embedded beacon node (which
// opens DataDir/beacon), the shard database and chains, the gossip topics
// and request handlers, and the HTTP API. Nothing runs until Run.
func New(cfg Config, logger *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{
		cfg:    cfg,
		log:    logger.With("component", "shard"),
		tr:     cfg.Transition,
		pcfg:   cfg.Transition.Config(),
		shards: slices.Clone(cfg.Shards),
		chains: make(map[bt.Shard]*chain.Service),
		events: make(chan bchain.Event, 4096),
	}
	slices.Sort(n.shards)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			_ = n.Close()
		}
	}()
	reg := cfg.Registerer
	if reg != nil && cfg.BeaconValidators.Empty() {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"role": "shard"}, reg)
	}
	if err := n.openP2P(logger, reg); err != nil {
		return nil, err
	}
	if err := n.openBeacon(logger, reg); err != nil {
		return nil, err
	}
	if err := n.openChains(logger); err != nil {
		return nil, err
	}
	var err error
	if !cfg.Validators.Empty() {
		if n.keys, err = validator.NewInteropKeys(cfg.Validators.Start, cfg.Validators.Count); err != nil {
			return nil, fmt.Errorf("derive shard proposer keys: %w", err)
		}
	}
	if n.m, err = newMetrics(cfg.Registerer, n.cfg.Chain.TxCache); err != nil {
		return nil, err
	}
	if err := n.openHandler(); err != nil {
		return nil, err
	}
	if err := n.register(); err != nil {
		return nil, err
	}
	n.api = n.newAPI(logger, reg)
	n.unsub = n.bchain.Subscribe(n.onBeaconEvent)
	ok = true
	for _, s := range n.shards {
		h := n.chains[s].Head()
		n.log.Info("shard chain ready", "shard", uint64(s), "slot", h.Header.Slot, "root", h.Root)
	}
	n.log.Info("shard node ready", "shards", shardList(n.shards), "validators", cfg.Validators.String(),
		"beacon_validators", cfg.BeaconValidators.String(), "peer", n.p2p.ID())
	return n, nil
}

func shardList(shards []bt.Shard) string {
	out := ""
	for i, s := range shards {
		if i > 0 {
			out += ","
		}
		out += strconv.FormatUint(uint64(s), 10)
	}
	return out
}

// openP2P adopts cfg.Network or builds the p2p node.
func (n *Node) openP2P(logger *slog.Logger, reg prometheus.Registerer) error {
	if n.cfg.Network != nil {
		n.p2p = n.cfg.Network
		return nil
	}
	pc, err := bnode.ResolveP2P(n.cfg.P2P, n.cfg.Genesis)
	if err != nil {
		return fmt.Errorf("start p2p: %w", err)
	}
	if n.cfg.Host != nil {
		n.p2p, err = p2p.NewWithHost(n.ctx, n.cfg.Host, pc, logger, reg)
	} else {
		if n.cfg.DataDir != "" {
			if err := os.MkdirAll(n.cfg.DataDir, 0o755); err != nil {
				return fmt.Errorf("create data dir: %w", err)
			}
		}
		n.p2p, err = p2p.New(n.ctx, bnode.DataDirP2P(pc, n.cfg.DataDir), logger, reg)
	}
	if err != nil {
		return fmt.Errorf("start p2p: %w", err)
	}
	n.ownP2P = true
	return nil
}

// openBeacon builds the embedded beacon node on the shared p2p node.
func (n *Node) openBeacon(logger *slog.Logger, reg prometheus.Registerer) error {
	bc := n.cfg.Beacon
	bc.Transition, bc.Genesis, bc.DataDir = n.cfg.Transition, n.cfg.Genesis, n.cfg.DataDir
	bc.Network, bc.Host = n.p2p, nil
	bc.Validators = n.cfg.BeaconValidators
	bc.Registerer, bc.Clock = reg, n.cfg.Clock
	// The beacon node builds and serves the HTTP API; newAPI mounts the
	// shard endpoints on it.
	bc.HTTPPort, bc.HTTPHost, bc.Version = n.cfg.HTTPPort, n.cfg.HTTPHost, n.cfg.Version
	served := make([]uint64, len(n.shards))
	for i, s := range n.shards {
		served[i] = uint64(s)
	}
	bc.ServedShards = served
	bc.ServeCrosslinkData = bnode.CrosslinkDataFunc(n.localDataRoot)
	if !n.cfg.BeaconValidators.Empty() {
		bc.CrosslinkData = bnode.CrosslinkDataFunc(n.dataRoot)
	}
	b, err := bnode.New(bc, logger)
	if err != nil {
		return fmt.Errorf("open beacon node: %w", err)
	}
	n.beacon, n.bchain = b, b.Chain()
	return nil
}

// openChains opens the shard database and one chain service per shard.
func (n *Node) openChains(logger *slog.Logger) error {
	var err error
	where := "in-memory shard database"
	if n.cfg.DataDir == "" {
		n.db, err = kv.OpenPebbleMem()
	} else {
		where = filepath.Join(n.cfg.DataDir, "shard")
		n.db, err = kv.OpenPebble(where, kv.PebbleOptions{Logger: logger, Verify: true})
	}
	if err != nil {
		return bnode.DescribeDamage(fmt.Errorf("open shard database: %w", err), where)
	}
	if err := bstore.BindConsensus(n.db, store.KeyConfig, n.pcfg); err != nil {
		return fmt.Errorf("open shard database %s: %w", where, err)
	}
	// The beacon chain knows its genesis from Config.Genesis or its data
	// dir: the genesis block's state root binds transaction signatures.
	if n.verifier, err = shardhandler.Verifier(n.bchain); err != nil {
		return err
	}
	// One cache of each kind per node: the shards share the transaction
	// cache and the beacon chain's BLS cache (unless the config brings
	// caches, as a simulation sharing them among nodes does).
	if n.cfg.Chain.TxCache == nil {
		n.cfg.Chain.TxCache = sigcache.New(sigcache.DefaultEntries)
	}
	if n.cfg.Chain.VerifyCache == nil {
		n.cfg.Chain.VerifyCache = n.bchain.VerifyCache()
	}
	for _, s := range n.shards {
		cc := n.cfg.Chain
		cc.Logger = logger
		c, err := shardhandler.OpenChain(cc, n.bchain, n.db, n.verifier, s, n.cfg.ShardGenesis[s])
		if err != nil {
			return bnode.DescribeDamage(err, where)
		}
		n.chains[s] = c
		if blocks, last := c.PendingBeaconRefs(); blocks > 0 {
			_, bslot := n.bchain.Head()
			n.log.Warn(fmt.Sprintf("shard store is ahead of the beacon store: %d blocks of shard %d up to slot %d reference beacon blocks the beacon store lacks (its head is at slot %d); they rejoin the shard chain as the beacon chain syncs from peers",
				blocks, s, last, bslot), "shard", s, "slot", last)
		}
	}
	return n.checkShardMarkers()
}

// Run runs the embedded beacon node (which serves the HTTP API) and the
// node's loops (beacon events, slot duties) until ctx ends or Close is called. It returns
// nil on a clean stop. Run may be called once.
func (n *Node) Run(ctx context.Context) error {
	n.runMu.Lock()
	if n.ran {
		n.runMu.Unlock()
		return errors.New("run shard node: already run")
	}
	n.ran, n.running = true, true
	n.runMu.Unlock()
	defer func() {
		n.runMu.Lock()
		n.running = false
		n.runMu.Unlock()
	}()
	if n.ctx.Err() != nil {
		return fmt.Errorf("run shard node: %w", p2p.ErrClosed)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(n.ctx, cancel)
	defer stop()
	var wg sync.WaitGroup
	beaconErr := make(chan error, 1)
	loops := []func(context.Context){n.eventLoop, n.slotLoop}
	loops = append(loops, func(ctx context.Context) {
		if err := n.beacon.Run(ctx); err != nil {
			beaconErr <- err
			cancel()
		}
	})
	for _, loop := range loops {
		wg.Add(1)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer wg.Done()
			loop(runCtx)
		}()
	}
	<-runCtx.Done()
	wg.Wait()
	n.log.Info("shard node stopped")
	select {
	case err := <-beaconErr:
		return fmt.Errorf("run shard node: %w", err)
	default:
	}
	return nil
}

// Close stops the node: Run returns, the beacon node and the shard
// database are closed, and the p2p node when the node built it. It is
// idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		if n.unsub != nil {
			n.unsub()
		}
		n.wg.Wait()
		var errs []error
		if n.p2p != nil && !n.ownP2P {
			for _, t := range n.topics() {
				_ = n.p2p.Unsubscribe(t)
			}
		}
		if n.db != nil && len(n.chains) == len(n.shards) {
			errs = append(errs, n.writeShardMarkers(true))
		}
		if n.beacon != nil {
			errs = append(errs, n.beacon.Close())
		}
		if n.p2p != nil && n.ownP2P {
			errs = append(errs, n.p2p.Close())
		}
		if n.db != nil {
			errs = append(errs, n.db.Close())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// Ready reports whether Run has started the node (and Close has not
// stopped it).
func (n *Node) Ready() bool {
	n.runMu.Lock()
	defer n.runMu.Unlock()
	return n.running && n.ctx.Err() == nil
}

// Beacon returns the embedded beacon node.
func (n *Node) Beacon() *bnode.Node { return n.beacon }

// P2P returns the p2p node.
func (n *Node) P2P() *p2p.Node { return n.p2p }

// Shards returns the served shards, ascending.
func (n *Node) Shards() []bt.Shard { return slices.Clone(n.shards) }

// Chain returns the chain service of a served shard.
func (n *Node) Chain(s bt.Shard) (*chain.Service, bool) {
	c, ok := n.chains[s]
	return c, ok
}

// HTTPHandler returns the HTTP API's handler (what Run serves on
// Config.HTTPPort), for tests and embedding.
func (n *Node) HTTPHandler() http.Handler { return n.api.Handler() }
