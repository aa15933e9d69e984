package core

import (
	"errors"
	"math"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// claimSetup sends value from shard 0 to shard 1 in a block at slot 1, then
// crosslinks it: a beacon state whose current crosslink of shard 0 covers
// epoch 0 with that block's header, at an epoch where the challenge window
// has passed. It returns the claim and that beacon state.
func claimSetup(t *testing.T, f *fixture, amounts ...bt.Gwei) ([]*st.ReceiptClaim, *bt.BeaconState) {
	t.Helper()
	var txs []*st.Transaction
	for i, a := range amounts {
		txs = append(txs, f.tx(t, 0, 7, uint64(i), 1, 9, a))
	}
	built, err := BuildBlock(f.tr, f.ctx(0), f.shards[0], 1, txs, nil, f.proposerKey(t, 0, 1), f.opts)
	if err != nil || len(built.Receipts) != len(amounts) {
		t.Fatalf("build: %v, %d receipts", err, len(built.Receipts))
	}
	header, _ := built.Block.Header()
	roots := []bt.Root{header.SigningRoot()}
	dataRoot, err := CrosslinkDataRoot(f.cfg, roots)
	if err != nil {
		t.Fatal(err)
	}
	beacon := f.beacon.Copy()
	parent := beacon.CurrentCrosslinks[0]
	cl := bt.Crosslink{Shard: 0, ParentRoot: parent.TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: dataRoot}
	beacon.CurrentCrosslinks[0] = cl
	beacon.Slot = bt.Slot((1 + f.cfg.Shard.ChallengeWindow) * f.cfg.SlotsPerEpoch)
	// The crosslink was already current at the window slot: record that
	// state's root in the referenced state's state_roots.
	ws, ok := WindowSlot(f.cfg, beacon.Slot)
	if !ok {
		t.Fatal("no window slot")
	}
	win := beacon.Copy()
	win.Slot = ws
	wroot, err := win.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	beacon.StateRoots[uint64(ws)%f.cfg.SlotsPerHistoricalRoot] = wroot
	widx, wbranch, err := WindowProof(f.cfg, win, 0, []*bt.Crosslink{&cl})
	if err != nil {
		t.Fatal(err)
	}
	hb, err := HeaderProof(f.cfg, roots, 0)
	if err != nil {
		t.Fatal(err)
	}
	var claims []*st.ReceiptClaim
	for i, r := range built.Receipts {
		rb, err := st.ReceiptProof(built.Receipts, i)
		if err != nil {
			t.Fatal(err)
		}
		claims = append(claims, &st.ReceiptClaim{
			Receipt: r, ReceiptIndex: uint64(i), ReceiptBranch: rb,
			Header: header, HeaderIndex: 0, HeaderBranch: hb,
			Crosslinks: []*bt.Crosslink{&cl}, WindowIndex: widx, WindowBranch: wbranch,
		})
	}
	return claims, beacon
}

func execClaims(f *fixture, s *st.ShardState, beacon *bt.BeaconState, claims ...*st.ReceiptClaim) error {
	b := &st.ShardBlock{Slot: beacon.Slot, Shard: s.Shard, Body: st.ShardBlockBody{Claims: claims}}
	_, err := ExecuteBlock(f.cfg, FullView{S: s}, FullBeaconView{S: beacon}, b, f.opts)
	return err
}

func TestClaims(t *testing.T) {
	f := newFixture(t)
	claims, beacon := claimSetup(t, f, 300, 200)
	genesis := bt.Gwei(f.cfg.Shard.GenesisBalance)

	t.Run("valid in order", func(t *testing.T) {
		s := f.shards[1].Copy()
		if err := execClaims(f, s, beacon, claims[0], claims[1]); err != nil {
			t.Fatal(err)
		}
		if s.Accounts[9].Balance != genesis+500 || s.InboxNonces[0] != 2 {
			t.Fatalf("balance %d, inbox %d", s.Accounts[9].Balance, s.InboxNonces[0])
		}
	})
	t.Run("chain of crosslinks", func(t *testing.T) {
		// A newer crosslink on top: the claim proves the chain up to it.
		b2 := beacon.Copy()
		next := bt.Crosslink{Shard: 0, ParentRoot: b2.CurrentCrosslinks[0].TreeRoot(), StartEpoch: 1, EndEpoch: 2}
		b2.CurrentCrosslinks[0] = next
		c := *claims[0]
		c.Crosslinks = append([]*bt.Crosslink{}, c.Crosslinks[0], &next)
		if err := execClaims(f, f.shards[1].Copy(), b2, &c); err != nil {
			t.Fatal(err)
		}
		// Without the newer link the claim does not reach the current crosslink.
		if err := execClaims(f, f.shards[1].Copy(), b2, claims[0]); !errors.Is(err, ErrInvalidShardBlock) {
			t.Fatalf("stale chain accepted: %v", err)
		}
	})
	bad := []struct {
		name string
		mut  func(c *st.ReceiptClaim, b *bt.BeaconState)
	}{
		{"early (challenge window)", func(c *st.ReceiptClaim, b *bt.BeaconState) { b.Slot -= bt.Slot(f.cfg.SlotsPerEpoch) }},
		{"crosslink not yet current at the window slot", func(c *st.ReceiptClaim, b *bt.BeaconState) {
			// The window slot's state still had the genesis crosslink.
			ws, _ := WindowSlot(f.cfg, b.Slot)
			old := f.beacon.Copy()
			old.Slot = ws
			root, _ := old.HashTreeRoot()
			b.StateRoots[uint64(ws)%f.cfg.SlotsPerHistoricalRoot] = root
		}},
		{"window branch", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.WindowBranch[2][0] ^= 1 }},
		{"window index", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.WindowIndex = 1 }},
		{"wrong destination", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.Receipt.DstShard = 0 }},
		{"amount changed", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.Receipt.Amount++ }},
		{"receipt branch", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.ReceiptBranch[3][0] ^= 1 }},
		{"header branch", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.HeaderBranch[0][0] ^= 1 }},
		{"header index", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.HeaderIndex = 1 }},
		{"not crosslinked", func(c *st.ReceiptClaim, b *bt.BeaconState) { b.CurrentCrosslinks[0] = bt.Crosslink{} }},
		{"out of order", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.Receipt.Nonce = 1 }},
		{"header slot", func(c *st.ReceiptClaim, b *bt.BeaconState) { c.Header.Slot = 9 }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := cloneClaim(t, claims[0])
			b := beacon.Copy()
			tc.mut(c, b)
			s := f.shards[1].Copy()
			if err := execClaims(f, s, b, c); !errors.Is(err, ErrInvalidShardBlock) {
				t.Fatalf("claim accepted or wrong error: %v", err)
			}
		})
	}
	t.Run("replay", func(t *testing.T) {
		s := f.shards[1].Copy()
		if err := execClaims(f, s, beacon, claims[0]); err != nil {
			t.Fatal(err)
		}
		if err := execClaims(f, s, beacon, claims[0]); !errors.Is(err, ErrInvalidShardBlock) {
			t.Fatalf("replayed claim accepted: %v", err)
		}
		// Nothing was credited twice.
		if s.Accounts[9].Balance != genesis+300 {
			t.Fatalf("balance %d after a replay attempt", s.Accounts[9].Balance)
		}
	})
}

func cloneClaim(t *testing.T, c *st.ReceiptClaim) *st.ReceiptClaim {
	t.Helper()
	data, err := c.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	var out st.ReceiptClaim
	if err := bt.Decode(&out, data); err != nil {
		t.Fatal(err)
	}
	return &out
}

// TestHeaderInCrosslinkEpochs checks the slot range of a header in a
// crosslink, including epochs whose slot products wrap around 2**64 (a
// hostile crosslink): the header must not pass as inside them.
func TestHeaderInCrosslinkEpochs(t *testing.T) {
	t.Parallel()
	cfg := params.Minimal().WithShards()
	spe := cfg.SlotsPerEpoch
	h := &st.ShardBlockHeader{Shard: 2, Slot: bt.Slot(3*spe + 1)}
	roots := []bt.Root{h.SigningRoot()}
	dr, err := CrosslinkDataRoot(cfg, roots)
	if err != nil {
		t.Fatal(err)
	}
	branch, err := HeaderProof(cfg, roots, 0)
	if err != nil {
		t.Fatal(err)
	}
	wrap := bt.Epoch(math.MaxUint64/spe + 1) // wrap * spe == 0 mod 2**64
	for _, tc := range []struct {
		start, end bt.Epoch
		ok         bool
	}{
		{3, 4, true}, {0, 4, true}, {4, 5, false}, {2, 3, false},
		{wrap, wrap + 4, false}, {0, wrap + 1, true}, {wrap + 3, wrap + 4, false},
	} {
		c := &bt.Crosslink{Shard: 2, StartEpoch: tc.start, EndEpoch: tc.end, DataRoot: dr}
		if err := verifyHeaderInCrosslink(cfg, h, 0, branch, c); (err == nil) != tc.ok {
			t.Errorf("epochs [%d, %d): %v, want ok %v", tc.start, tc.end, err, tc.ok)
		}
	}
}

// TestClaimBuilder checks that a builder reusing its window branches builds
// exactly the claims BuildClaim builds, one by one, that claims never share a
// branch, and that a crosslink not yet current at the window slot is
// reported as not claimable.
func TestClaimBuilder(t *testing.T) {
	f := newFixture(t)
	win := f.beacon.Copy()
	var links []bt.Crosslink
	for s := range bt.Shard(2) {
		cl := bt.Crosslink{Shard: s, ParentRoot: win.CurrentCrosslinks[s].TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: bt.Root{byte(s) + 1}}
		win.CurrentCrosslinks[s] = cl
		links = append(links, cl)
	}
	later := bt.Crosslink{Shard: 0, ParentRoot: links[0].TreeRoot(), StartEpoch: 1, EndEpoch: 2, DataRoot: bt.Root{9}}
	sources := []*ClaimSource{
		{Receipt: st.Receipt{SrcShard: 0, DstShard: 1, Nonce: 0}, Chain: []*bt.Crosslink{&links[0]}},
		{Receipt: st.Receipt{SrcShard: 0, DstShard: 1, Nonce: 1}, Chain: []*bt.Crosslink{&links[0], &later}},
		{Receipt: st.Receipt{SrcShard: 1, DstShard: 0, Nonce: 0}, Chain: []*bt.Crosslink{&links[1]}},
	}
	b := NewClaimBuilder(f.cfg, win)
	var built []*st.ReceiptClaim
	for i, src := range sources {
		got, err := b.Build(src)
		if err != nil {
			t.Fatalf("source %d: %v", i, err)
		}
		want, err := BuildClaim(f.cfg, src, win)
		if err != nil {
			t.Fatalf("source %d: BuildClaim: %v", i, err)
		}
		gr, err1 := got.HashTreeRoot()
		wr, err2 := want.HashTreeRoot()
		if err1 != nil || err2 != nil || gr != wr {
			t.Fatalf("source %d: builder's claim differs from BuildClaim's", i)
		}
		built = append(built, got)
	}
	before := built[1].WindowBranch[0]
	built[0].WindowBranch[0] = bt.Root{0xff}
	if built[1].WindowBranch[0] != before {
		t.Fatal("two claims share one window branch")
	}
	_, err := b.Build(&ClaimSource{Receipt: st.Receipt{SrcShard: 0}, Chain: []*bt.Crosslink{&later}})
	if !errors.Is(err, ErrNotClaimable) {
		t.Fatalf("a crosslink not current at the window slot: got %v, want ErrNotClaimable", err)
	}
	if _, err := b.Build(&ClaimSource{Receipt: st.Receipt{SrcShard: bt.Shard(f.cfg.ShardCount)}}); err == nil {
		t.Fatal("a shard out of range was accepted")
	}
}
