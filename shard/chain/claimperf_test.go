package chain

import (
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// perfSends is the number of receipts the source block of the claim
// throughput tests sends to shard 1 (15 senders x 4 nonces).
const perfSends = 60

// claimableReceipts has shard 0 propose a block of perfSends receipts to
// shard 1, crosslinks it and advances the beacon chain past the challenge
// window; it returns the services, the receipts and the claims built for
// them (one ClaimBuilder, as the relayer does).
func claimableReceipts(t *testing.T, f *fixture) (src, dst *Service, sent []SentReceipt, claims []*st.ReceiptClaim) {
	t.Helper()
	src, dst = f.service(t, 0, nil, "src"), f.service(t, 1, nil, "dst")
	f.beacon.advance(t, 1, nil)
	for i := range perfSends {
		from, nonce := uint64(1+i%15), uint64(i/15)
		mustNoErr(t, src.AddTransaction(f.transfer(0, from, nonce, 1, uint64(i%16), 1)), "add send")
	}
	if built := f.propose(t, src, 1); len(built.Receipts) != perfSends {
		t.Fatalf("%d receipts, want %d", len(built.Receipts), perfSends)
	}
	sent = src.SentReceipts(1, 0, perfSends)
	dr, err := src.DataRoot(0, 1)
	mustNoErr(t, err, "data root")
	c1 := bt.Crosslink{Shard: 0, ParentRoot: (&bt.Crosslink{}).TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: dr}
	f.beacon.advance(t, 8, crosslinkAt(0, c1))
	f.beacon.advance(t, 16, nil)
	f.observe(t, src, dst)
	_, head := f.beacon.headState()
	links := src.CrosslinkChain(head.CurrentCrosslinks[0], 16)
	headers := links[0].Headers // newest first: c1's
	hbs, err := shardcore.HeaderProofs(f.cfg, headers)
	mustNoErr(t, err, "header proofs")
	builder := shardcore.NewClaimBuilder(f.cfg, f.beacon.window(t, head))
	for _, r := range sent {
		pos := -1
		for j, h := range headers {
			if h == r.Block {
				pos = j
			}
		}
		header, rb, err := src.ReceiptProof(r.Block, r.Index)
		mustNoErr(t, err, "receipt proof")
		c, err := builder.Build(&shardcore.ClaimSource{Receipt: r.Receipt, ReceiptIndex: uint64(r.Index), ReceiptBranch: rb,
			Header: header, HeaderIndex: uint64(pos), HeaderBranch: hbs[pos], Chain: []*bt.Crosslink{&c1}})
		mustNoErr(t, err, "build claim")
		claims = append(claims, c)
	}
	return src, dst, sent, claims
}

// TestReceiptProofReusesTree checks that the receipt branches of a block are
// those of st.ReceiptProof and that, once the block's receipts tree is
// built, proving another of its receipts only reads it: without the cached
// tree every call hashes all the block's receipts again (4 ms for 1,024),
// which capped a relayer at a few hundred claims per second.
//
// Not parallel: testing.AllocsPerRun refuses parallel tests.
func TestReceiptProofReusesTree(t *testing.T) {
	f := newFixture(t)
	src, _, sent, _ := claimableReceipts(t, f)
	receipts := make([]st.Receipt, len(sent))
	for _, r := range sent {
		receipts[r.Index] = r.Receipt
	}
	for _, r := range sent {
		_, got, err := src.ReceiptProof(r.Block, r.Index)
		mustNoErr(t, err, "receipt proof")
		want, err := st.ReceiptProof(receipts, r.Index)
		mustNoErr(t, err, "st receipt proof")
		if len(got) != len(want) {
			t.Fatalf("receipt %d: branch of %d, want %d", r.Index, len(got), len(want))
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("receipt %d: branch node %d differs", r.Index, j)
			}
		}
	}
	block := sent[0].Block
	allocs := testing.AllocsPerRun(20, func() {
		if _, _, err := src.ReceiptProof(block, perfSends/2); err != nil {
			t.Fatal(err)
		}
	})
	// Reading a branch allocates the branch (and the tree's proof); hashing
	// the receipts again allocates the leaves and every layer of the tree.
	if allocs > 4 {
		t.Fatalf("ReceiptProof of a proven block: %.0f allocations, want <= 4 (the receipts are hashed again)", allocs)
	}
	if _, _, err := src.ReceiptProof(block, perfSends); err == nil {
		t.Fatal("proof of a receipt past the block's receipts")
	}
}

// TestClaimsForProvesWindowOncePerSource checks that a block's claims are
// refreshed with one challenge-window branch per source shard, not one per
// claim: ClaimsFor of perfSends claims from one source allocates a few
// times per claim, where a window branch per claim walks the window
// state's tree (about 30 allocations) each time; and the claims it hands
// out carry the same window proof as the relayer's.
//
// Not parallel: testing.AllocsPerRun refuses parallel tests.
func TestClaimsForProvesWindowOncePerSource(t *testing.T) {
	f := newFixture(t)
	_, dst, _, claims := claimableReceipts(t, f)
	for _, c := range claims {
		mustNoErr(t, dst.AddClaim(c), "add claim")
	}
	_, head := f.beacon.headState()
	window := f.beacon.window(t, head)
	got := dst.ClaimsFor(head, window)
	if len(got) != perfSends {
		t.Fatalf("%d claims handed out, want %d", len(got), perfSends)
	}
	for i, c := range got {
		if c.WindowIndex != claims[i].WindowIndex || len(c.WindowBranch) != len(claims[i].WindowBranch) {
			t.Fatalf("claim %d: window proof differs from the relayer's", i)
		}
		for j := range c.WindowBranch {
			if c.WindowBranch[j] != claims[i].WindowBranch[j] {
				t.Fatalf("claim %d: window branch node %d differs", i, j)
			}
		}
	}
	allocs := testing.AllocsPerRun(5, func() { dst.ClaimsFor(head, window) })
	if per := allocs / perfSends; per > 6 {
		t.Fatalf("ClaimsFor: %.1f allocations per claim, want <= 6 (a window branch per claim)", per)
	}
	built := f.propose(t, dst, 17)
	if len(built.Block.Body.Claims) != perfSends {
		t.Fatalf("block with %d claims, want %d (skipped: %v)", len(built.Block.Body.Claims), perfSends, built.Skipped)
	}
}

// TestDefaultClaimPoolHoldsAnEpoch checks the default claims pool bound
// against the claim cap: a source's receipts become claimable an epoch of
// blocks at a time, and at MAX_SHARD_CLAIMS per block a pool of fewer than
// SLOTS_PER_EPOCH x MAX_SHARD_CLAIMS claims refuses part of one crosslink's
// worth, leaving gaps that stall the stream until the relayer resends.
func TestDefaultClaimPoolHoldsAnEpoch(t *testing.T) {
	t.Parallel()
	spe := params.Minimal().SlotsPerEpoch
	if got, want := DefaultConfig().MaxPoolClaims, int(spe)*params.MaxShardClaims; got < want {
		t.Fatalf("MaxPoolClaims %d, want at least %d (SLOTS_PER_EPOCH %d x MAX_SHARD_CLAIMS %d)", got, want, spe, params.MaxShardClaims)
	}
}
