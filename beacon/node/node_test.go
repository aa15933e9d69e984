package node

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// The network tests run in synctest bubbles: the mock network, gossip,
// timers and the slot clock use the bubble's fake time, so a minimal-preset
// chain of 6-second slots runs as fast as the CPU allows.

const testValidators = 64

var genesisOnce = sync.OnceValues(func() (*genesisFixture, error) {
	cfg := params.Minimal().WithShards()
	tr := core.New(cfg)
	keys, err := validator.NewInteropKeys(0, testValidators)
	if err != nil {
		return nil, err
	}
	st, err := validator.InteropGenesis(tr, testValidators, cfg.MinGenesisTime, validator.WithKeys(keys), validator.SkipDepositSignatures())
	if err != nil {
		return nil, err
	}
	return &genesisFixture{cfg: cfg, tr: tr, state: st, keys: keys}, nil
})

type genesisFixture struct {
	cfg   *params.Config
	tr    *core.Transition
	state *types.BeaconState // genesis_time to be set per bubble
	keys  *validator.Keys
}

// testGenesis returns a transition and a genesis state whose genesis time is
// the bubble's current time plus delay.
func testGenesis(t testing.TB, delay time.Duration) (*core.Transition, *types.BeaconState, *validator.Keys) {
	t.Helper()
	g, err := genesisOnce()
	if err != nil {
		t.Fatal(err)
	}
	st := g.state.Copy()
	st.GenesisTime = uint64(time.Now().Add(delay).Unix())
	return g.tr, st, g.keys
}

func testLogger(t testing.TB, name string) *slog.Logger {
	if os.Getenv("SHARDLAB_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
}

// testNode builds a node on an existing p2p node.
func testNode(t testing.TB, tr *core.Transition, genesis *types.BeaconState, net *p2p.Node, vals ValidatorRange, dataDir, name string) *Node {
	t.Helper()
	cfg := TestConfig()
	cfg.Transition = tr
	cfg.Genesis = genesis
	cfg.Network = net
	cfg.DataDir = dataDir
	cfg.Validators = vals
	cfg.Graffiti = name
	cfg.CrosslinkData = StaticCrosslinkData{Root: types.Root{0xaa}}
	cfg.Registerer = prometheus.NewRegistry()
	n, err := New(cfg, testLogger(t, name))
	if err != nil {
		t.Fatalf("new node %s: %v", name, err)
	}
	return n
}

// running is a node whose Run goroutine can be stopped.
type running struct {
	*Node
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

// start runs n until stop or the end of the test.
func start(t testing.TB, n *Node) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Node: n, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- n.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Run and closes the node (once).
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.stopOnce.Do(func() {
		r.cancel()
		if err := <-r.done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}

// connectAll connects every pair of the given mock-net nodes.
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

func TestNetworkFinalizes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		cfg := tr.Config()
		net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{})
		nodes := make([]*running, 4)
		for i := range nodes {
			n := testNode(t, tr, genesis, net.Nodes[i], ValidatorRange{Start: uint64(16 * i), Count: 16}, "", string(rune('a'+i)))
			nodes[i] = start(t, n)
		}
		connectAll(t, net, 0, 1, 2, 3)
		waitSlots(t, cfg, 8*int(cfg.SlotsPerEpoch), "finalized epoch 2 on every node", func() bool {
			for _, n := range nodes {
				if n.Chain().Finalized().Epoch < 2 {
					return false
				}
			}
			return true
		})
		// Same finalized checkpoint (or one is a later finalized
		// checkpoint on the same chain: compare the canonical root at the
		// lowest finalized epoch).
		low := nodes[0].Chain().Finalized()
		for _, n := range nodes[1:] {
			if f := n.Chain().Finalized(); f.Epoch < low.Epoch {
				low = f
			}
		}
		for i, n := range nodes {
			b, ok := n.Chain().Block(low.Root)
			if !ok {
				t.Fatalf("node %d does not have the finalized block %s", i, low.Root)
			}
			if _, r, ok := n.Chain().CanonicalBlock(b.GetSlot()); !ok || r != low.Root {
				t.Fatalf("node %d: finalized root %s is not canonical (%s)", i, low.Root, r)
			}
		}
		// Every node proposed and attested, and the block arrival times
		// are recorded.
		for i, n := range nodes {
			if len(n.BlockArrivals()) == 0 {
				t.Fatalf("node %d recorded no block arrival", i)
			}
			if _, dist, syncing := n.SyncStatus(); dist > 1 || syncing {
				t.Fatalf("node %d: distance %d, syncing %v", i, dist, syncing)
			}
		}
		for _, n := range nodes {
			n.stop(t)
		}
	})
}
