package testnet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/api/apitest"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardapi "github.com/shardlab/shardlab/shard/api"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// fakeShards is a shard/api.ShardBackend that checks submitted
// transactions like a shard node would (signature, exact next nonce) and
// can reject an account's next transaction once.
type fakeShards struct {
	cfg    *params.Config
	domain shardcore.TxDomain // of the beacon chain's genesis
	shards []bt.Shard

	mu         sync.Mutex
	nonces     map[[2]uint64]uint64
	accepted   []st.Transaction
	rejectOnce map[[2]uint64]bool
	rejected   int
}

var _ shardapi.ShardBackend = (*fakeShards)(nil)

func (f *fakeShards) Shards() []bt.Shard { return f.shards }

func (f *fakeShards) Head(bt.Shard) (shardapi.Head, error) {
	return shardapi.Head{Slot: 7, Root: bt.Root{1}, StateRoot: bt.Root{2}}, nil
}

func (f *fakeShards) Block(bt.Shard, bt.Root) (*st.ShardBlock, error) {
	return nil, beaconapi.ErrNotFound
}

func (f *fakeShards) CanonicalRoot(bt.Shard, bt.Slot) (bt.Root, error) {
	return bt.Root{}, beaconapi.ErrNotFound
}

func (f *fakeShards) CrosslinkHeader(bt.Shard, bt.Crosslink) (st.ShardBlockHeader, error) {
	return st.ShardBlockHeader{Slot: 6, StateRoot: bt.Root{0xab}}, nil
}

func (f *fakeShards) Account(shard bt.Shard, index uint64, _ *bt.Root) (st.Account, error) {
	if index >= f.cfg.Shard.Accounts {
		return st.Account{}, beaconapi.ErrNotFound
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return st.Account{Balance: 1e12, Nonce: f.nonces[[2]uint64{uint64(shard), index}]}, nil
}

func (f *fakeShards) Receipts(bt.Shard, shardapi.ReceiptQuery) (shardapi.ReceiptList, error) {
	return shardapi.ReceiptList{Sent: 5, Claimed: 2, Pending: 3, Received: 3}, nil
}

func (f *fakeShards) SubmitTransaction(_ context.Context, tx *st.Transaction) error {
	pub := shardcore.AccountKey(tx.Shard, tx.From).Public().(ed25519.PublicKey)
	if !shardcore.VerifyTx(f.domain, [32]byte(pub), tx) {
		return fmt.Errorf("%w: bad signature", beaconapi.ErrBadRequest)
	}
	key := [2]uint64{uint64(tx.Shard), tx.From}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rejectOnce[key] {
		delete(f.rejectOnce, key)
		f.rejected++
		return fmt.Errorf("%w: pool full for this account", beaconapi.ErrBadRequest)
	}
	if tx.Nonce != f.nonces[key] {
		f.rejected++
		return fmt.Errorf("%w: nonce %d, want %d", beaconapi.ErrBadRequest, tx.Nonce, f.nonces[key])
	}
	f.nonces[key]++
	f.accepted = append(f.accepted, *tx)
	return nil
}

func (f *fakeShards) Stats() shardapi.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return shardapi.Stats{Transactions: uint64(len(f.accepted))}
}

// fakeNode serves the beacon API over an apitest chain and the shard API
// over a fakeShards on one httptest server.
func fakeNode(t *testing.T, shards ...bt.Shard) (*httptest.Server, *fakeShards, *apitest.Chain) {
	t.Helper()
	return fakeNodeOf(t, apitest.ChainOptions{}, shards...)
}

// fakeNodeOf is fakeNode over a chain built with opts.
func fakeNodeOf(t *testing.T, opts apitest.ChainOptions, shards ...bt.Shard) (*httptest.Server, *fakeShards, *apitest.Chain) {
	t.Helper()
	c, err := apitest.NewChain(opts)
	if err != nil {
		t.Fatal(err)
	}
	be := apitest.NewBackend(c)
	f := &fakeShards{cfg: c.Config, domain: shardcore.ComputeTxDomain(c.Config, c.Blocks[c.GenesisRoot].GetStateRoot()), shards: shards, nonces: map[[2]uint64]uint64{}, rejectOnce: map[[2]uint64]bool{}}
	srv := beaconapi.NewServer(beaconapi.DefaultServerConfig(), be, be, nil)
	srv.Mount(shardapi.Prefix, shardapi.New(shardapi.DefaultConfig(), f, be, nil))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, f, c
}

func portOf(t *testing.T, ts *httptest.Server) int {
	t.Helper()
	return ts.Listener.Addr().(*net.TCPAddr).Port
}

// TestLoadAgainstShardAPI runs the workload against the real shard API
// handlers: the transactions decode, their signatures verify, nonces
// follow, and a rejection refreshes the account's nonce.
func TestLoadAgainstShardAPI(t *testing.T) {
	ts, f, c := fakeNode(t, 0, 1)
	cl := NewClient(ts.URL)
	l := NewLoad(c.Config, map[uint64]*Client{0: cl, 1: cl}, 1000, 0.5, 7)
	l.accounts = 4 // reuse accounts, so that nonces advance
	l.rest = 0
	f.mu.Lock()
	f.rejectOnce[[2]uint64{0, 1}] = true
	f.nonces[[2]uint64{1, 2}] = 5 // transactions the load did not send
	f.mu.Unlock()
	for range 200 {
		l.submitOne(context.Background())
	}
	s := l.Stats()
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.Submitted != 200 || s.Accepted != uint64(len(f.accepted)) || s.Rejected != uint64(f.rejected) || s.Failed != 0 {
		t.Fatalf("stats %+v; backend accepted %d, rejected %d; last error %s", s, len(f.accepted), f.rejected, l.LastError())
	}
	// One forced rejection and one stale nonce: each costs one rejection,
	// then the refreshed nonce is accepted.
	if s.Rejected != 2 || s.Accepted != 198 {
		t.Fatalf("stats %+v, want 2 rejected; last error %s", s, l.LastError())
	}
	cross := 0
	for _, tx := range f.accepted {
		if tx.ToShard != tx.Shard {
			cross++
		}
		if uint64(tx.ToShard) >= c.Config.ShardCount || tx.To >= c.Config.Shard.Accounts || tx.Amount == 0 {
			t.Fatalf("bad transaction %+v", tx)
		}
	}
	if cross == 0 || cross == len(f.accepted) || uint64(cross) != s.CrossShard {
		t.Fatalf("%d of %d cross-shard (stats %d), want about half", cross, len(f.accepted), s.CrossShard)
	}
}

// TestPollAndTable polls a beacon node and a shard node (fakes over the
// real API handlers) and renders the table.
func TestPollAndTable(t *testing.T) {
	beacon, _, c := fakeNode(t)
	shard, _, _ := fakeNode(t, 0, 1)
	targets := []target{
		{spec: NodeSpec{Name: "beacon-0", Role: RoleBeacon, HTTPPort: portOf(t, beacon)}, running: true},
		{spec: NodeSpec{Name: "shard-0", Role: RoleShard, HTTPPort: portOf(t, shard), Shards: []uint64{0, 1}}, running: true},
		{spec: NodeSpec{Name: "beacon-1", Role: RoleBeacon}, exit: "signal: killed"},
	}
	genesis := time.Now().Add(-time.Duration(12*c.Config.SecondsPerSlot) * time.Second)
	s := poll(context.Background(), targets, genesis, c.Config.SecondsPerSlot, c.Config.SlotsPerEpoch, 4)
	if s.Slot != 12 || s.Epoch != 1 {
		t.Fatalf("slot %d epoch %d", s.Slot, s.Epoch)
	}
	n := s.Nodes[0]
	if n.Err != "" || n.Sync.HeadSlot != uint64(c.HeadSlot) || n.Finality.Finalized.Epoch == 0 {
		t.Fatalf("beacon node status %+v", n)
	}
	if s.Nodes[2].State != "exited" {
		t.Fatalf("exited node: %+v", s.Nodes[2])
	}
	sh := s.Shards[1]
	if sh.Node != "shard-0" || !sh.HasHead || sh.HeadSlot != 7 || sh.Crosslink == nil || !sh.Crosslink.HasHeader ||
		!sh.HasReceipts || sh.Receipts.Claimed != 2 || sh.Receipts.Received != 3 {
		t.Fatalf("shard 1 status %+v", sh)
	}
	if s.Shards[2].Node != "" || !s.HasIncluded {
		t.Fatalf("shard 2 %+v, included %v", s.Shards[2], s.HasIncluded)
	}
	table := s.Table()
	for _, want := range []string{"slot 12  epoch 1", "beacon-0   beacon", "exited: signal: killed", "shard-0", "0xab000000…"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if line := s.Line(); !strings.Contains(line, "receipts 10 sent 6 credited") {
		t.Errorf("line: %s", line)
	}

	// Without shard nodes, crosslinks come from the beacon state.
	s = poll(context.Background(), targets[:1], genesis, c.Config.SecondsPerSlot, c.Config.SlotsPerEpoch, c.Config.ShardCount)
	if cl := s.Shards[0].Crosslink; cl == nil || cl.EndEpoch == 0 {
		t.Fatalf("crosslink of shard 0 from the beacon state: %+v", cl)
	}
	if table := s.Table(); !strings.Contains(table, "crosslinked epochs") {
		t.Errorf("table without shard nodes:\n%s", table)
	}

	// Agreement: the same chain on two nodes agrees.
	a := checkAgreement(context.Background(), []string{"a", "b"}, []*Client{NewClient(beacon.URL), NewClient(shard.URL)})
	if !a.OK() || a.Epoch == 0 {
		t.Fatalf("agreement %+v", a)
	}
	// A node that does not answer is a disagreement.
	a = checkAgreement(context.Background(), []string{"a", "gone"}, []*Client{NewClient(beacon.URL), NewClient("http://127.0.0.1:1")})
	if a.OK() || len(a.Disagree) != 1 {
		t.Fatalf("agreement with a dead node %+v", a)
	}
	_, err := NewClient(beacon.URL).Header(context.Background(), "0x"+strings.Repeat("00", 31)+"01")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown header: %v", err)
	}
}

// TestStatusCrosslinksByPosition: every shard's row shows its own crosslink,
// before any crosslink (the genesis crosslink of every shard says shard 0)
// and after, from the shard nodes and from the beacon state; a shard not
// crosslinked yet shows no crosslinked state root.
func TestStatusCrosslinksByPosition(t *testing.T) {
	tests := []struct {
		name        string
		opts        apitest.ChainOptions
		crosslinked bool
	}{
		{"before the first crosslinks", apitest.ChainOptions{Slots: 2, NoDefaults: true}, false},
		{"after crosslinks", apitest.ChainOptions{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			beacon, _, c := fakeNodeOf(t, tc.opts)
			shard, _, _ := fakeNodeOf(t, tc.opts, 0, 1)
			shards := c.Config.ShardCount
			targets := []target{
				{spec: NodeSpec{Name: "beacon-0", Role: RoleBeacon, HTTPPort: portOf(t, beacon)}, running: true},
				{spec: NodeSpec{Name: "shard-0", Role: RoleShard, HTTPPort: portOf(t, shard), Shards: []uint64{0, 1}}, running: true},
			}
			genesis := time.Now().Add(-time.Duration(uint64(c.HeadSlot)*c.Config.SecondsPerSlot) * time.Second)
			head := c.States[c.HeadRoot]
			check := func(from string, s *Snapshot, rows []uint64) {
				t.Helper()
				for _, i := range rows {
					sh, want := s.Shards[i], head.CurrentCrosslinks[i]
					switch {
					case sh.Shard != i || sh.Crosslink == nil:
						t.Errorf("%s: shard %d row %+v has no crosslink", from, i, sh)
					case sh.Crosslink.Shard != i || sh.Crosslink.EndEpoch != uint64(want.EndEpoch):
						t.Errorf("%s: shard %d row shows crosslink %+v, state has %+v", from, i, *sh.Crosslink, want)
					case (want.EndEpoch > 0) != tc.crosslinked:
						t.Fatalf("%s: shard %d crosslink %+v: the test chain is not as intended", from, i, want)
					case !tc.crosslinked && sh.Crosslink.HasHeader:
						t.Errorf("%s: shard %d is not crosslinked yet but shows the crosslinked state %s", from, i, sh.Crosslink.HeaderStateRoot)
					}
				}
			}
			check("shard nodes", poll(context.Background(), targets, genesis, c.Config.SecondsPerSlot, c.Config.SlotsPerEpoch, shards), []uint64{0, 1})
			all := make([]uint64, shards)
			for i := range all {
				all[i] = uint64(i)
			}
			check("beacon state", poll(context.Background(), targets[:1], genesis, c.Config.SecondsPerSlot, c.Config.SlotsPerEpoch, shards), all)
		})
	}
}
