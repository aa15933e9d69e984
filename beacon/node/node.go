package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
)

// Node is a beacon node: the chain service, the p2p node with the beacon
// gossip topics and request/response protocols, sync, and the validator
// client of the hosted keys. Build it with New, run it with Run, stop it with
// Close. Its methods are safe for concurrent use.
type Node struct {
	cfg   Config
	log   *slog.Logger
	tr    *core.Transition
	pcfg  *params.Config
	db    kv.DB
	store *store.Store
	chain *chain.Service
	p2p   *p2p.Node
	own   bool // the node built p2p and closes it
	slots *clock.Slots
	keys  *validator.Keys // nil without hosted validators
	m     *metrics

	graffiti types.Root
	arrivals *arrivalLog
	// equivocateAt is 1 + the slot whose own proposal gets a second,
	// conflicting block (debug API); 0: none.
	equivocateAt atomic.Uint64

	slash       *slasherService // nil when the slasher is off
	marker      *markerWriter   // nil without a data dir
	unsubMarker func()

	api      *api.Server // nil without Config.HTTPPort
	httpAddr atomic.Pointer[net.Addr]
	// pprofAddr is the profiling endpoint's address (pprof.go).
	pprofAddr atomic.Pointer[net.Addr]

	ctx    context.Context // ends at Close (and when Run's context ends)
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu serialises every call into h (handler.Handler holds no locks);
	// closed, set under mu by Close, stops later calls.
	mu      sync.Mutex
	closed  bool
	h       *handler.Handler
	syncing atomic.Bool // mirrors h.Syncing() for lock-free readers

	statusMu sync.Mutex // a leaf lock: never held while calling out
	statuses map[peer.ID]Status

	runMu     sync.Mutex
	running   bool // Run is running
	ran       bool // Run was called
	closeOnce sync.Once
	closeErr  error
}

// maxFutureBlocks bounds the blocks kept until their slot starts.
const maxFutureBlocks = 64

// New builds a node: it opens (or creates) the database, restores the chain,
// derives the hosted keys, builds or adopts the p2p node and registers the
// gossip topics and request handlers. Nothing runs until Run.
func New(cfg Config, logger *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{
		cfg:      cfg,
		log:      logger.With("component", "beacon"),
		tr:       cfg.Transition,
		pcfg:     cfg.Transition.Config(),
		arrivals: newArrivalLog(cfg.MaxBlockArrivals),
	}
	copy(n.graffiti[:], cfg.Graffiti)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			_ = n.Close()
		}
	}()
	if err := n.openChain(logger); err != nil {
		return nil, err
	}
	var err error
	c := cfg.Clock
	if c == nil {
		c = clock.Real{}
	}
	if n.slots, err = clock.NewSlots(c, n.chain.GenesisTime(), n.pcfg.SecondsPerSlot); err != nil {
		return nil, err
	}
	if !cfg.Validators.Empty() {
		if n.keys, err = validator.NewInteropKeys(cfg.Validators.Start, cfg.Validators.Count); err != nil {
			return nil, fmt.Errorf("derive validator keys: %w", err)
		}
	}
	if n.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	if err := n.openP2P(logger); err != nil {
		return nil, err
	}
	n.p2p.SetShardDirectory(shardDirectory{n})
	if err := n.openSlasher(); err != nil { // before gossip can arrive
		return nil, err
	}
	if n.h, err = handler.New(n.handlerConfig(), hostEnv{n: n, rng: newRand()}); err != nil {
		return nil, err
	}
	if err := n.register(); err != nil {
		return nil, err
	}
	if cfg.HTTPPort > 0 {
		if n.api, err = n.newAPI(logger); err != nil {
			return nil, err
		}
	}
	ok = true
	head, slot := n.chain.Head()
	n.log.Info("beacon node ready", "slot", slot, "root", head, "genesis_root", n.chain.GenesisRoot(),
		"validators", cfg.Validators.String(), "peer", n.p2p.ID())
	return n, nil
}

// openChain opens the database, the store and the chain service.
func (n *Node) openChain(logger *slog.Logger) error {
	var err error
	where := "in-memory database"
	if n.cfg.DataDir == "" {
		n.db, err = kv.OpenPebbleMem()
	} else {
		if err = os.MkdirAll(n.cfg.DataDir, 0o755); err != nil {
			return fmt.Errorf("create data dir: %w", err)
		}
		where = filepath.Join(n.cfg.DataDir, "beacon")
		n.db, err = kv.OpenPebble(where, kv.PebbleOptions{Logger: logger, Verify: true})
	}
	if err != nil {
		return DescribeDamage(fmt.Errorf("open database: %w", err), where)
	}
	if n.store, err = store.New(n.db, n.pcfg); err != nil {
		return DescribeDamage(fmt.Errorf("open store %s: %w", where, err), where)
	}
	cc := n.cfg.Chain
	cc.Transition, cc.Store, cc.Genesis = n.tr, n.store, n.cfg.Genesis
	cc.Logger, cc.Registerer = logger, n.cfg.Registerer
	if n.chain, err = chain.New(cc); err != nil {
		return DescribeDamage(err, where)
	}
	if n.cfg.DataDir != "" {
		if err := n.checkMarker(where); err != nil {
			return err
		}
		n.marker, n.unsubMarker = startMarkerWriter(n.chain, filepath.Join(n.cfg.DataDir, MarkerFile), n.log)
	}
	return nil
}

// openP2P adopts cfg.Network or builds a p2p node.
func (n *Node) openP2P(logger *slog.Logger) error {
	if n.cfg.Network != nil {
		n.p2p = n.cfg.Network
		return nil
	}
	pc, err := ResolveP2P(n.cfg.P2P, n.cfg.Genesis)
	if err != nil {
		return fmt.Errorf("start p2p: %w", err)
	}
	if n.cfg.Host != nil {
		n.p2p, err = p2p.NewWithHost(n.ctx, n.cfg.Host, pc, logger, n.cfg.Registerer)
	} else {
		n.p2p, err = p2p.New(n.ctx, DataDirP2P(pc, n.cfg.DataDir), logger, n.cfg.Registerer)
	}
	if err != nil {
		return fmt.Errorf("start p2p: %w", err)
	}
	n.own = true
	return nil
}

// Run starts discovery and the node's loops (slot duties, status exchange,
// sync) and blocks until ctx ends or Close is called. It returns nil on a
// clean stop. Run may be called once.
func (n *Node) Run(ctx context.Context) error {
	n.runMu.Lock()
	if n.ran {
		n.runMu.Unlock()
		return errors.New("run beacon node: already run")
	}
	n.ran, n.running = true, true
	n.runMu.Unlock()
	defer func() {
		n.runMu.Lock()
		n.running = false
		n.runMu.Unlock()
	}()
	if n.ctx.Err() != nil {
		return fmt.Errorf("run beacon node: %w", p2p.ErrClosed)
	}
	stopPprof, err := n.startPprof()
	if err != nil {
		return fmt.Errorf("run beacon node: %w", err)
	}
	defer stopPprof()
	var httpLn net.Listener
	if n.api != nil {
		var err error
		if httpLn, err = net.Listen("tcp", net.JoinHostPort(n.apiHost(), strconv.Itoa(n.cfg.HTTPPort))); err != nil {
			return fmt.Errorf("run beacon node: http api: %w", err)
		}
		addr := httpLn.Addr()
		n.httpAddr.Store(&addr)
	}
	if err := n.p2p.Start(); err != nil && !errors.Is(err, p2p.ErrAlreadyStarted) {
		if httpLn != nil {
			_ = httpLn.Close()
		}
		return fmt.Errorf("run beacon node: %w", err)
	}
	addrs := make([]string, 0)
	for _, a := range n.p2p.FullAddrs() {
		addrs = append(addrs, a.String())
	}
	n.log.Info("p2p listening", "addrs", strings.Join(addrs, ","), "peer", n.p2p.ID())

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(n.ctx, cancel) // Close stops Run
	defer stop()
	var wg sync.WaitGroup
	if httpLn != nil {
		wg.Add(1)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer wg.Done()
			if err := n.api.Serve(runCtx, httpLn); err != nil {
				n.log.Error("http api stopped", "err", err)
			}
		}()
	}
	for _, loop := range []func(context.Context){n.connectionLoop, n.slotLoop} {
		wg.Add(1)
		n.wg.Add(1) // Close waits for the loops too
		go func() {
			defer n.wg.Done()
			defer wg.Done()
			loop(runCtx)
		}()
	}
	<-runCtx.Done()
	wg.Wait()
	n.log.Info("beacon node stopped")
	return nil
}

// Close stops the node: Run returns, background work ends, the p2p node is
// closed when the node built it (otherwise the node only leaves its
// topics), and the database is closed. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		n.mu.Lock()
		n.closed = true // no handler call from now on
		n.mu.Unlock()
		var errs []error
		if n.p2p != nil {
			if n.own {
				errs = append(errs, n.p2p.Close())
			} else {
				for _, t := range handler.Topics {
					_ = n.p2p.Unsubscribe(t)
				}
				n.p2p.SetShardDirectory(nil)
			}
		}
		n.wg.Wait()
		n.closeSlasher()
		if n.marker != nil {
			n.unsubMarker()
			root, slot := n.chain.Head()
			errs = append(errs, n.marker.close(store.Marker{Slot: slot, Root: root}))
		}
		if n.db != nil {
			errs = append(errs, n.db.Close())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// Ready reports whether Run has started the node's services (and Close has
// not stopped them).
func (n *Node) Ready() bool {
	n.runMu.Lock()
	defer n.runMu.Unlock()
	return n.running && n.ctx.Err() == nil
}

// Chain returns the chain service.
func (n *Node) Chain() *chain.Service { return n.chain }

// P2P returns the p2p node.
func (n *Node) P2P() *p2p.Node { return n.p2p }

// PeerID returns the node's libp2p peer ID.
func (n *Node) PeerID() peer.ID { return n.p2p.ID() }

// Addrs returns the node's multiaddrs with the /p2p/<id> suffix.
func (n *Node) Addrs() []ma.Multiaddr { return n.p2p.FullAddrs() }

// HTTPPort returns the configured HTTP API port (0: none).
func (n *Node) HTTPPort() int { return n.cfg.HTTPPort }

// Slots returns the node's slot clock.
func (n *Node) Slots() *clock.Slots { return n.slots }

// BlockArrivals returns, for the most recent block roots (up to
// Config.MaxBlockArrivals), the time the node first saw each: its gossip
// arrival (before validation) or its own proposal. The map is a copy.
func (n *Node) BlockArrivals() map[types.Root]time.Time { return n.arrivals.snapshot() }

// SyncStatus returns the head slot, the distance from the head to the
// current slot, and whether a range sync is running.
func (n *Node) SyncStatus() (headSlot types.Slot, distance uint64, syncing bool) {
	_, headSlot = n.chain.Head()
	cur, _ := n.slots.CurrentSlot()
	if cur > headSlot {
		distance = uint64(cur - headSlot)
	}
	return headSlot, distance, n.syncing.Load()
}

// do runs f with the handler, serialised with every other handler call;
// false (f not run) once the node is closing.
func (n *Node) do(f func()) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || n.h == nil {
		return false
	}
	f()
	return true
}

// tick advances the chain's clock to now (never backwards).
func (n *Node) tick() { n.do(n.h.Tick) }
