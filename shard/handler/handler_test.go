package handler

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/params"
	bstore "github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// testEnv is a handler.Env the test drives by hand: requests wait in a
// list until answered, timers until run.
type testEnv struct {
	now      time.Time
	requests []*testRequest
	timers   []func()
}

type testRequest struct {
	peer peer.ID
	req  []byte
	done func([][]byte, error)
}

type testTimer struct{}

func (testTimer) Stop() bool { return false }

func (e *testEnv) Now() time.Time         { return e.now }
func (e *testEnv) Publish(string, []byte) {}
func (e *testEnv) Peers() []peer.ID       { return nil }
func (e *testEnv) Rand() *rand.Rand       { return rand.New(rand.NewPCG(1, 2)) }
func (e *testEnv) Logger() *slog.Logger   { return slog.New(slog.DiscardHandler) }
func (e *testEnv) Request(p peer.ID, _ string, req []byte, _ int, done func([][]byte, error)) {
	e.requests = append(e.requests, &testRequest{peer: p, req: req, done: done})
}
func (e *testEnv) AfterFunc(_ time.Duration, f func()) handler.Timer {
	e.timers = append(e.timers, f)
	return testTimer{}
}

// runTimers runs the scheduled timers (and those they schedule).
func (e *testEnv) runTimers() {
	for len(e.timers) > 0 {
		f := e.timers[0]
		e.timers = e.timers[1:]
		f()
	}
}

// testGenesis is the interop genesis of 64 validators with shards from
// genesis (built once).
var testGenesisOnce = sync.OnceValues(func() (*bt.BeaconState, error) {
	keys, err := validator.NewInteropKeys(0, 64)
	if err != nil {
		return nil, err
	}
	return validator.InteropGenesis(bcore.New(testConfig()), 64, testConfig().MinGenesisTime, validator.WithKeys(keys), validator.SkipDepositSignatures())
})

func testConfig() *params.Config {
	cfg := params.Minimal().WithShards()
	cfg.Shard.Accounts = 16
	return cfg
}

func testGenesis() (*params.Config, *bt.BeaconState, error) {
	g, err := testGenesisOnce()
	return testConfig(), g, err
}

// newTestHandler builds a handler serving shards on a fresh interop chain
// of 64 validators (no keys), with serving peers from peers.
func newTestHandler(t *testing.T, shards []bt.Shard, peers map[bt.Shard][]peer.ID, maxPending int) (*Handler, *testEnv) {
	t.Helper()
	cfg, genesis, err := testGenesis()
	if err != nil {
		t.Fatal(err)
	}
	tr := bcore.New(cfg)
	genesis = genesis.Copy()
	db, err := kv.OpenPebbleMem()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := bstore.New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cc := bchain.DefaultConfig()
	cc.Transition, cc.Store, cc.Genesis = tr, store, genesis
	beacon, err := bchain.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verifier(beacon)
	if err != nil {
		t.Fatal(err)
	}
	chains := make(map[bt.Shard]*chain.Service)
	for _, s := range shards {
		if chains[s], err = OpenChain(chain.DefaultConfig(), beacon, db, v, s, nil); err != nil {
			t.Fatal(err)
		}
	}
	env := &testEnv{now: time.Unix(int64(genesis.GenesisTime), 0)}
	h, err := New(Config{
		Beacon: beacon, Chains: chains, Verifier: v, MaxPendingBlocks: maxPending, ResendSlots: 2,
		ServingPeers: func(s bt.Shard) []peer.ID { return slices.Clone(peers[s]) },
	}, env)
	if err != nil {
		t.Fatal(err)
	}
	return h, env
}

// TestNewRefusesBadConfig: a missing chain, no shard or no pending room is
// a clear error.
func TestNewRefusesBadConfig(t *testing.T) {
	h, env := newTestHandler(t, []bt.Shard{0}, nil, 4)
	good := h.cfg
	for _, tc := range []struct {
		name string
		edit func(c *Config)
	}{
		{"no beacon chain", func(c *Config) { c.Beacon = nil }},
		{"no shard", func(c *Config) { c.Chains = nil }},
		{"no serving peers", func(c *Config) { c.ServingPeers = nil }},
		{"no pending room", func(c *Config) { c.MaxPendingBlocks = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			if _, err := New(c, env); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestPendingEvictionOrder: when the pending queue is full, the block of
// the oldest slot leaves first and, among blocks of one slot, the one with
// the lowest root, whatever the map order.
func TestPendingEvictionOrder(t *testing.T) {
	for run := range 20 {
		h, _ := newTestHandler(t, []bt.Shard{0}, nil, 3)
		block := func(slot bt.Slot, tag byte) (bt.Root, *st.ShardBlock) {
			return bt.Root{tag}, &st.ShardBlock{Slot: slot}
		}
		for _, tag := range []byte{9, 4, 7} {
			r, b := block(5, tag)
			h.keepPending(r, b, "")
		}
		r, b := block(6, 1)
		h.keepPending(r, b, "")
		var left []byte
		for r := range h.pending {
			left = append(left, r[0])
		}
		slices.Sort(left)
		if !slices.Equal(left, []byte{1, 7, 9}) {
			t.Fatalf("run %d: kept roots %v, want [1 7 9] (root 4 of slot 5 evicted)", run, left)
		}
	}
}

// TestDestinationInboxFollowsCrosslink checks the relayer's view of an
// unserved destination's inbox: the value of the current crosslink, not
// the largest seen (a rollback lowers it), through the parent of an empty
// crosslink, zero at the genesis crosslink; an unknown crosslink is
// fetched at most once at a time and, when nobody proves it, again only
// inboxRetrySlots later.
func TestDestinationInboxFollowsCrosslink(t *testing.T) {
	h, env := newTestHandler(t, []bt.Shard{0, 3}, nil, 4)
	cfg := h.pcfg
	r := h.relay
	empty, _ := shardcore.CrosslinkDataRoot(cfg, nil)
	x := bt.Crosslink{Shard: 1, ParentRoot: (&bt.Crosslink{}).TreeRoot(), EndEpoch: 1, DataRoot: bt.Root{1}}
	y := bt.Crosslink{Shard: 1, ParentRoot: x.TreeRoot(), StartEpoch: 1, EndEpoch: 2, DataRoot: bt.Root{2}}
	z := bt.Crosslink{Shard: 1, ParentRoot: y.TreeRoot(), StartEpoch: 2, EndEpoch: 2, DataRoot: empty}
	nonces := func(v0, v3 uint64) []uint64 {
		out := make([]uint64, cfg.ShardCount)
		out[0], out[3] = v0, v3
		return out
	}
	at := func(slot bt.Slot, c bt.Crosslink) ([]uint64, bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.destinationInbox(1, slot, c)
	}
	inflight := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.inbox[1].inflight
	}
	if v, ok := at(1, bt.Crosslink{}); !ok || !slices.Equal(v, nonces(0, 0)) {
		t.Fatalf("genesis crosslink: %v %v", v, ok)
	}
	// Unknown: fetched through the Env; no peer serves shard 1.
	if _, ok := at(2, x); ok || !inflight() {
		t.Fatal("unknown crosslink known, or not fetched")
	}
	env.runTimers()
	if inflight() {
		t.Fatal("fetch still running")
	}
	r.mu.Lock()
	failed, retry := r.inbox[1].failed, r.inbox[1].retryAt
	r.mu.Unlock()
	if failed != x.TreeRoot() || retry != 2+inboxRetrySlots {
		t.Fatalf("failed fetch recorded as %s, retry at %d", failed, retry)
	}
	if at(3, x); inflight() {
		t.Fatal("fetched again before the retry slot")
	}
	if at(2+inboxRetrySlots, x); !inflight() {
		t.Fatal("not fetched again at the retry slot")
	}
	env.runTimers()

	r.mu.Lock()
	r.inbox[1].remember(x.TreeRoot(), provenLink{cl: x, nonces: nonces(5, 1)})
	r.inbox[1].remember(y.TreeRoot(), provenLink{cl: y, nonces: nonces(7, 2)})
	r.mu.Unlock()
	c0, _ := h.Chain(0)
	c3, _ := h.Chain(3)
	head := h.bchain.HeadState()
	for _, step := range []struct {
		name   string
		cl     bt.Crosslink
		v0, v3 uint64
	}{
		{"y", y, 7, 2},
		{"empty crosslink after y", z, 7, 2},
		{"rolled back to x", x, 5, 1},
		{"y again", y, 7, 2},
	} {
		head.CurrentCrosslinks[1] = step.cl
		h.relay.run(10, head, nil)
		if c0.DestinationInbox(1) != step.v0 || c3.DestinationInbox(1) != step.v3 || inflight() {
			t.Fatalf("%s: inbox %d and %d, want %d and %d (fetching: %v)", step.name,
				c0.DestinationInbox(1), c3.DestinationInbox(1), step.v0, step.v3, inflight())
		}
	}
}

// TestInboxFetchAsksPeersInTurn: the inbox lookup is a Request + callback
// state machine: it asks the serving peers one at a time, moves on from a
// peer holding nothing without blaming it, leaves a peer with a bad proof
// out for a while, and reports failure once every peer was asked.
func TestInboxFetchAsksPeersInTurn(t *testing.T) {
	peers := map[bt.Shard][]peer.ID{1: {"a", "b", "c"}}
	h, env := newTestHandler(t, []bt.Shard{0}, peers, 4)
	cl := bt.Crosslink{Shard: 1, EndEpoch: 1, DataRoot: bt.Root{1}}
	var got []uint64
	var gotErr error
	calls := 0
	h.fetchInbox(cl, func(n []uint64, err error) { got, gotErr, calls = n, err, calls+1 })
	if len(env.requests) != 1 || env.requests[0].peer != "a" {
		t.Fatalf("first request: %d requests", len(env.requests))
	}
	env.requests[0].done(nil, nil) // a holds nothing
	if len(env.requests) != 2 || env.requests[1].peer != "b" {
		t.Fatalf("after a: %d requests", len(env.requests))
	}
	env.requests[1].done([][]byte{{1, 2, 3}}, nil) // b answers garbage
	if len(env.requests) != 3 || env.requests[2].peer != "c" {
		t.Fatalf("after b: %d requests", len(env.requests))
	}
	if calls != 0 {
		t.Fatal("done called before every peer answered")
	}
	env.requests[2].done(nil, nil)
	if calls != 1 || gotErr == nil || got != nil {
		t.Fatalf("done %d times, %v, %v; want one failure", calls, got, gotErr)
	}
	if left := h.servingPeers(1); !slices.Equal(left, []peer.ID{"a", "c"}) {
		t.Fatalf("serving peers after a bad proof from b: %v", left)
	}
	env.now = env.now.Add(time.Duration(h.cfg.BadPeerSlots*h.pcfg.SecondsPerSlot) * time.Second)
	if left := h.servingPeers(1); len(left) != 3 {
		t.Fatalf("serving peers once b's time out ends: %v", left)
	}
}

// TestOnGossipVerdicts: malformed or misplaced gossip is rejected, other
// topics ignored, and the rejections counted by the hook.
func TestOnGossipVerdicts(t *testing.T) {
	h, _ := newTestHandler(t, []bt.Shard{0}, nil, 4)
	rejected := 0
	h.cfg.Hooks.GossipRejected = func(bt.Shard, string) { rejected++ }
	otherShard, _ := (&st.ShardBlock{Shard: 1}).MarshalSSZ()
	future, _ := (&st.ShardBlock{Shard: 0, Slot: 5}).MarshalSSZ()
	both, _ := (&ShardMessage{Transaction: []*st.Transaction{{}}, Claim: []*st.ReceiptClaim{{}}}).MarshalSSZ()
	empty, _ := (&ShardMessage{}).MarshalSSZ()
	for _, tc := range []struct {
		name  string
		topic string
		data  []byte
		want  handler.Verdict
	}{
		{"garbage block", p2p.ShardBlockTopic(0), []byte("garbage"), handler.Reject},
		{"block of another shard", p2p.ShardBlockTopic(0), otherShard, handler.Reject},
		{"block from the future", p2p.ShardBlockTopic(0), future, handler.Reject},
		{"garbage message", p2p.ShardTxTopic(0), []byte("garbage"), handler.Reject},
		{"transaction and claim", p2p.ShardTxTopic(0), both, handler.Reject},
		{"empty message", p2p.ShardTxTopic(0), empty, handler.Reject},
		{"unserved shard", p2p.ShardBlockTopic(1), otherShard, handler.Ignore},
		{"beacon topic", "beacon_block", []byte("x"), handler.Ignore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rejected
			if got := h.OnGossip(tc.topic, "p", tc.data); got != tc.want {
				t.Fatalf("verdict %s, want %s", got, tc.want)
			}
			if counted := rejected - before; (tc.want == handler.Reject) != (counted == 1) {
				t.Fatalf("%d rejections counted", counted)
			}
		})
	}
}

// TestRelayRunsInBackground checks that a relay pass goes through
// Config.Background (a real node runs it on a goroutine, so a long pass
// never delays the slot loop and its proposals), that no second pass
// starts while one runs, that the next starts once it ended, and that
// without Background the pass runs inline.
func TestRelayRunsInBackground(t *testing.T) {
	t.Parallel()
	h, _ := newTestHandler(t, []bt.Shard{0, 3}, nil, 8)
	head := h.bchain.HeadState()
	var queued []func()
	h.cfg.Background = func(f func()) { queued = append(queued, f) }
	if !h.startRelay(1, head, nil) {
		t.Fatal("first pass not started")
	}
	if len(queued) != 1 {
		t.Fatalf("%d passes handed to Background, want 1 (the pass ran inline)", len(queued))
	}
	if h.startRelay(2, head, nil) {
		t.Error("a second pass started while the first runs")
	}
	queued[0]()
	if relayBusy(h) {
		t.Fatal("the pass ended but still counts as running")
	}
	if !h.startRelay(3, head, nil) || len(queued) != 2 {
		t.Error("no pass started after the first ended")
	}
	queued[1]()

	h.cfg.Background = nil
	if !h.startRelay(4, head, nil) || relayBusy(h) {
		t.Error("without Background the pass must run inline and end")
	}
}

// relayBusy reports whether a relay pass counts as running.
func relayBusy(h *Handler) bool {
	h.relayMu.Lock()
	defer h.relayMu.Unlock()
	return h.relaying
}

// TestRelayOnNewHead checks that a new beacon head starts a relay pass
// right away, not at the next slot start (the head of slot n arrives just
// after slot n starts; relayed only at slot n+1's start, the claims it
// made claimable missed slot n+1's proposer, who builds at that same
// instant), at the slot of the moment; that a head arriving while a pass
// runs is relayed by a second pass as soon as the first ends; that no
// pass starts while the beacon node syncs; and that other events start
// none.
func TestRelayOnNewHead(t *testing.T) {
	t.Parallel()
	h, env := newTestHandler(t, []bt.Shard{0, 3}, nil, 8)
	var queued []func()
	h.cfg.Background = func(f func()) { queued = append(queued, f) }
	env.now = env.now.Add(5*time.Duration(h.pcfg.SecondsPerSlot)*time.Second + 100*time.Millisecond)

	h.OnBeaconEvents([]bchain.Event{{Kind: bchain.EventNewBlock}}, false)
	if len(queued) != 0 {
		t.Fatalf("%d relay passes after a block that is not the head, want 0", len(queued))
	}
	h.OnBeaconEvents([]bchain.Event{{Kind: bchain.EventNewBlock}, {Kind: bchain.EventNewHead}}, false)
	if len(queued) != 1 || !relayBusy(h) {
		t.Fatalf("%d relay passes after a new head, want 1 (running: %v)", len(queued), relayBusy(h))
	}
	// Another head while the pass runs: no second pass beside it, one
	// after it, in the same Background call.
	h.OnBeaconEvents([]bchain.Event{{Kind: bchain.EventNewHead}}, false)
	if len(queued) != 1 {
		t.Fatalf("%d relay passes while one runs, want 1", len(queued))
	}
	queued[0]()
	h.relay.mu.Lock()
	passes := h.relay.passes
	h.relay.mu.Unlock()
	if relayBusy(h) || passes != 2 {
		t.Fatalf("after the pass: running %v, %d passes run, want 2 (the second for the head that came meanwhile)", relayBusy(h), passes)
	}
	h.relayMu.Lock()
	again := h.relayAgain
	h.relayMu.Unlock()
	if again {
		t.Fatal("the head that arrived during the pass is still waiting")
	}

	h.cfg.BeaconSyncing = func() bool { return true }
	h.OnBeaconEvents([]bchain.Event{{Kind: bchain.EventNewHead}}, false)
	if len(queued) != 1 {
		t.Fatal("a relay pass started while the beacon node syncs")
	}
}
