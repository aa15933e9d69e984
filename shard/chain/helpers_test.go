package chain

import (
	"log/slog"
	"os"
	"sync"
	"testing"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store/kv"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

const testValidators = 64

type genesisFixture struct {
	cfg   *params.Config
	tr    *bcore.Transition
	fv    shardcore.FraudVerifier // of this genesis
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
	fv, err := shardcore.NewFraudVerifier(s)
	if err != nil {
		return nil, err
	}
	tr := bcore.New(cfg).WithShardFork(fv)
	return &genesisFixture{cfg: cfg, tr: tr, fv: fv, keys: keys, state: s}, nil
})

func testLogger(name string) *slog.Logger {
	if os.Getenv("SHARDLAB_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
}

// fakeBeacon is a beacon chain of one empty block per slot, built with
// process_slots, so that its states' block_roots and state_roots are those
// of a real chain: what claims and fraud proofs are checked against.
type fakeBeacon struct {
	tr *bcore.Transition

	mu     sync.Mutex
	states map[bt.Root]*bt.BeaconState
	blocks map[bt.Root]bt.AnyBlock
	canon  map[bt.Slot]bt.Root
	head   bt.Root
}

func newFakeBeacon(t testing.TB, g *genesisFixture) *fakeBeacon {
	t.Helper()
	s := g.state.Copy()
	h := s.LatestBlockHeader
	sr, err := s.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	h.StateRoot = sr
	root := h.SigningRoot()
	f := &fakeBeacon{
		tr:     g.tr,
		states: map[bt.Root]*bt.BeaconState{root: s},
		blocks: map[bt.Root]bt.AnyBlock{root: &bt.BeaconBlock{StateRoot: sr}},
		canon:  map[bt.Slot]bt.Root{0: root},
		head:   root,
	}
	return f
}

// advance adds the block of slot on the head; mutate changes its
// post-state first (a crosslink written, a validator slashed).
func (f *fakeBeacon) advance(t testing.TB, slot bt.Slot, mutate func(*bt.BeaconState)) bt.Root {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.states[f.head].Copy()
	if err := f.tr.ProcessSlots(s, slot); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(s)
	}
	var body bt.BeaconBlockBody
	br, err := body.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	s.LatestBlockHeader = bt.BeaconBlockHeader{Slot: slot, ParentRoot: f.head, BodyRoot: br}
	sr, err := s.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	blk := &bt.BeaconBlock{Slot: slot, ParentRoot: f.head, StateRoot: sr, Body: body}
	root, err := blk.SigningRoot()
	if err != nil {
		t.Fatal(err)
	}
	f.states[root], f.blocks[root], f.canon[slot], f.head = s, blk, root, root
	return root
}

func (f *fakeBeacon) Head() (bt.Root, bt.Slot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.head, f.blocks[f.head].GetSlot()
}

func (f *fakeBeacon) Block(root bt.Root) (bt.AnyBlock, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.blocks[root]
	return b, ok
}

func (f *fakeBeacon) StateAt(root bt.Root) (*bt.BeaconState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.states[root]
	if !ok {
		return nil, false
	}
	return s.Copy(), true
}

func (f *fakeBeacon) CanonicalBlock(slot bt.Slot) (bt.AnyBlock, bt.Root, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.canon[slot]
	if !ok {
		return nil, bt.Root{}, false
	}
	return f.blocks[r], r, true
}

// headState returns the head root and a copy of its state.
func (f *fakeBeacon) headState() (bt.Root, *bt.BeaconState) {
	root, _ := f.Head()
	s, _ := f.StateAt(root)
	return root, s
}

// window returns the canonical state at the window slot of s (nil before).
func (f *fakeBeacon) window(t testing.TB, s *bt.BeaconState) *bt.BeaconState {
	t.Helper()
	ws, ok := shardcore.WindowSlot(f.tr.Config(), s.Slot)
	if !ok {
		return nil
	}
	for slot := ws; ; slot-- {
		if _, root, ok := f.CanonicalBlock(slot); ok {
			w, _ := f.StateAt(root)
			if w.Slot < ws {
				if err := f.tr.ProcessSlots(w, ws); err != nil {
					t.Fatal(err)
				}
			}
			return w
		}
	}
}

type fixture struct {
	*genesisFixture
	beacon *fakeBeacon
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	g, err := genesisOnce()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{genesisFixture: g, beacon: newFakeBeacon(t, g)}
}

func (f *fixture) shardGenesis(t testing.TB, shard bt.Shard) *st.ShardState {
	t.Helper()
	g, err := st.GenesisState(f.cfg, shard, shardcore.AccountPubkeys(f.cfg, shard))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (f *fixture) service(t testing.TB, shard bt.Shard, db kv.DB, name string) *Service {
	t.Helper()
	if db == nil {
		db = kv.NewMemory()
	}
	c := f.config(t, shard, db)
	c.Logger = testLogger(name)
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// config is the configuration of a service of shard on db.
func (f *fixture) config(t testing.TB, shard bt.Shard, db kv.DB) Config {
	t.Helper()
	c := DefaultConfig()
	c.Transition, c.Shard, c.Genesis, c.DB, c.Beacon = f.tr, shard, f.shardGenesis(t, shard), db, f.beacon
	c.TxDomain = f.fv.TxDomain(f.cfg)
	return c
}

// propose has s propose the block of slot referencing the beacon head.
func (f *fixture) propose(t testing.TB, s *Service, slot bt.Slot) *shardcore.Built {
	t.Helper()
	root, head := f.beacon.headState()
	proposer, err := shardcore.ShardProposerIndex(f.tr, head, s.Shard(), slot)
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := f.keys.SecretKey(uint64(proposer))
	built, err := s.Propose(slot, root, head, f.beacon.window(t, head), sk)
	if err != nil {
		t.Fatal(err)
	}
	return built
}

// observe shows the beacon head state to the services.
func (f *fixture) observe(t testing.TB, ss ...*Service) {
	t.Helper()
	for _, s := range ss {
		_, head := f.beacon.headState()
		if err := s.ObserveBeacon(head, false); err != nil {
			t.Fatal(err)
		}
	}
}

// transfer returns a signed transaction.
func (f *fixture) transfer(shard bt.Shard, from, nonce uint64, toShard bt.Shard, to uint64, amount bt.Gwei) *st.Transaction {
	return signedTransfer(f.fv.TxDomain(f.cfg), shard, from, nonce, toShard, to, amount)
}

// signedTransfer returns a transaction signed for the chain of d.
func signedTransfer(d shardcore.TxDomain, shard bt.Shard, from, nonce uint64, toShard bt.Shard, to uint64, amount bt.Gwei) *st.Transaction {
	tx := &st.Transaction{Shard: shard, From: from, Nonce: nonce, ToShard: toShard, To: to, Amount: amount}
	shardcore.SignTx(d, tx, shardcore.AccountKey(shard, from))
	return tx
}

func mustNoErr(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func newMemDB() kv.DB { return kv.NewMemory() }
