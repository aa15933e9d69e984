package statesim

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
	st "github.com/shardlab/shardlab/shard/types"
)

// shardNode is the one node of a shard run: a beacon chain service
// (beacon/chain) that imports the run's beacon blocks, and the production
// shard handler (shard/handler) serving every shard, with every
// validator's key, on shard/chain services. The shard proposers, the
// receipt relayer, the window-state lookup, the fisherman and the
// crosslink data roots are therefore the code shard nodes run; statesim
// only drives them, slot by slot, in virtual time.
//
// The node has no peers: what the handler publishes is only shown to
// onPublish (the run reads the fraud proofs there), a request fails, and
// timers fire at the next slot start that is due. Every destination shard
// is served, so the relayer never needs a request.
type shardNode struct {
	genesisTime uint64
	slotSeconds uint64
	db          kv.DB
	beacon      *bchain.Service
	h           *shardhandler.Handler
	chains      []*chain.Service // by shard
	genesis     []*st.ShardState // by shard; never modified

	now    time.Time
	rng    *rand.Rand
	events []bchain.Event // beacon events not yet handed to h
	unsub  func()
	timers []*nodeTimer
	// silent is the shard whose proposer does not run this slot (-1:
	// none): the fraud scenario's proposer publishes its own block.
	silent int
	// onPublish sees every publication of the handler; onFraudBuilt every
	// fraud proof the fisherman builds. Either may be nil.
	onPublish    func(topic string, data []byte)
	onFraudBuilt func()
	// proposedAt is the wall-clock time of the latest proposal, for the
	// report's timings only.
	proposedAt time.Time
}

// errNoPeers answers every request of the node.
var errNoPeers = errors.New("statesim: the node has no peers")

// newShardNode opens the node on an in-memory database: the beacon chain
// from genesis (tr carries the fraud-proof verifier), one chain per shard
// from its interop genesis, and the handler with keys.
func newShardNode(tr *core.Transition, genesis *types.BeaconState, keys *validator.Keys, seed uint64) (*shardNode, error) {
	pcfg := tr.Config()
	db, err := kv.OpenPebbleMem()
	if err != nil {
		return nil, fmt.Errorf("open shard node: %w", err)
	}
	n := &shardNode{
		genesisTime: genesis.GenesisTime, slotSeconds: pcfg.SecondsPerSlot, db: db,
		rng: rand.New(rand.NewPCG(seed, seedStream+2)), silent: -1,
	}
	n.now = time.Unix(int64(n.genesisTime), 0)
	if err := n.open(tr, genesis, keys); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

func (n *shardNode) open(tr *core.Transition, genesis *types.BeaconState, keys *validator.Keys) error {
	pcfg := tr.Config()
	bs, err := store.New(n.db, pcfg)
	if err != nil {
		return fmt.Errorf("open beacon store: %w", err)
	}
	bc := bchain.DefaultConfig()
	bc.Transition, bc.Store, bc.Genesis = tr, bs, genesis
	if n.beacon, err = bchain.New(bc); err != nil {
		return fmt.Errorf("open beacon chain: %w", err)
	}
	v, err := shardhandler.Verifier(n.beacon)
	if err != nil {
		return err
	}
	cc := chain.DefaultConfig()
	// The workload may put up to SHARD_COUNT blocks' worth of transactions
	// in the pools per slot, and the run reads every receipt back (for the
	// conservation check and the summary): no bound may drop one.
	cc.MaxPoolTxs = max(cc.MaxPoolTxs, 4*int(pcfg.ShardCount)*params.MaxShardTransactions)
	cc.MaxTxsPerAccount = max(cc.MaxTxsPerAccount, cc.MaxPoolTxs)
	cc.MaxSentLog = math.MaxInt32
	served := make(map[types.Shard]*chain.Service, pcfg.ShardCount)
	for i := range pcfg.ShardCount {
		shard := types.Shard(i)
		g, err := st.GenesisState(pcfg, shard, shardcore.AccountPubkeys(pcfg, shard))
		if err != nil {
			return fmt.Errorf("shard %d genesis: %w", i, err)
		}
		c, err := shardhandler.OpenChain(cc, n.beacon, n.db, v, shard, g)
		if err != nil {
			return err
		}
		n.genesis = append(n.genesis, g)
		n.chains = append(n.chains, c)
		served[shard] = c
	}
	hc := shardhandler.Config{
		Beacon: n.beacon, Chains: served, Keys: keys, Verifier: v,
		MaxPendingBlocks: 16, ResendSlots: 4,
		ServingPeers: func(types.Shard) []peer.ID { return nil },
		SkipProposal: func(s types.Shard) bool { return int(s) == n.silent },
		Hooks: shardhandler.Hooks{
			FraudBuilt: func() {
				if n.onFraudBuilt != nil {
					n.onFraudBuilt()
				}
			},
			Block: func(_ types.Shard, result string) {
				if result == "proposed" {
					n.proposedAt = time.Now() // a timing, never a result
				}
			},
		},
	}
	if n.h, err = shardhandler.New(hc, nodeEnv{n}); err != nil {
		return err
	}
	n.unsub = n.beacon.Subscribe(func(ev bchain.Event) { n.events = append(n.events, ev) })
	return nil
}

// close releases the node's database.
func (n *shardNode) close() {
	if n.unsub != nil {
		n.unsub()
	}
	_ = n.db.Close()
}

// startSlot moves the node's clock to the start of slot: the beacon
// chain's fork choice ticks, due timers fire, and the beacon events so far
// reach the handler.
func (n *shardNode) startSlot(slot types.Slot) {
	n.now = time.Unix(int64(n.genesisTime+uint64(slot)*n.slotSeconds), 0)
	n.beacon.OnTick(uint64(n.now.Unix()))
	due := slices.DeleteFunc(slices.Clone(n.timers), func(t *nodeTimer) bool { return t.at.After(n.now) })
	n.timers = slices.DeleteFunc(n.timers, func(t *nodeTimer) bool { return !t.at.After(n.now) })
	for _, t := range due {
		if !t.stopped {
			t.fired = true
			t.f()
		}
	}
	n.deliver()
}

// importBlock imports one of the run's beacon blocks, every signature
// verified, as a node importing it from gossip does, and hands the events
// to the handler (the fisherman reads the block's fraud proofs and
// crosslink votes; the shard chains observe the new head).
func (n *shardNode) importBlock(b types.AnyBlock) error {
	if _, err := n.beacon.ImportBlock(b, core.VerifySigs); err != nil {
		return err
	}
	if head, _ := n.beacon.Head(); head != mustRoot(b) {
		return fmt.Errorf("the beacon chain's head is %s, not the new block", head)
	}
	n.deliver()
	return nil
}

// deliver hands the queued beacon events to the handler as one batch.
func (n *shardNode) deliver() {
	if len(n.events) == 0 {
		return
	}
	batch := n.events
	n.events = nil
	n.h.OnBeaconEvents(batch, false)
}

// mustRoot is b's signing root (zero if it cannot be encoded, which
// ImportBlock has ruled out).
func mustRoot(b types.AnyBlock) types.Root {
	r, _ := b.SigningRoot()
	return r
}

// nodeEnv is the handler.Env of the node.
type nodeEnv struct{ n *shardNode }

func (e nodeEnv) Now() time.Time       { return e.n.now }
func (e nodeEnv) Peers() []peer.ID     { return nil }
func (e nodeEnv) Rand() *rand.Rand     { return e.n.rng }
func (e nodeEnv) Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (e nodeEnv) Publish(topic string, data []byte) {
	if e.n.onPublish != nil {
		e.n.onPublish(topic, data)
	}
}

func (e nodeEnv) Request(_ peer.ID, _ string, _ []byte, _ int, done func([][]byte, error)) {
	e.AfterFunc(0, func() { done(nil, errNoPeers) })
}

func (e nodeEnv) AfterFunc(d time.Duration, f func()) handler.Timer {
	t := &nodeTimer{at: e.n.now.Add(d), f: f}
	e.n.timers = append(e.n.timers, t)
	return t
}

// nodeTimer is a timer of the node, fired at the first slot start at or
// after its time.
type nodeTimer struct {
	at      time.Time
	f       func()
	stopped bool
	fired   bool
}

func (t *nodeTimer) Stop() bool {
	if t.stopped || t.fired {
		return false
	}
	t.stopped = true
	return true
}
