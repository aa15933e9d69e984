package chain

import (
	"errors"
	"testing"

	bcore "github.com/shardlab/shardlab/beacon/core"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestImportAndFraud has one service propose blocks and another import
// them, then feeds the importer a block with a bad signature (invalid,
// not provable) and one with a wrong state root (a FraudError whose proof
// the beacon chain's verifier accepts).
func TestImportAndFraud(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.service(t, 2, nil, "a"), f.service(t, 2, nil, "b")
	for slot := bt.Slot(1); slot <= 5; slot++ {
		f.beacon.advance(t, slot, nil)
		if slot == 2 {
			mustNoErr(t, a.AddTransaction(f.transfer(2, 3, 0, 2, 4, 100)), "add transaction")
		}
		built := f.propose(t, a, slot)
		root, err := b.ImportBlock(built.Block)
		mustNoErr(t, err, "import")
		if _, err := b.ImportBlock(built.Block); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("second import: %v", err)
		}
		if h := b.Head(); h.Root != root || a.Head().Root != root {
			t.Fatalf("slot %d: heads %s and %s, block %s", slot, a.Head().Root, h.Root, root)
		}
	}
	if acc, _ := b.Account(4, nil); acc.Balance != 100+bt.Gwei(f.cfg.Shard.GenesisBalance) {
		t.Fatalf("recipient balance %d", acc.Balance)
	}
	if st := b.Stats(); st.Transactions != 1 || st.HeadSlot != 5 {
		t.Fatalf("stats %+v", st)
	}

	// Not now: unknown parent, unknown beacon block.
	f.beacon.advance(t, 6, nil)
	next := f.propose(t, a, 6).Block
	c := f.service(t, 2, nil, "c")
	if _, err := c.ImportBlock(next); !errors.Is(err, ErrUnknownParent) || errors.Is(err, bcore.ErrInvalid) {
		t.Fatalf("unknown parent: %v", err)
	}
	odd := *next
	odd.BeaconBlockRoot = bt.Root{1}
	if _, err := b.ImportBlock(&odd); !errors.Is(err, ErrUnknownBeaconBlock) {
		t.Fatalf("unknown beacon block: %v", err)
	}
	// A bad signature: invalid, not provable.
	bad := *next
	bad.Signature[5] ^= 1
	_, err := b.ImportBlock(&bad)
	var ferr *FraudError
	if !errors.Is(err, ErrInvalidHeader) || errors.As(err, &ferr) {
		t.Fatalf("bad signature: %v", err)
	}
	// The correctly signed block (same root) is still welcome.
	if _, err := b.ImportBlock(next); err != nil {
		t.Fatalf("import after a badly signed copy: %v", err)
	}
	f.beacon.advance(t, 7, nil)

	// A wrong state root, properly signed: fraud.
	root, head := f.beacon.headState()
	parent := b.Head()
	pre := b.HeadState()
	ctx := shardcore.BlockContext{Parent: &parent.Header, BeaconRoot: root, Beacon: head}
	built, err := shardcore.BuildBlock(f.tr, ctx, pre, 7, nil, nil, nil, shardcore.ExecOptions{TxDomain: f.fv.TxDomain(f.cfg)})
	mustNoErr(t, err, "build")
	built.Block.StateRoot = bt.Root{0xba, 0xd}
	sk, _ := f.keys.SecretKey(uint64(built.Block.ProposerIndex))
	mustNoErr(t, shardcore.SignBlock(f.tr, built.Block, sk), "sign")
	broot, err := b.ImportBlock(built.Block)
	if !errors.As(err, &ferr) || !errors.Is(err, ErrFraudulent) || !errors.Is(err, bcore.ErrInvalid) {
		t.Fatalf("wrong state root: %v", err)
	}
	if !b.IsInvalid(broot) || b.Head().Root != parent.Root {
		t.Fatal("the fraudulent block was not dropped")
	}
	f.proveProposer(t, ferr, 8)
	// A child of the fraudulent block is invalid without execution.
	child := *next
	child.ParentRoot, child.Slot = broot, 8
	if _, err := b.ImportBlock(&child); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("child of an invalid block: %v", err)
	}
}

// crosslinkAt returns a mutation writing shard's current crosslink.
func crosslinkAt(shard bt.Shard, c bt.Crosslink) func(*bt.BeaconState) {
	return func(s *bt.BeaconState) {
		s.PreviousCrosslinks[shard] = s.CurrentCrosslinks[shard]
		s.CurrentCrosslinks[shard] = c
	}
}

// TestReRootOnCrosslinks checks the fork choice's anchor: it moves to the
// last block of a crosslink whose data root the node served, or matched
// against its chain, follows an empty crosslink to its parent's, stays for
// an unknown data root, and is restored from the store.
func TestReRootOnCrosslinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	db := newMemDB()
	a, b := f.service(t, 1, nil, "a"), f.service(t, 1, db, "b")
	var roots []bt.Root
	for slot := bt.Slot(1); slot <= 12; slot++ {
		f.beacon.advance(t, slot, nil)
		if slot == 4 {
			continue // an empty slot
		}
		built := f.propose(t, a, slot)
		root, err := b.ImportBlock(built.Block)
		mustNoErr(t, err, "import")
		roots = append(roots, root)
	}
	genesisLink := bt.Crosslink{}
	dr, err := a.DataRoot(0, 1)
	mustNoErr(t, err, "data root")
	want, err := shardcore.CrosslinkDataRoot(f.cfg, roots[:6]) // slots 1-3, 5-7
	mustNoErr(t, err, "crosslink data root")
	if dr != want {
		t.Fatalf("data root %s, want %s", dr, want)
	}
	c1 := bt.Crosslink{Shard: 1, ParentRoot: genesisLink.TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: dr}
	f.beacon.advance(t, 13, crosslinkAt(1, c1))
	f.observe(t, a, b)
	if a.Anchor() != roots[5] || b.Anchor() != roots[5] {
		t.Fatalf("anchors %s (served) and %s (matched), want %s", a.Anchor(), b.Anchor(), roots[5])
	}
	if a.Head().Root != roots[len(roots)-1] {
		t.Fatal("the head moved")
	}
	// An empty crosslink keeps its parent's anchor.
	empty, _ := shardcore.CrosslinkDataRoot(f.cfg, nil)
	c2 := bt.Crosslink{Shard: 1, ParentRoot: c1.TreeRoot(), StartEpoch: 1, EndEpoch: 1, DataRoot: empty}
	f.beacon.advance(t, 14, crosslinkAt(1, c2))
	f.observe(t, b)
	if b.Anchor() != roots[5] {
		t.Fatalf("anchor after an empty crosslink %s", b.Anchor())
	}
	// An unknown data root keeps the anchor.
	c3 := bt.Crosslink{Shard: 1, ParentRoot: c2.TreeRoot(), StartEpoch: 1, EndEpoch: 2, DataRoot: bt.Root{7}}
	f.beacon.advance(t, 15, crosslinkAt(1, c3))
	f.observe(t, b)
	if b.Anchor() != roots[5] {
		t.Fatalf("anchor after an unknown crosslink %s", b.Anchor())
	}
	links := b.CrosslinkChain(c3, 16)
	if len(links) != 4 || links[0].Resolved || !links[1].Resolved || links[2].Crosslink != c1 || len(links[2].Headers) != 6 {
		t.Fatalf("crosslink chain %+v", links)
	}
	if h, ok := b.CrosslinkHeader(c2); !ok || h.SigningRoot() != roots[5] {
		t.Fatal("crosslink header of an empty crosslink")
	}
	// Restart from the store.
	head := b.Head()
	r := f.service(t, 1, db, "b2")
	if r.Anchor() != roots[5] || r.Head().Root != head.Root {
		t.Fatalf("restored anchor %s head %s, want %s %s", r.Anchor(), r.Head().Root, roots[5], head.Root)
	}
	if got, ok := r.CanonicalRoot(2); !ok || got != roots[1] {
		t.Fatalf("restored canonical root at 2: %s", got)
	}
	if _, ok := r.CanonicalRoot(4); ok {
		t.Fatal("an empty slot has a canonical root")
	}
	if _, err := r.ImportBlock(f.propose(t, a, 16).Block); err != nil {
		t.Fatalf("import after restart: %v", err)
	}
}

// TestTxPool checks admission (nonces in sequence, funds, signatures,
// bounds) and eviction once included.
func TestTxPool(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.config(t, 3, newMemDB())
	c.MaxTxsPerAccount = 3
	s, err := New(c)
	mustNoErr(t, err, "new")
	g := bt.Gwei(f.cfg.Shard.GenesisBalance)
	// Another chain with the same accounts: another beacon genesis.
	otherChain := shardcore.ComputeTxDomain(f.cfg, bt.Root{0xaa})
	tests := []struct {
		name string
		tx   *st.Transaction
		want error
	}{
		{"first", f.transfer(3, 1, 0, 3, 2, 10), nil},
		{"duplicate", f.transfer(3, 1, 0, 3, 2, 10), ErrDuplicate},
		{"conflicting nonce", f.transfer(3, 1, 0, 3, 2, 11), ErrStale},
		{"nonce gap", f.transfer(3, 1, 2, 3, 2, 10), ErrStale},
		{"second", f.transfer(3, 1, 1, 5, 2, 10), nil},
		{"over the balance", f.transfer(3, 1, 2, 3, 2, g-19), ErrStale},
		{"most of the balance", f.transfer(3, 1, 2, 3, 2, g-30), nil},
		{"account queue full", f.transfer(3, 1, 3, 3, 2, 1), ErrPoolFull},
		{"other shard", f.transfer(4, 1, 0, 3, 2, 1), ErrInvalidTx},
		{"zero amount", f.transfer(3, 2, 0, 3, 1, 0), ErrInvalidTx},
		{"account out of range", f.transfer(3, 2, 0, 3, f.cfg.Shard.Accounts, 1), ErrInvalidTx},
		{"signed for another chain", signedTransfer(otherChain, 3, 2, 0, 3, 1, 5), ErrInvalidTx},
	}
	for _, tc := range tests {
		err := s.AddTransaction(tc.tx)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	forged := f.transfer(3, 2, 0, 3, 1, 5)
	forged.Amount = 6
	if err := s.AddTransaction(forged); !errors.Is(err, ErrInvalidTx) || errors.Is(err, ErrStale) {
		t.Errorf("bad signature: %v", err)
	}
	if got := len(s.PendingTransactions()); got != 3 {
		t.Fatalf("%d pooled", got)
	}
	f.beacon.advance(t, 1, nil)
	built := f.propose(t, s, 1)
	if len(built.Block.Body.Transactions) != 3 || len(built.Receipts) != 1 {
		t.Fatalf("block with %d transactions and %d receipts", len(built.Block.Body.Transactions), len(built.Receipts))
	}
	if got := len(s.PendingTransactions()); got != 0 {
		t.Fatalf("%d still pooled after inclusion", got)
	}
	if err := s.AddTransaction(f.transfer(3, 1, 2, 3, 2, 1)); !errors.Is(err, ErrStale) {
		t.Fatalf("included nonce: %v", err)
	}
}

// TestCheckpoint restarts a fresh service from a crosslinked block: the
// blocks must give the crosslink's data root and the state must be the
// last block's post-state; the service then imports the blocks after it.
func TestCheckpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.service(t, 6, nil, "a")
	var blocks []*st.ShardBlock
	for slot := bt.Slot(1); slot <= 7; slot++ {
		f.beacon.advance(t, slot, nil)
		blocks = append(blocks, f.propose(t, a, slot).Block)
	}
	dr, err := a.DataRoot(0, 1)
	mustNoErr(t, err, "data root")
	c1 := bt.Crosslink{Shard: 6, ParentRoot: (&bt.Crosslink{}).TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: dr}
	f.beacon.advance(t, 8, crosslinkAt(6, c1))
	next := f.propose(t, a, 8).Block
	z := f.service(t, 6, nil, "z")
	lastRoot, _ := blocks[6].SigningRoot()
	state, _ := a.PostState(lastRoot)
	if _, err := z.Checkpoint(c1, blocks, state.Copy()); err == nil {
		t.Fatal("checkpoint on a crosslink never observed")
	}
	f.observe(t, z)
	if _, err := z.Checkpoint(c1, blocks[1:], state.Copy()); err == nil {
		t.Fatal("checkpoint with blocks missing")
	}
	other, _ := a.PostState(blocks[5].ParentRoot)
	if _, err := z.Checkpoint(c1, blocks, other); err == nil {
		t.Fatal("checkpoint with another block's state")
	}
	anchor, err := z.Checkpoint(c1, blocks, state.Copy())
	mustNoErr(t, err, "checkpoint")
	if anchor != lastRoot || z.Anchor() != lastRoot || z.Head().Root != lastRoot {
		t.Fatalf("anchor %s head %s, want %s", z.Anchor(), z.Head().Root, lastRoot)
	}
	if _, err := z.ImportBlock(next); err != nil {
		t.Fatalf("import after checkpoint: %v", err)
	}
	if got, ok := z.CanonicalRoot(3); !ok || got != mustRoot(t, blocks[2]) {
		t.Fatal("the crosslink's blocks are not canonical ancestors")
	}
}

func mustRoot(t testing.TB, b *st.ShardBlock) bt.Root {
	t.Helper()
	r, err := b.SigningRoot()
	mustNoErr(t, err, "signing root")
	return r
}

// TestOutOfRangeBeaconReference feeds a service a correctly signed block
// whose beacon reference is more than an epoch older than the block
// (§5.1). While the referenced state is at hand the block fails execution
// as a FraudError, and its proof convicts the proposer; once that state is
// gone the block is rejected unproven.
func TestOutOfRangeBeaconReference(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.service(t, 3, nil, "a"), f.service(t, 3, nil, "b")
	var refRoot bt.Root
	var chain []*st.ShardBlock
	for slot := bt.Slot(1); slot <= 3; slot++ {
		refRoot = f.beacon.advance(t, slot, nil)
		built := f.propose(t, a, slot)
		_, err := b.ImportBlock(built.Block)
		mustNoErr(t, err, "import")
		chain = append(chain, built.Block)
	}
	refState, _ := f.beacon.StateAt(refRoot)
	spe := bt.Slot(f.cfg.SlotsPerEpoch)
	slot := 3 + spe + 1 // one slot beyond an epoch after the reference
	for s := bt.Slot(4); s <= slot; s++ {
		f.beacon.advance(t, s, nil)
	}
	parent := b.Head()
	blk := &st.ShardBlock{Slot: slot, Shard: 3, ParentRoot: parent.Root, BeaconBlockRoot: refRoot, StateRoot: parent.Header.StateRoot}
	proposer, err := shardcore.ShardProposerIndex(f.tr, refState, 3, slot)
	mustNoErr(t, err, "proposer")
	blk.ProposerIndex = proposer
	sk, _ := f.keys.SecretKey(uint64(proposer))
	mustNoErr(t, shardcore.SignBlock(f.tr, blk, sk), "sign")

	_, err = b.ImportBlock(blk)
	var ferr *FraudError
	if !errors.As(err, &ferr) || !errors.Is(err, bcore.ErrInvalid) {
		t.Fatalf("out-of-range beacon reference with its state at hand: %v, want a FraudError", err)
	}
	f.proveProposer(t, ferr, slot+1)

	// Without the referenced state: rejected, not provable.
	c := f.service(t, 3, nil, "c")
	for _, cb := range chain {
		_, err := c.ImportBlock(cb)
		mustNoErr(t, err, "import into c")
	}
	f.beacon.mu.Lock()
	delete(f.beacon.states, refRoot)
	f.beacon.mu.Unlock()
	_, err = c.ImportBlock(blk)
	if !errors.Is(err, ErrInvalidHeader) || errors.As(err, &ferr) {
		t.Fatalf("out-of-range beacon reference without its state: %v, want ErrInvalidHeader", err)
	}
}

// proveProposer builds a fraud proof from ferr (whistleblower validator 0,
// or 1 when 0 proposed the block), advances the beacon chain to slot and
// checks that the verifier accepts the proof against its head state and
// convicts exactly the block's proposer.
func (f *fixture) proveProposer(t *testing.T, ferr *FraudError, slot bt.Slot) {
	t.Helper()
	proposer := ferr.Block.ProposerIndex
	wb := bt.ValidatorIndex(0)
	if wb == proposer {
		wb = 1
	}
	wsk, _ := f.keys.SecretKey(uint64(wb))
	proof, err := f.fv.BuildFraudProof(f.tr, ferr.Pre, &ferr.Parent, ferr.Block, &ferr.BeaconHeader, ferr.Beacon, shardcore.FraudEvidence{}, wb, wsk)
	mustNoErr(t, err, "build fraud proof")
	data, err := proof.MarshalSSZ()
	mustNoErr(t, err, "encode proof")
	f.beacon.advance(t, slot, nil)
	_, later := f.beacon.headState()
	v, err := f.fv.VerifyFraudProof(f.tr, later, data, bcore.VerifySigs)
	mustNoErr(t, err, "verify fraud proof")
	if len(v.Offenders) != 1 || v.Offenders[0] != proposer {
		t.Fatalf("offenders %v, want [%d]", v.Offenders, proposer)
	}
}
