package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/api/apitest"
	bcore "github.com/shardlab/shardlab/beacon/core"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/api"
	"github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// shardChain is one shard's chain in the fake backend.
type shardChain struct {
	genesis   st.ShardBlockHeader
	blocks    map[bt.Root]*st.ShardBlock
	canonical map[bt.Slot]bt.Root
	states    map[bt.Root]*st.ShardState // by state root
	head      api.Head
	headState *st.ShardState
	receipts  []api.ReceiptInfo
	txs       uint64
}

// fakeShards is a ShardBackend over real shard blocks built with
// shard/core.BuildBlock on the apitest beacon chain. Shards 0 and 1 are
// served; shard 0 has blocks at slots 1 to 4 (transfers and cross-shard
// sends to shard 1), shard 1 a block at slot 2.
type fakeShards struct {
	beacon *apitest.Chain
	chains map[bt.Shard]*shardChain
	domain core.TxDomain // of the beacon chain's genesis

	mu     sync.Mutex
	pool   []*st.Transaction
	failOn bt.Gwei // SubmitTransaction fails internally for this amount
}

var _ api.ShardBackend = (*fakeShards)(nil)

var (
	fixtureOnce sync.Once
	fixtureC    *apitest.Chain
	fixtureErr  error
)

func beaconChain(tb testing.TB) *apitest.Chain {
	tb.Helper()
	fixtureOnce.Do(func() { fixtureC, fixtureErr = apitest.NewChain(apitest.ChainOptions{}) })
	if fixtureErr != nil {
		tb.Fatal(fixtureErr)
	}
	return fixtureC
}

// newFakeShards builds the shard chains (cheap: a few blocks).
func newFakeShards(tb testing.TB) *fakeShards {
	tb.Helper()
	c := beaconChain(tb)
	f := &fakeShards{beacon: c, chains: map[bt.Shard]*shardChain{}, failOn: 13,
		domain: core.ComputeTxDomain(c.Config, c.Blocks[c.GenesisRoot].GetStateRoot())}
	plans := map[bt.Shard][]bt.Slot{0: {1, 2, 3, 4}, 1: {2}}
	for _, shard := range []bt.Shard{0, 1} {
		if err := f.build(shard, plans[shard]); err != nil {
			tb.Fatalf("build shard %d: %v", shard, err)
		}
	}
	// Pretend shard 1 claimed the first receipt of shard 0.
	f.chains[0].receipts[0].Status = api.ReceiptClaimed
	return f
}

// signedTx returns a transaction signed with the interop account key.
func signedTx(f *fakeShards, shard bt.Shard, from, nonce uint64, toShard bt.Shard, to uint64, amount bt.Gwei) *st.Transaction {
	t := &st.Transaction{Shard: shard, From: from, Nonce: nonce, ToShard: toShard, To: to, Amount: amount}
	core.SignTx(f.domain, t, core.AccountKey(shard, from))
	return t
}

func (f *fakeShards) build(shard bt.Shard, slots []bt.Slot) error {
	c := f.beacon
	cfg := c.Config
	pre, err := st.GenesisState(cfg, shard, core.AccountPubkeys(cfg, shard))
	if err != nil {
		return err
	}
	gh, err := core.GenesisHeader(pre)
	if err != nil {
		return err
	}
	sc := &shardChain{
		genesis: gh, blocks: map[bt.Root]*st.ShardBlock{}, canonical: map[bt.Slot]bt.Root{},
		states: map[bt.Root]*st.ShardState{gh.StateRoot: pre},
		head:   api.Head{Slot: gh.Slot, Root: gh.SigningRoot(), StateRoot: gh.StateRoot},
	}
	parent := gh
	for i, slot := range slots {
		beaconRoot := c.Canonical[slot]
		beacon := c.States[beaconRoot]
		txs := []*st.Transaction{
			signedTx(f, shard, 0, uint64(i), shard, 1, 10),
			signedTx(f, shard, 2, uint64(i), 1-shard, 3, 5), // cross-shard
		}
		proposer, err := core.ShardProposerIndex(c.Transition, beacon, shard, slot)
		if err != nil {
			return err
		}
		sk, ok := c.Keys.SecretKey(uint64(proposer))
		if !ok {
			return fmt.Errorf("no key of proposer %d", proposer)
		}
		ctx := core.BlockContext{Parent: &parent, BeaconRoot: beaconRoot, Beacon: beacon}
		built, err := core.BuildBlock(c.Transition, ctx, pre, slot, txs, nil, sk, core.ExecOptions{TxDomain: f.domain})
		if err != nil {
			return err
		}
		if len(built.Skipped) > 0 {
			return fmt.Errorf("transactions left out: %v", built.Skipped)
		}
		check := pre.Copy()
		if _, err := core.ProcessBlock(c.Transition, ctx, check, built.Block, bcore.VerifySigs, core.ExecOptions{TxDomain: f.domain}); err != nil {
			return fmt.Errorf("process built block: %w", err)
		}
		root, err := built.Block.SigningRoot()
		if err != nil {
			return err
		}
		sc.blocks[root] = built.Block
		sc.canonical[slot] = root
		sc.states[built.Block.StateRoot] = built.Post
		for _, r := range built.Receipts {
			sc.receipts = append(sc.receipts, api.ReceiptInfo{Receipt: r, Status: api.ReceiptPending, BlockRoot: root})
		}
		sc.txs += uint64(len(built.Block.Body.Transactions))
		if parent, err = built.Block.Header(); err != nil {
			return err
		}
		pre = built.Post
		sc.head = api.Head{Slot: slot, Root: root, StateRoot: built.Block.StateRoot, BeaconBlockRoot: beaconRoot}
	}
	sc.headState = pre
	f.chains[shard] = sc
	return nil
}

func (f *fakeShards) chain(shard bt.Shard) (*shardChain, error) {
	sc, ok := f.chains[shard]
	if !ok {
		return nil, fmt.Errorf("shard %d: %w", shard, api.ErrNotServed)
	}
	return sc, nil
}

func (f *fakeShards) Shards() []bt.Shard { return []bt.Shard{0, 1} }

func (f *fakeShards) Head(shard bt.Shard) (api.Head, error) {
	sc, err := f.chain(shard)
	if err != nil {
		return api.Head{}, err
	}
	return sc.head, nil
}

func (f *fakeShards) Block(shard bt.Shard, root bt.Root) (*st.ShardBlock, error) {
	sc, err := f.chain(shard)
	if err != nil {
		return nil, err
	}
	b, ok := sc.blocks[root]
	if !ok {
		return nil, fmt.Errorf("block %s: %w", root, beaconapi.ErrNotFound)
	}
	return b, nil
}

func (f *fakeShards) CanonicalRoot(shard bt.Shard, slot bt.Slot) (bt.Root, error) {
	sc, err := f.chain(shard)
	if err != nil {
		return bt.Root{}, err
	}
	r, ok := sc.canonical[slot]
	if !ok {
		return bt.Root{}, fmt.Errorf("slot %d: %w", slot, beaconapi.ErrNotFound)
	}
	return r, nil
}

// CrosslinkHeader returns the last canonical header before the crosslink's
// end epoch (the fake does not check the data root).
func (f *fakeShards) CrosslinkHeader(shard bt.Shard, c bt.Crosslink) (st.ShardBlockHeader, error) {
	sc, err := f.chain(shard)
	if err != nil {
		return st.ShardBlockHeader{}, err
	}
	end := bt.Slot(uint64(c.EndEpoch) * f.beacon.Config.SlotsPerEpoch)
	var best *st.ShardBlock
	for slot, root := range sc.canonical {
		if slot < end && (best == nil || slot > best.Slot) {
			best = sc.blocks[root]
		}
	}
	if best == nil {
		// As a shard node: a crosslink of no block leaves the shard at
		// its genesis.
		return sc.genesis, nil
	}
	return best.Header()
}

func (f *fakeShards) Account(shard bt.Shard, index uint64, stateRoot *bt.Root) (st.Account, error) {
	sc, err := f.chain(shard)
	if err != nil {
		return st.Account{}, err
	}
	s := sc.headState
	if stateRoot != nil {
		var ok bool
		if s, ok = sc.states[*stateRoot]; !ok {
			return st.Account{}, fmt.Errorf("state %s: %w", *stateRoot, beaconapi.ErrNotFound)
		}
	}
	if index >= uint64(len(s.Accounts)) {
		return st.Account{}, fmt.Errorf("account %d: %w", index, beaconapi.ErrNotFound)
	}
	return s.Accounts[index], nil
}

func (f *fakeShards) Receipts(shard bt.Shard, q api.ReceiptQuery) (api.ReceiptList, error) {
	sc, err := f.chain(shard)
	if err != nil {
		return api.ReceiptList{}, err
	}
	var out api.ReceiptList
	for _, r := range sc.receipts {
		out.Sent++
		if r.Status == api.ReceiptClaimed {
			out.Claimed++
		} else {
			out.Pending++
		}
		if (q.Status == "" || r.Status == q.Status) && len(out.Receipts) < q.Limit {
			out.Receipts = append(out.Receipts, r)
		}
	}
	return out, nil
}

func (f *fakeShards) SubmitTransaction(ctx context.Context, t *st.Transaction) error {
	sc, err := f.chain(t.Shard)
	if err != nil {
		return err
	}
	if t.From >= uint64(len(sc.headState.Accounts)) {
		return fmt.Errorf("%w: unknown sender %d", beaconapi.ErrBadRequest, t.From)
	}
	acc := sc.headState.Accounts[t.From]
	if !core.VerifyTx(f.domain, acc.Pubkey, t) {
		return fmt.Errorf("%w: bad signature of account %d", core.ErrInvalidShardBlock, t.From)
	}
	if t.Amount == f.failOn {
		return errors.New("pool exploded")
	}
	if t.Nonce != acc.Nonce {
		return fmt.Errorf("%w: nonce %d, account %d expects %d", beaconapi.ErrBadRequest, t.Nonce, t.From, acc.Nonce)
	}
	f.mu.Lock()
	f.pool = append(f.pool, t)
	f.mu.Unlock()
	return nil
}

func (f *fakeShards) Stats() api.Stats {
	var s api.Stats
	for _, sc := range f.chains {
		s.Transactions += sc.txs
		for _, r := range sc.receipts {
			s.ReceiptsSent++
			if r.Status == api.ReceiptClaimed {
				s.ReceiptsClaimed++
			} else {
				s.ReceiptsPending++
			}
		}
	}
	s.FraudProofsSeen = 1
	return s
}

func (f *fakeShards) pooled() []*st.Transaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pool)
}

// newHandler mounts the shard API on a beacon server, as the node does.
func newHandler(tb testing.TB) (http.Handler, *fakeShards, *apitest.Backend) {
	tb.Helper()
	f := newFakeShards(tb)
	be := apitest.NewBackend(f.beacon)
	logger := slog.New(slog.DiscardHandler)
	srv := beaconapi.NewServer(beaconapi.DefaultServerConfig(), be, be, logger)
	srv.Mount(api.Prefix, api.New(api.DefaultConfig(), f, be, logger))
	return srv.Handler(), f, be
}

type request struct {
	method string
	path   string
	header map[string]string
	body   []byte
}

func do(tb testing.TB, h http.Handler, rq request) *httptest.ResponseRecorder {
	tb.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req := httptest.NewRequest(method, rq.path, body)
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func get(tb testing.TB, h http.Handler, path string) *httptest.ResponseRecorder {
	tb.Helper()
	return do(tb, h, request{path: path})
}

func decode(tb testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		tb.Fatalf("decode body %q: %v", rec.Body.String(), err)
	}
	return m
}

// at walks a decoded JSON value by keys and indices.
func at(tb testing.TB, v any, path ...string) any {
	tb.Helper()
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				tb.Fatalf("no key %q in %v", p, x)
			}
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				tb.Fatalf("index %d out of %d", i, len(x))
			}
			v = x[i]
		default:
			tb.Fatalf("cannot index %T with %q", v, p)
		}
	}
	return v
}

func str(tb testing.TB, v any, path ...string) string {
	tb.Helper()
	s, ok := at(tb, v, path...).(string)
	if !ok {
		tb.Fatalf("%v at %v is not a string", at(tb, v, path...), path)
	}
	return s
}

// checkError checks the Beacon API error body.
func checkError(tb testing.TB, rec *httptest.ResponseRecorder, code int, contains string) {
	tb.Helper()
	if rec.Code != code {
		tb.Fatalf("status %d, want %d: %s", rec.Code, code, rec.Body)
	}
	var body struct {
		Code    int
		Message string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != code || body.Message == "" {
		tb.Fatalf("error body %q (%v)", rec.Body, err)
	}
	if !strings.Contains(body.Message, contains) {
		tb.Fatalf("error message %q, want it to contain %q", body.Message, contains)
	}
}
