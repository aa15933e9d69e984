package chain

import (
	"errors"
	"testing"

	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestClaimsInOrder relays three receipts from shard 0 to shard 1 as the
// relayer does: they are claimable only once their crosslink has been in
// the beacon state for the challenge window; the destination's pool hands
// them out in nonce order from its inbox nonce, stopping at a gap, and
// refreshes their crosslink chain and window proof for the block's beacon
// reference.
func TestClaimsInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.service(t, 0, nil, "src"), f.service(t, 1, nil, "dst")
	f.beacon.advance(t, 1, nil)
	for i := range uint64(3) {
		mustNoErr(t, src.AddTransaction(f.transfer(0, i+1, 0, 1, 7, bt.Gwei(5+i))), "add send")
	}
	if built := f.propose(t, src, 1); len(built.Receipts) != 3 {
		t.Fatalf("%d receipts", len(built.Receipts))
	}
	sent := src.SentReceipts(1, 0, 10)
	if len(sent) != 3 {
		t.Fatalf("%d sent receipts", len(sent))
	}
	for i, r := range sent {
		if r.Receipt.Nonce != uint64(i) || r.Index != i {
			t.Fatalf("receipt %d: %+v", i, r)
		}
	}
	dr, err := src.DataRoot(0, 1)
	mustNoErr(t, err, "data root")
	c1 := bt.Crosslink{Shard: 0, ParentRoot: (&bt.Crosslink{}).TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: dr}
	f.beacon.advance(t, 8, crosslinkAt(0, c1))
	f.observe(t, src, dst)

	claims := func() []*st.ReceiptClaim {
		_, head := f.beacon.headState()
		window := f.beacon.window(t, head)
		links := src.CrosslinkChain(head.CurrentCrosslinks[0], 16)
		var out []*st.ReceiptClaim
		for _, r := range sent {
			pos := -1
			for j, h := range links[len(links)-2].Headers {
				if h == r.Block {
					pos = j
				}
			}
			header, rb, err := src.ReceiptProof(r.Block, r.Index)
			mustNoErr(t, err, "receipt proof")
			hb, err := shardcore.HeaderProof(f.cfg, links[len(links)-2].Headers, pos)
			mustNoErr(t, err, "header proof")
			c, err := shardcore.BuildClaim(f.cfg, &shardcore.ClaimSource{
				Receipt: r.Receipt, ReceiptIndex: uint64(r.Index), ReceiptBranch: rb, Header: header,
				HeaderIndex: uint64(pos), HeaderBranch: hb, Chain: []*bt.Crosslink{&c1},
			}, window)
			if err != nil {
				if errors.Is(err, shardcore.ErrNotClaimable) {
					return nil
				}
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	f.beacon.advance(t, 9, nil)
	if got := claims(); got != nil {
		t.Fatal("claimable one slot after the crosslink was written")
	}
	f.beacon.advance(t, 16, nil)
	cs := claims()
	if len(cs) != 3 {
		t.Fatal("not claimable once the window passed")
	}
	mustNoErr(t, dst.AddClaim(cs[2]), "add claim 2")
	_, head := f.beacon.headState()
	if got := dst.ClaimsFor(head, f.beacon.window(t, head)); len(got) != 0 {
		t.Fatalf("%d claims handed out past a gap", len(got))
	}
	mustNoErr(t, dst.AddClaim(cs[1]), "add claim 1")
	mustNoErr(t, dst.AddClaim(cs[0]), "add claim 0")
	if err := dst.AddClaim(cs[0]); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate claim: %v", err)
	}
	bad := *cs[0]
	bad.Receipt.Amount++
	if err := dst.AddClaim(&bad); !errors.Is(err, ErrInvalidClaim) {
		t.Fatalf("forged claim: %v", err)
	}
	// The source's crosslink moves on: pooled claims are extended by a link.
	empty, _ := shardcore.CrosslinkDataRoot(f.cfg, nil)
	c2 := bt.Crosslink{Shard: 0, ParentRoot: c1.TreeRoot(), StartEpoch: 1, EndEpoch: 2, DataRoot: empty}
	f.beacon.advance(t, 17, crosslinkAt(0, c2))
	f.observe(t, dst)
	built := f.propose(t, dst, 17)
	if len(built.Block.Body.Claims) != 3 {
		t.Fatalf("block with %d claims (skipped: %v)", len(built.Block.Body.Claims), built.Skipped)
	}
	for i, c := range built.Block.Body.Claims {
		if c.Receipt.Nonce != uint64(i) || len(c.Crosslinks) != 2 {
			t.Fatalf("claim %d: nonce %d, %d links", i, c.Receipt.Nonce, len(c.Crosslinks))
		}
	}
	if dst.Inbox(0) != 3 {
		t.Fatalf("inbox %d", dst.Inbox(0))
	}
	if acc, _ := dst.Account(7, nil); acc.Balance != bt.Gwei(f.cfg.Shard.GenesisBalance)+18 {
		t.Fatalf("recipient balance %d", acc.Balance)
	}
	src.SetDestinationInbox(1, dst.Inbox(0))
	n, claimed, list := src.Receipts(nil, 10)
	if n != 3 || claimed != 3 || len(list) != 3 || !list[0].Claimed {
		t.Fatalf("receipts %d sent, %d claimed, %+v", n, claimed, list)
	}
}
