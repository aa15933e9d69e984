package netsim

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/slasher"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// node is one simulated beacon node: the production handler on its own
// chain and in-memory Pebble store.
type node struct {
	s     *Sim
	index int
	id    peer.ID
	db    kv.DB
	chain *chain.Service
	h     *handler.Handler
	rng   *rand.Rand
	log   *slog.Logger
	seen  map[msgID]bool // gossip already received or published
	keys  *validator.Keys
	// down marks a crashed node (see Crash); idle a node whose validators
	// skip their duties (see SetDuties); gen counts restarts, so timers of
	// a crashed incarnation never fire into the next.
	down, idle bool
	gen        int
	slasher    *slasher.Slasher // nil unless Config.Slasher
	// intercept, when set, sees the node's publications first and keeps
	// those it returns true for off the network (byzantine behaviour).
	intercept func(topic string, data []byte) bool
	shard     *shardPart // the shard side of a shard node (nil: a beacon node)
	// skew is the node's clock offset (SetClockSkew): positive is ahead.
	skew time.Duration
	// nextSlot is the first slot whose slot work is not yet scheduled.
	nextSlot types.Slot
	// retired are the databases of incarnations replaced by Join.
	retired []kv.DB
}

// nodeID is the peer ID of node i ("node-000" and so on).
func nodeID(i int) peer.ID { return peer.ID(fmt.Sprintf("node-%03d", i)) }

// newNode opens node i hosting keys.
func (s *Sim) newNode(i int, tr *core.Transition, genesis *types.BeaconState, keys *validator.Keys) (*node, error) {
	db, err := kv.OpenPebbleMem()
	if err != nil {
		return nil, fmt.Errorf("open node %d database: %w", i, err)
	}
	n := &node{s: s, index: i, id: nodeID(i), db: db, seen: make(map[msgID]bool), keys: keys,
		rng: rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)+1)), log: s.log.With("node", i)}
	if err := n.open(tr, genesis); err != nil {
		_ = db.Close()
		return nil, err
	}
	return n, nil
}

// open builds the node's chain service and handler on its database (at
// creation, and again on a restart, when the chain resumes from the store).
func (n *node) open(tr *core.Transition, genesis *types.BeaconState) error {
	i, keys := n.index, n.keys
	st, err := store.New(n.db, tr.Config())
	if err != nil {
		return fmt.Errorf("open node %d store: %w", i, err)
	}
	cc := chain.DefaultConfig()
	cc.Transition, cc.Store, cc.Genesis, cc.Logger = tr, st, genesis, n.log
	cc.VerifyCache, cc.StateCache, cc.SkipSignatures = n.s.shared.verify, n.s.shared.states, n.s.cfg.FakeBLS
	if n.chain, err = chain.New(cc); err != nil {
		return fmt.Errorf("open node %d chain: %w", i, err)
	}
	slot := time.Duration(tr.Config().SecondsPerSlot) * time.Second
	hc := handler.Config{
		Chain: n.chain, Keys: keys,
		Sync:  handler.SyncConfig{BatchSize: 64, StatusInterval: 2, MaxParentFetch: 32, RequestTimeout: slot},
		Hooks: handler.Hooks{AttestationVerified: n.slashAttestation},
		Eth1:  &n.s.eth1, Behaviour: n.s.behaviour(n),
	}
	copy(hc.Graffiti[:], fmt.Sprintf("netsim node %d", i))
	n.closeShard() // a restart replaces the shard side too
	n.shard = nil
	if err := n.s.openShard(n, &hc); err != nil {
		return err
	}
	if n.h, err = handler.New(hc, simEnv{n}); err != nil {
		return fmt.Errorf("open node %d handler: %w", i, err)
	}
	return n.openSlasher()
}

// simEnv is the simulated handler.Env of a node.
type simEnv struct{ n *node }

func (e simEnv) Now() time.Time       { return e.n.s.loop.now.Add(e.n.skew) }
func (e simEnv) Rand() *rand.Rand     { return e.n.rng }
func (e simEnv) Logger() *slog.Logger { return e.n.log }
func (e simEnv) Peers() []peer.ID     { return e.n.s.peersOf(e.n.index) }

func (e simEnv) Publish(topic string, data []byte) {
	if e.n.intercept != nil && e.n.intercept(topic, data) {
		return
	}
	e.n.s.publish(e.n.index, topic, data)
}

func (e simEnv) Request(p peer.ID, protocol string, req []byte, maxChunks int, done func([][]byte, error)) {
	e.n.s.request(e.n.index, p, protocol, req, maxChunks, done)
}

// simTimer is a scheduled AfterFunc.
type simTimer struct {
	e     *event
	fired bool
}

func (t *simTimer) Stop() bool {
	if t.fired || t.e.dead {
		return false
	}
	t.e.dead = true
	return true
}

func (e simEnv) AfterFunc(d time.Duration, f func()) handler.Timer {
	s, n := e.n.s, e.n
	t := &simTimer{}
	gen := n.gen
	t.e = s.loop.schedule(s.loop.now.Add(d), func() {
		t.fired = true
		if n.down || n.gen != gen {
			return // the incarnation that set the timer crashed
		}
		s.trace.record(recTimer, s.loop.now, n.index, n.index, "timer", nil)
		f()
	})
	return t
}
