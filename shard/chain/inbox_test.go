package chain

import (
	"errors"
	"testing"

	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestInboxProof has shard 1 claim two receipts of shard 0, crosslinks
// shard 1's blocks, and checks the inbox proof of that crosslink: it
// verifies and gives inbox_nonces[0] = 2; tampered parts fail; crosslinks
// the service cannot prove (empty, unknown, another shard's, one whose
// last state was pruned) give ErrNoData.
func TestInboxProof(t *testing.T) {
	t.Parallel()
	if inboxListGIndex != 13 || InboxBranchDepth != 3 {
		t.Fatalf("inbox_nonces at generalized index %d, depth %d; docs/protocol.md §2.3 has 13, 3", inboxListGIndex, InboxBranchDepth)
	}
	f := newFixture(t)
	src, dst := f.service(t, 0, nil, "src"), f.service(t, 1, nil, "dst")
	f.beacon.advance(t, 1, nil)
	for i := range uint64(2) {
		mustNoErr(t, src.AddTransaction(f.transfer(0, i+1, 0, 1, 3, 10)), "add send")
	}
	f.propose(t, src, 1)
	dr, err := src.DataRoot(0, 1)
	mustNoErr(t, err, "data root")
	c0 := bt.Crosslink{Shard: 0, ParentRoot: (&bt.Crosslink{}).TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: dr}
	f.beacon.advance(t, 8, crosslinkAt(0, c0))
	f.observe(t, src, dst)
	f.beacon.advance(t, 16, nil)
	for _, c := range buildClaims(t, f, src, c0) {
		mustNoErr(t, dst.AddClaim(c), "add claim")
	}
	f.propose(t, dst, 16)
	if dst.Inbox(0) != 2 {
		t.Fatalf("inbox %d after the claims", dst.Inbox(0))
	}
	f.beacon.advance(t, 17, nil)
	f.propose(t, dst, 17)

	ddr, err := dst.DataRoot(0, 3)
	mustNoErr(t, err, "data root of shard 1")
	c1 := bt.Crosslink{Shard: 1, ParentRoot: (&bt.Crosslink{}).TreeRoot(), StartEpoch: 0, EndEpoch: 3, DataRoot: ddr}
	if _, err := dst.InboxProof(c1); !errors.Is(err, ErrNoData) {
		t.Fatalf("proof of a crosslink never observed: %v", err)
	}
	f.beacon.advance(t, 24, crosslinkAt(1, c1))
	f.observe(t, dst)
	p, err := dst.InboxProof(c1)
	mustNoErr(t, err, "inbox proof")
	mustNoErr(t, VerifyInboxProof(f.cfg, c1, p), "verify")
	if p.Header.Slot != 17 || len(p.HeaderRoots) != 2 || p.InboxNonces[0] != 2 || p.InboxNonces[2] != 0 {
		t.Fatalf("proof of slot %d, %d roots, inbox %v", p.Header.Slot, len(p.HeaderRoots), p.InboxNonces)
	}

	tamper := []struct {
		name string
		fn   func(p *InboxProof, c *bt.Crosslink)
	}{
		{"nonce raised", func(p *InboxProof, _ *bt.Crosslink) { p.InboxNonces[0]++ }},
		{"nonce list cut", func(p *InboxProof, _ *bt.Crosslink) { p.InboxNonces = p.InboxNonces[:len(p.InboxNonces)-1] }},
		{"nonce list extended", func(p *InboxProof, _ *bt.Crosslink) { p.InboxNonces = append(p.InboxNonces, 0) }},
		{"header state root", func(p *InboxProof, _ *bt.Crosslink) { p.Header.StateRoot[0] ^= 1 }},
		{"header slot", func(p *InboxProof, _ *bt.Crosslink) { p.Header.Slot++ }},
		{"header root list", func(p *InboxProof, _ *bt.Crosslink) { p.HeaderRoots[0][0] ^= 1 }},
		{"header root dropped", func(p *InboxProof, _ *bt.Crosslink) { p.HeaderRoots = p.HeaderRoots[1:] }},
		{"no header roots", func(p *InboxProof, _ *bt.Crosslink) { p.HeaderRoots = nil }},
		{"branch node", func(p *InboxProof, _ *bt.Crosslink) { p.Branch[1][0] ^= 1 }},
		{"branch too long", func(p *InboxProof, _ *bt.Crosslink) { p.Branch = append(p.Branch, bt.Root{}) }},
		{"branch too short", func(p *InboxProof, _ *bt.Crosslink) { p.Branch = p.Branch[:2] }},
		{"other data root", func(_ *InboxProof, c *bt.Crosslink) { c.DataRoot[0] ^= 1 }},
		{"other shard", func(_ *InboxProof, c *bt.Crosslink) { c.Shard = 2 }},
		{"range after the header", func(_ *InboxProof, c *bt.Crosslink) { c.StartEpoch, c.EndEpoch = 3, 4 }},
	}
	for _, tc := range tamper {
		q := &InboxProof{
			HeaderRoots: append([]bt.Root(nil), p.HeaderRoots...), Header: p.Header,
			InboxNonces: append([]uint64(nil), p.InboxNonces...), Branch: append([]bt.Root(nil), p.Branch...),
		}
		c := c1
		tc.fn(q, &c)
		if err := VerifyInboxProof(f.cfg, c, q); !errors.Is(err, ErrInvalidInboxProof) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := VerifyInboxProof(f.cfg, c1, nil); !errors.Is(err, ErrInvalidInboxProof) {
		t.Errorf("nil proof: %v", err)
	}

	if _, err := dst.InboxProof(c0); !errors.Is(err, ErrNoData) {
		t.Fatalf("proof of another shard's crosslink: %v", err)
	}
	empty, _ := shardcore.CrosslinkDataRoot(f.cfg, nil)
	c2 := bt.Crosslink{Shard: 1, ParentRoot: c1.TreeRoot(), StartEpoch: 3, EndEpoch: 3, DataRoot: empty}
	f.beacon.advance(t, 25, crosslinkAt(1, c2))
	f.observe(t, dst)
	if _, err := dst.InboxProof(c2); !errors.Is(err, ErrNoData) {
		t.Fatalf("proof of an empty crosslink: %v", err)
	}
	// Once the anchor moves past c1's last block, its state is pruned.
	f.propose(t, dst, 25)
	ddr, err = dst.DataRoot(3, 4)
	mustNoErr(t, err, "data root of shard 1")
	c3 := bt.Crosslink{Shard: 1, ParentRoot: c2.TreeRoot(), StartEpoch: 3, EndEpoch: 4, DataRoot: ddr}
	f.beacon.advance(t, 32, crosslinkAt(1, c3))
	f.observe(t, dst)
	if _, err := dst.InboxProof(c1); !errors.Is(err, ErrNoData) {
		t.Fatalf("proof of a crosslink behind the anchor: %v", err)
	}
	p3, err := dst.InboxProof(c3)
	mustNoErr(t, err, "inbox proof of the new crosslink")
	mustNoErr(t, VerifyInboxProof(f.cfg, c3, p3), "verify the new proof")
	if p3.Header.Slot != 25 || p3.InboxNonces[0] != 2 {
		t.Fatalf("new proof of slot %d, inbox %v", p3.Header.Slot, p3.InboxNonces)
	}
}

// TestNonceListRoot checks NonceListRoot against the state's own tree.
func TestNonceListRoot(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.shardGenesis(t, 2)
	for i := range s.InboxNonces {
		s.InboxNonces[i] = uint64(i*i + 3)
	}
	node, err := s.NodeFunc()
	mustNoErr(t, err, "state tree")
	want, err := node(inboxListGIndex)
	mustNoErr(t, err, "inbox node")
	got, err := NonceListRoot(s.InboxNonces)
	mustNoErr(t, err, "nonce list root")
	if got != want {
		t.Fatalf("nonce list root %x, state has %x", got, want)
	}
	if _, err := NonceListRoot(make([]uint64, 1025)); err == nil {
		t.Fatal("a nonce list over MAX_SHARDS has a root")
	}
}

// buildClaims builds, as the relayer does, the claims of src's receipts to
// shard 1 in crosslink c (the first link of the chain) against the beacon
// head.
func buildClaims(t *testing.T, f *fixture, src *Service, c bt.Crosslink) []*st.ReceiptClaim {
	t.Helper()
	_, head := f.beacon.headState()
	window := f.beacon.window(t, head)
	links := src.CrosslinkChain(c, 16)
	var out []*st.ReceiptClaim
	for _, r := range src.SentReceipts(1, 0, 16) {
		pos := -1
		for j, h := range links[0].Headers {
			if h == r.Block {
				pos = j
			}
		}
		header, rb, err := src.ReceiptProof(r.Block, r.Index)
		mustNoErr(t, err, "receipt proof")
		hb, err := shardcore.HeaderProof(f.cfg, links[0].Headers, pos)
		mustNoErr(t, err, "header proof")
		claim, err := shardcore.BuildClaim(f.cfg, &shardcore.ClaimSource{
			Receipt: r.Receipt, ReceiptIndex: uint64(r.Index), ReceiptBranch: rb, Header: header,
			HeaderIndex: uint64(pos), HeaderBranch: hb, Chain: []*bt.Crosslink{&c},
		}, window)
		mustNoErr(t, err, "build claim")
		out = append(out, claim)
	}
	return out
}
