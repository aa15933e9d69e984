package node

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	bcore "github.com/shardlab/shardlab/beacon/core"
	bnode "github.com/shardlab/shardlab/beacon/node"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// The network tests run in synctest bubbles over p2ptest's mock network:
// gossip, timers and the slot clock use the bubble's fake time, so a
// minimal-preset chain of 6-second slots runs as fast as the CPU allows.

const testValidators = 64

type genesisFixture struct {
	cfg   *params.Config
	tr    *bcore.Transition       // set by testGenesis
	fv    shardcore.FraudVerifier // set by testGenesis
	keys  *validator.Keys
	state *bt.BeaconState
}

var genesisOnce = sync.OnceValues(func() (*genesisFixture, error) {
	cfg := params.Minimal().WithShards()
	cfg.Shard.Accounts = 16
	keys, err := validator.NewInteropKeys(0, testValidators)
	if err != nil {
		return nil, err
	}
	s, err := validator.InteropGenesis(bcore.New(cfg), testValidators, cfg.MinGenesisTime, validator.WithKeys(keys), validator.SkipDepositSignatures())
	if err != nil {
		return nil, err
	}
	return &genesisFixture{cfg: cfg, keys: keys, state: s}, nil
})

// testGenesis returns the transition and a genesis state starting delay
// from the bubble's now.
func testGenesis(t testing.TB, delay time.Duration) (*genesisFixture, *bt.BeaconState) {
	t.Helper()
	g, err := genesisOnce()
	if err != nil {
		t.Fatal(err)
	}
	s := g.state.Copy()
	s.GenesisTime = uint64(time.Now().Add(delay).Unix())
	// Each test's genesis is its own chain: its transition verifies fraud
	// proofs, and its nodes check transactions, against that genesis.
	fv, err := shardcore.NewFraudVerifier(s)
	if err != nil {
		t.Fatal(err)
	}
	own := *g
	own.tr, own.fv = bcore.New(g.cfg).WithShardFork(fv), fv
	return &own, s
}

func testLogger(name string) *slog.Logger {
	if os.Getenv("SHARDLAB_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
}

// beaconNode builds a validating beacon node asking shard nodes for
// crosslink data (RemoteCrosslinkData, the default).
func beaconNode(t testing.TB, g *genesisFixture, genesis *bt.BeaconState, net *p2p.Node, vals bnode.ValidatorRange, name string) *bnode.Node {
	t.Helper()
	cfg := bnode.TestConfig()
	cfg.Transition, cfg.Genesis, cfg.Network, cfg.Validators, cfg.Graffiti = g.tr, genesis, net, vals, name
	cfg.Registerer = prometheus.NewRegistry()
	n, err := bnode.New(cfg, testLogger(name))
	if err != nil {
		t.Fatalf("new beacon node %s: %v", name, err)
	}
	return n
}

// shardNode builds a shard node.
func shardNode(t testing.TB, g *genesisFixture, genesis *bt.BeaconState, net *p2p.Node, shards []bt.Shard, vals bnode.ValidatorRange, dir, name string) *Node {
	t.Helper()
	cfg := TestConfig()
	cfg.Transition, cfg.Genesis, cfg.Network, cfg.Shards, cfg.Validators, cfg.DataDir = g.tr, genesis, net, shards, vals, dir
	cfg.Registerer = prometheus.NewRegistry()
	n, err := New(cfg, testLogger(name))
	if err != nil {
		t.Fatalf("new shard node %s: %v", name, err)
	}
	return n
}

type service interface {
	Run(ctx context.Context) error
	Close() error
}

// running is a node whose Run goroutine can be stopped.
type running struct {
	cancel   context.CancelFunc
	done     chan error
	svc      service
	stopOnce sync.Once
}

func start(t testing.TB, s service) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), svc: s}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	r.stopOnce.Do(func() {
		r.cancel()
		if err := <-r.done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := r.svc.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}

func connectAll(t testing.TB, net *p2ptest.Net, idx ...int) {
	t.Helper()
	for a := range idx {
		for b := a + 1; b < len(idx); b++ {
			if err := net.Connect(idx[a], idx[b]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// waitSlots advances fake time slot by slot until cond holds or max slots
// passed.
func waitSlots(t testing.TB, cfg *params.Config, max int, what string, cond func() bool) {
	t.Helper()
	for range max {
		if cond() {
			return
		}
		time.Sleep(time.Duration(cfg.SecondsPerSlot) * time.Second)
	}
	if !cond() {
		t.Fatalf("%s: not reached within %d slots", what, max)
	}
}

func shardRange(from, to bt.Shard) []bt.Shard {
	var out []bt.Shard
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// transfer returns a transaction signed for g's chain.
func (g *genesisFixture) transfer(shard bt.Shard, from, nonce uint64, toShard bt.Shard, to uint64, amount bt.Gwei) *st.Transaction {
	tx := &st.Transaction{Shard: shard, From: from, Nonce: nonce, ToShard: toShard, To: to, Amount: amount}
	shardcore.SignTx(g.fv.TxDomain(g.cfg), tx, shardcore.AccountKey(shard, from))
	return tx
}

// Chain0 returns the chain of the node's first shard.
func (n *Node) Chain0() *chainService {
	c, _ := n.Chain(n.shards[0])
	return c
}

type chainService = chain.Service

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// restartNet is the network of the restart tests: a beacon node b0 with
// every validator, and shard nodes of shards 0 and 1, s0 in memory and s1
// on a data dir, all connected.
type restartNet struct {
	g        *genesisFixture
	genesis  *bt.BeaconState
	net      *p2ptest.Net
	shards   []bt.Shard
	b0, s0   *running
	s1       *running
	s0n, s1n *Node
}

// newRestartNet starts a restartNet with s1 on dir; call it in a bubble.
func newRestartNet(t *testing.T, dir string) *restartNet {
	t.Helper()
	g, genesis := testGenesis(t, 6*time.Second)
	net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{})
	rn := &restartNet{g: g, genesis: genesis, net: net, shards: []bt.Shard{0, 1}}
	rn.b0 = start(t, beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: testValidators}, "b0"))
	rn.s0n = shardNode(t, g, genesis, net.Nodes[1], rn.shards, bnode.ValidatorRange{Start: 0, Count: 32}, "", "s0")
	rn.s0 = start(t, rn.s0n)
	rn.s1n = shardNode(t, g, genesis, net.Nodes[2], rn.shards, bnode.ValidatorRange{Start: 32, Count: 32}, dir, "s1")
	rn.s1 = start(t, rn.s1n)
	connectAll(t, net, 0, 1, 2)
	return rn
}
