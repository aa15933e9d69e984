package handler

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
)

// fakeEnv records what the handler asks of its host; the test answers
// requests and fires timers by hand.
type fakeEnv struct {
	now       time.Time
	peers     []peer.ID
	requests  []*fakeRequest
	timers    []*fakeTimer
	published []string
}

type fakeRequest struct {
	peer     peer.ID
	protocol string
	req      []byte
	done     func([][]byte, error)
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	was := !t.stopped
	t.stopped = true
	return was
}

func (e *fakeEnv) Now() time.Time                 { return e.now }
func (e *fakeEnv) Publish(topic string, _ []byte) { e.published = append(e.published, topic) }
func (e *fakeEnv) Peers() []peer.ID               { return e.peers }
func (e *fakeEnv) Rand() *rand.Rand               { return rand.New(rand.NewPCG(1, 2)) }
func (e *fakeEnv) Logger() *slog.Logger           { return slog.New(slog.DiscardHandler) }
func (e *fakeEnv) Request(p peer.ID, protocol string, req []byte, _ int, done func([][]byte, error)) {
	e.requests = append(e.requests, &fakeRequest{p, protocol, req, done})
}
func (e *fakeEnv) AfterFunc(d time.Duration, f func()) Timer {
	t := &fakeTimer{at: e.now.Add(d), f: f}
	e.timers = append(e.timers, t)
	return t
}

// take removes and returns the recorded requests.
func (e *fakeEnv) take() []*fakeRequest {
	out := e.requests
	e.requests = nil
	return out
}

type fixture struct {
	tr      *core.Transition
	genesis *types.BeaconState
	keys    *validator.Keys
}

var fixtureOnce = sync.OnceValues(func() (*fixture, error) {
	cfg := params.Minimal()
	tr := core.New(cfg)
	keys, err := validator.NewInteropKeys(0, 64)
	if err != nil {
		return nil, err
	}
	st, err := validator.InteropGenesis(tr, 64, cfg.MinGenesisTime, validator.WithKeys(keys), validator.SkipDepositSignatures())
	if err != nil {
		return nil, err
	}
	return &fixture{tr: tr, genesis: st, keys: keys}, nil
})

// newTestHandler returns a handler without keys on a fresh in-memory chain,
// its env at genesis plus at, and the fixture.
func newTestHandler(t *testing.T, at time.Duration, edit func(*Config)) (*Handler, *fakeEnv, *fixture) {
	t.Helper()
	fx, err := fixtureOnce()
	if err != nil {
		t.Fatal(err)
	}
	db, err := kv.OpenPebbleMem()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	st, err := store.New(db, fx.tr.Config())
	if err != nil {
		t.Fatal(err)
	}
	cc := chain.DefaultConfig()
	cc.Transition, cc.Store, cc.Genesis = fx.tr, st, fx.genesis.Copy()
	c, err := chain.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	env := &fakeEnv{now: time.Unix(int64(fx.genesis.GenesisTime), 0).Add(at)}
	hc := Config{Chain: c, Sync: SyncConfig{BatchSize: 64, StatusInterval: 2, MaxParentFetch: 4, RequestTimeout: time.Second}}
	if edit != nil {
		edit(&hc)
	}
	h, err := New(hc, env)
	if err != nil {
		t.Fatal(err)
	}
	return h, env, fx
}

// statusBytes is a peer's status on the handler's chain.
func statusBytes(t *testing.T, h *Handler, headSlot uint64, shards ...uint64) []byte {
	t.Helper()
	st := Status{GenesisRoot: h.chain.GenesisRoot(), HeadSlot: headSlot, Shards: shards}
	buf, err := st.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func encode(t *testing.T, v interface{ MarshalSSZ() ([]byte, error) }) []byte {
	t.Helper()
	buf, err := v.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func TestOnRequestBadInput(t *testing.T) {
	h, _, _ := newTestHandler(t, 0, nil)
	tests := []struct {
		name     string
		protocol string
		req      []byte
		want     error
	}{
		{"status garbage", p2p.StatusProtocol, []byte{1, 2, 3}, ErrInvalidRequest},
		{"range count 0", p2p.BeaconBlocksByRangeProtocol, encode(t, &BlocksByRangeRequest{StartSlot: 1, Step: 1}), ErrInvalidRequest},
		{"range step 0", p2p.BeaconBlocksByRangeProtocol, encode(t, &BlocksByRangeRequest{StartSlot: 1, Count: 4}), ErrInvalidRequest},
		{"roots garbage", p2p.BeaconBlocksByRootProtocol, []byte{9}, ErrInvalidRequest},
		{"crosslink data not served", CrosslinkDataRootProtocol, nil, ErrUnknownProtocol},
		{"unknown protocol", "nonsense", nil, ErrUnknownProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.OnRequest("p", tc.protocol, tc.req); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestRemoteDataRootMajority drives the crosslink majority vote by hand:
// the majority wins whatever the answer order; a silent peer is left
// behind when the lookup time is up; nobody serving is ErrNoCrosslinkData.
func TestRemoteDataRootMajority(t *testing.T) {
	h, env, _ := newTestHandler(t, 0, func(c *Config) { c.CrosslinkDataTimeout = 500 * time.Millisecond })
	c := types.Crosslink{Shard: 2, StartEpoch: 1, EndEpoch: 2}
	var got types.Root
	var gotErr error
	calls := 0
	done := func(r types.Root, err error) { got, gotErr = r, err; calls++ }

	h.RemoteDataRoot(c, done)
	if !errors.Is(gotErr, ErrNoCrosslinkData) || calls != 1 {
		t.Fatalf("no serving peer: %v (%d calls)", gotErr, calls)
	}
	for _, p := range []peer.ID{"a", "b", "c"} {
		if _, err := h.OnRequest(p, p2p.StatusProtocol, statusBytes(t, h, 0, 2)); err != nil {
			t.Fatal(err)
		}
	}
	answer := func(r *fakeRequest, root types.Root) {
		r.done([][]byte{encode(t, &CrosslinkDataResponse{DataRoot: root, Known: true})}, nil)
	}
	liar, honest := types.Root{0xbb}, types.Root{0xaa}

	calls = 0
	h.RemoteDataRoot(c, done)
	reqs := env.take()
	if len(reqs) != 3 {
		t.Fatalf("%d peers asked, want 3", len(reqs))
	}
	answer(reqs[0], liar)
	answer(reqs[1], honest)
	if calls != 0 {
		t.Fatal("answered before every peer did")
	}
	answer(reqs[2], honest)
	if calls != 1 || gotErr != nil || got != honest {
		t.Fatalf("got %s, %v (%d calls); want the majority's %s", got, gotErr, calls, honest)
	}

	calls = 0
	env.timers = nil
	h.RemoteDataRoot(c, done)
	reqs = env.take()
	answer(reqs[1], honest)
	reqs[2].done(nil, errors.New("stream reset"))
	if calls != 0 || len(env.timers) != 1 || env.timers[0].at.Sub(env.now) != 500*time.Millisecond {
		t.Fatalf("%d calls, timers %v", calls, env.timers)
	}
	env.timers[0].f() // the lookup time is up; peer a never answers
	answer(reqs[0], liar)
	if calls != 1 || got != honest {
		t.Fatalf("got %s (%d calls), want %s once", got, calls, honest)
	}
}

// TestRangeSync drives a range sync by hand: a peer whose status is ahead
// starts it, its blocks are imported, and the sync ends at its head; a
// peer answering out of range is marked bad and not synced from again.
func TestRangeSync(t *testing.T) {
	const slots = 3
	h, env, fx := newTestHandler(t, slots*6*time.Second+time.Second, nil)
	env.peers = []peer.ID{"good", "liar"}
	pre := fx.genesis.Copy()
	var chunks [][]byte
	for s := types.Slot(1); s <= slots; s++ {
		b, post, err := validator.ProduceBlock(fx.tr, pre, s, fx.keys, nil, types.Root{})
		if err != nil {
			t.Fatal(err)
		}
		chunks, pre = append(chunks, encode(t, b)), post
	}

	if _, err := h.OnRequest("liar", p2p.StatusProtocol, statusBytes(t, h, slots)); err != nil {
		t.Fatal(err)
	}
	reqs := env.take()
	if !h.Syncing() || len(reqs) != 1 || reqs[0].peer != "liar" || reqs[0].protocol != p2p.BeaconBlocksByRangeProtocol {
		t.Fatalf("syncing %v, requests %+v", h.Syncing(), reqs)
	}
	reqs[0].done(chunks[:0], nil) // nothing, though its status said slot 3
	if h.Syncing() {
		t.Fatal("still syncing from a peer that delivered nothing")
	}

	if _, err := h.OnRequest("good", p2p.StatusProtocol, statusBytes(t, h, slots)); err != nil {
		t.Fatal(err)
	}
	reqs = env.take()
	if len(reqs) != 1 || reqs[0].peer != "good" {
		t.Fatalf("requests %+v, want one to the good peer (the liar is marked bad)", reqs)
	}
	var r BlocksByRangeRequest
	if err := types.Decode(&r, reqs[0].req); err != nil || r.StartSlot != 1 || r.Step != 1 {
		t.Fatalf("range request %+v, %v", r, err)
	}
	reqs[0].done(chunks, nil)
	if _, head := h.chain.Head(); head != slots || h.Syncing() {
		t.Fatalf("head at %d, syncing %v; want %d, done", head, h.Syncing(), slots)
	}
	if len(env.take()) != 0 {
		t.Fatal("requests after the sync reached the peer's head")
	}
}
