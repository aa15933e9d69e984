package core

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	st "github.com/shardlab/shardlab/shard/types"
)

// Randomized property tests of the shard layer: seeded workloads over
// several shards with a mock beacon chain that crosslinks every shard at
// every epoch boundary (crosslinks and the beacon state written directly, as
// in claims_test.go), honest blocks assembled from a reference model of the
// ledger, adversarial transactions and claims mixed in, and now and then a
// fraudulent block whose crosslink a fraud proof rolls back within the
// challenge window. After every block:
//
//	(a) conservation: the balances of every shard plus the receipts emitted
//	    by canonical blocks and not yet claimed equal the genesis total;
//	(b) every receipt credited by a canonical block is credited once, on its
//	    destination shard, after its crosslink's end epoch + the challenge
//	    window, and is a receipt of a canonical, non-fraudulent source block
//	    (never one from a rolled-back block);
//	(c) rejected blocks and claims change nothing: an adversarial item makes
//	    the block fail, and execution stops with the state the valid part
//	    of the block produced (a rejected claim or transaction writes nothing).
//
// The honest blocks are also checked against the model (balances, nonces,
// receipts), and a sample of them is re-executed statelessly from multiproof
// witnesses (the fraud-proof verifier's path), which must give the same
// state root and receipts.

const (
	propRuns     = 200
	propShards   = 4
	propAccounts = 8
	propEpochs   = 8
	propGenesis  = 1000
)

func propConfig() *params.Config {
	cfg := params.Minimal().WithShards()
	cfg.Shard.Accounts = propAccounts
	cfg.Shard.GenesisBalance = propGenesis
	return cfg
}

// pblock is a canonical block of a simulated shard chain.
type pblock struct {
	hdr      st.ShardBlockHeader
	post     *st.ShardState
	receipts []st.Receipt
	credits  []st.Receipt // receipts its claims credited
	fraud    bool         // commits to a wrong state root
}

// pxl is a crosslink of a simulated shard: it covers chain[first:end].
type pxl struct {
	cl         bt.Crosslink
	first, end int
	roots      []bt.Root
}

type pshard struct {
	id    bt.Shard
	chain []pblock // chain[0] is the genesis block
	xls   []pxl    // xls[0] is the genesis crosslink (covers only the genesis block)
}

func (p *pshard) head() *pblock { return &p.chain[len(p.chain)-1] }

type propStats struct {
	blocks, txs, receipts, claims, rejected, rollbacks, orphanTries, witnessChecks atomic.Int64
}

var (
	propPubkeysOnce sync.Once
	propPubkeys     [][][32]byte
)

type world struct {
	t      *testing.T
	seed   uint64
	cfg    *params.Config
	rng    *rand.Rand
	beacon *bt.BeaconState // the beacon state every block of the current slot references
	// history[s] is the mock beacon state at slot s, whose root is in
	// beacon.StateRoots (for the challenge-window proofs).
	history map[bt.Slot]*bt.BeaconState
	shards  []*pshard
	total   uint64
	fraud   struct {
		armed     bool    // a fraudulent block is still to be produced
		shard     int     // on this shard,
		from      bt.Slot // at its first block from this slot
		proofSlot bt.Slot // 0 until the block is crosslinked
	}
	orphans []*st.ReceiptClaim // claims of receipts of rolled-back blocks
	stats   *propStats
}

func TestPropertyShards(t *testing.T) {
	propPubkeysOnce.Do(func() {
		cfg := propConfig()
		for s := range propShards {
			propPubkeys = append(propPubkeys, AccountPubkeys(cfg, bt.Shard(s)))
		}
	})
	runs := propRuns
	if testing.Short() {
		runs = 20
	}
	stats := &propStats{}
	t.Run("runs", func(t *testing.T) {
		for seed := range uint64(runs) {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				t.Parallel()
				newWorld(t, seed, stats).run()
			})
		}
	})
	t.Logf("%d runs: %d blocks, %d txs, %d receipts, %d claims credited, %d adversarial items rejected, "+
		"%d rollbacks, %d claims of rolled-back receipts tried, %d stateless re-executions",
		runs, stats.blocks.Load(), stats.txs.Load(), stats.receipts.Load(), stats.claims.Load(), stats.rejected.Load(),
		stats.rollbacks.Load(), stats.orphanTries.Load(), stats.witnessChecks.Load())
	if !t.Failed() && (stats.claims.Load() == 0 || stats.rollbacks.Load() == 0 || stats.orphanTries.Load() == 0 || stats.rejected.Load() == 0) {
		t.Fatalf("the workload is vacuous: %d claims, %d rollbacks, %d orphan claims, %d rejections",
			stats.claims.Load(), stats.rollbacks.Load(), stats.orphanTries.Load(), stats.rejected.Load())
	}
}

func newWorld(t *testing.T, seed uint64, stats *propStats) *world {
	cfg := propConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, seed: seed, cfg: cfg, rng: rand.New(rand.NewPCG(seed, 0x5ba4d1ab)), stats: stats,
		history: make(map[bt.Slot]*bt.BeaconState)}
	w.beacon = bt.NewBeaconState(cfg)
	for s := range propShards {
		gs, err := st.GenesisState(cfg, bt.Shard(s), propPubkeys[s])
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := GenesisHeader(gs)
		if err != nil {
			t.Fatal(err)
		}
		cl := bt.Crosslink{Shard: bt.Shard(s)}
		w.beacon.CurrentCrosslinks[s] = cl
		w.beacon.PreviousCrosslinks[s] = cl
		w.shards = append(w.shards, &pshard{id: bt.Shard(s), chain: []pblock{{hdr: hdr, post: gs}}, xls: []pxl{{cl: cl, end: 1}}})
		w.total += propAccounts * propGenesis
	}
	// Half the runs have a fraudulent block in epochs 1..propEpochs-4, so
	// that its proof and the attempts to claim its receipts after the
	// window fit in the run.
	if w.rng.IntN(2) == 0 {
		w.fraud.armed = true
		w.fraud.shard = w.rng.IntN(propShards)
		w.fraud.from = bt.Slot(w.cfg.SlotsPerEpoch + w.rng.Uint64N(w.cfg.SlotsPerEpoch*(propEpochs-4)))
	}
	return w
}

func (w *world) fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("seed %d, slot %d: %s", w.seed, w.beacon.Slot, fmt.Sprintf(format, args...))
}

func (w *world) epoch(s bt.Slot) uint64 { return uint64(s) / w.cfg.SlotsPerEpoch }

func (w *world) run() {
	spe := bt.Slot(w.cfg.SlotsPerEpoch)
	for slot := bt.Slot(1); slot < bt.Slot(propEpochs)*spe; slot++ {
		// process_slot: the state at the previous slot is kept and its
		// root recorded in state_roots.
		prev := w.beacon.Copy()
		root, err := prev.HashTreeRoot()
		if err != nil {
			w.fatalf("beacon root: %v", err)
		}
		w.history[slot-1] = prev
		w.beacon.StateRoots[uint64(slot-1)%w.cfg.SlotsPerHistoricalRoot] = root
		w.beacon.Slot = slot
		if slot%spe == 0 {
			w.crosslinkAll(bt.Epoch(slot / spe))
		}
		if w.fraud.proofSlot == slot {
			w.rollback()
			w.checkInvariants()
		}
		for _, s := range w.rng.Perm(propShards) {
			if w.rng.IntN(10) < 7 {
				w.produce(s, slot)
				w.checkInvariants()
			}
		}
	}
}

// crosslinkAll crosslinks, for every shard, the blocks since its last
// crosslink, ending at epoch e.
func (w *world) crosslinkAll(e bt.Epoch) {
	for _, p := range w.shards {
		prev := p.xls[len(p.xls)-1]
		x := pxl{first: prev.end, end: len(p.chain)}
		fraud := false
		for i := x.first; i < x.end; i++ {
			x.roots = append(x.roots, p.chain[i].hdr.SigningRoot())
			fraud = fraud || p.chain[i].fraud
		}
		dr, err := CrosslinkDataRoot(w.cfg, x.roots)
		if err != nil {
			w.fatalf("crosslink data root: %v", err)
		}
		x.cl = bt.Crosslink{Shard: p.id, ParentRoot: prev.cl.TreeRoot(), StartEpoch: prev.cl.EndEpoch, EndEpoch: e, DataRoot: dr}
		p.xls = append(p.xls, x)
		w.beacon.PreviousCrosslinks[p.id] = w.beacon.CurrentCrosslinks[p.id]
		w.beacon.CurrentCrosslinks[p.id] = x.cl
		if fraud {
			// A fisherman's proof lands before the challenge window ends:
			// the receipts of the crosslink become claimable in epoch
			// e + SHARD_CHALLENGE_WINDOW.
			spe := w.cfg.SlotsPerEpoch
			w.fraud.proofSlot = bt.Slot(uint64(e)*spe + w.rng.Uint64N(w.cfg.Shard.ChallengeWindow*spe))
		}
	}
}

// rollback applies the fraud proof: the crosslink holding the fraudulent
// block is replaced by its parent, and the shard chain goes back to the
// last block of that parent.
func (w *world) rollback() {
	p := w.shards[w.fraud.shard]
	k := -1
	for i, x := range p.xls {
		for b := x.first; b < x.end; b++ {
			if p.chain[b].fraud {
				k = i
			}
		}
	}
	if k < 1 {
		w.fatalf("fraud proof without a crosslinked fraudulent block")
	}
	// The claims a cheater would now try: every crosslinked receipt of the
	// rolled-back blocks, with the proof that was valid (save the window)
	// before the rollback.
	for b := p.xls[k].first; b < p.xls[len(p.xls)-1].end; b++ {
		for _, r := range p.chain[b].receipts {
			c, _, _, ok := w.claimFor(int(p.id), int(r.DstShard), r.Nonce)
			if !ok {
				w.fatalf("receipt %+v of a crosslinked block has no claim", r)
			}
			w.orphans = append(w.orphans, c)
		}
	}
	parent := p.xls[k-1]
	p.chain = p.chain[:parent.end]
	p.xls = p.xls[:k]
	w.beacon.CurrentCrosslinks[p.id] = parent.cl
	w.beacon.PreviousCrosslinks[p.id] = parent.cl
	w.fraud.proofSlot = 0
	w.stats.rollbacks.Add(1)
}

// claimFor builds the claim of receipt (src → dst, nonce) from src's
// canonical chain and crosslinks; ok is false when no crosslinked canonical
// block holds it. It says whether the claim is claimable now (its crosslink
// was current at the window slot: the claim carries a valid window proof)
// and whether its block is fraudulent.
func (w *world) claimFor(src, dst int, nonce uint64) (c *st.ReceiptClaim, claimable, fraud, ok bool) {
	p := w.shards[src]
	for xi := 1; xi < len(p.xls); xi++ {
		x := p.xls[xi]
		for bi := x.first; bi < x.end; bi++ {
			blk := &p.chain[bi]
			for ri, r := range blk.receipts {
				if int(r.DstShard) != dst || r.Nonce != nonce {
					continue
				}
				rb, err := st.ReceiptProof(blk.receipts, ri)
				if err != nil {
					w.fatalf("receipt proof: %v", err)
				}
				hb, err := HeaderProof(w.cfg, x.roots, bi-x.first)
				if err != nil {
					w.fatalf("header proof: %v", err)
				}
				c := &st.ReceiptClaim{Receipt: r, ReceiptIndex: uint64(ri), ReceiptBranch: rb,
					Header: blk.hdr, HeaderIndex: uint64(bi - x.first), HeaderBranch: hb}
				for _, y := range p.xls[xi:] {
					cl := y.cl
					c.Crosslinks = append(c.Crosslinks, &cl)
				}
				return c, w.window(c, p.id), blk.fraud, true
			}
		}
	}
	return nil, false, false, false
}

// window fills in the claim's challenge-window proof and reports whether it
// is valid now. When the receipt's crosslink was not yet current at the
// window slot, the claim gets the branch of what was current then (which is
// no element of its chain), so a block including it early must fail.
func (w *world) window(c *st.ReceiptClaim, src bt.Shard) bool {
	ws, ok := WindowSlot(w.cfg, w.beacon.Slot)
	if !ok {
		return false
	}
	then := w.history[ws]
	idx, br, err := WindowProof(w.cfg, then, src, c.Crosslinks)
	if err != nil {
		if br, err = then.Branch(bt.GIndexCurrentCrosslink(w.cfg.ShardCount, uint64(src))); err != nil {
			w.fatalf("window branch: %v", err)
		}
		c.WindowBranch = br
		return false
	}
	c.WindowIndex, c.WindowBranch = idx, br
	return true
}

// randomTx returns a transaction that is valid on the model m, applied to
// it, and the receipt it emits (nil for an intra-shard transfer).
func (w *world) randomTx(s int, slot bt.Slot, m *st.ShardState) (*st.Transaction, *st.Receipt) {
	from := w.rng.Uint64N(propAccounts)
	a := &m.Accounts[from]
	if a.Balance == 0 {
		return nil, nil
	}
	amount := bt.Gwei(1 + w.rng.Uint64N(min(uint64(a.Balance), 400)))
	tx := &st.Transaction{Shard: bt.Shard(s), From: from, Nonce: a.Nonce, ToShard: bt.Shard(s), To: w.rng.Uint64N(propAccounts), Amount: amount}
	if w.rng.IntN(2) == 0 {
		tx.ToShard = bt.Shard((s + 1 + w.rng.IntN(propShards-1)) % propShards)
	}
	a.Balance -= amount
	a.Nonce++
	if tx.ToShard == tx.Shard {
		m.Accounts[tx.To].Balance += amount
		return tx, nil
	}
	r := &st.Receipt{SrcShard: tx.Shard, DstShard: tx.ToShard, Nonce: m.OutboxNonces[tx.ToShard], SrcSlot: slot,
		Sender: tx.From, Recipient: tx.To, Amount: amount}
	m.OutboxNonces[tx.ToShard]++
	return tx, r
}

var propOpts = ExecOptions{SkipTxSignatures: true}

func (w *world) execute(pre *st.ShardState, b *st.ShardBlock) (*st.ShardState, []st.Receipt, error) {
	post := pre.Copy()
	receipts, err := ExecuteBlock(w.cfg, FullView{S: post}, FullBeaconView{S: w.beacon}, b, propOpts)
	return post, receipts, err
}

func (w *world) root(s *st.ShardState) bt.Root {
	r, err := s.HashTreeRoot()
	if err != nil {
		w.fatalf("hash shard state: %v", err)
	}
	return r
}

// produce builds, checks and appends a block of shard s at slot.
func (w *world) produce(s int, slot bt.Slot) {
	p := w.shards[s]
	head := p.head()
	pre := head.post
	model := pre.Copy()
	model.Slot, model.BeaconSlot = slot, w.beacon.Slot
	var txs []*st.Transaction
	var predicted []st.Receipt
	for range w.rng.IntN(5) {
		tx, r := w.randomTx(s, slot, model)
		if tx == nil {
			continue
		}
		txs = append(txs, tx)
		if r != nil {
			predicted = append(predicted, *r)
		}
	}
	var claims []*st.ReceiptClaim
	var credits []st.Receipt
	for _, src := range w.rng.Perm(propShards) {
		if src == s {
			continue
		}
		for w.rng.IntN(5) != 0 {
			c, claimable, _, ok := w.claimFor(src, s, model.InboxNonces[src])
			if !ok || !claimable {
				break
			}
			claims = append(claims, c)
			credits = append(credits, c.Receipt)
			model.InboxNonces[src]++
			model.Accounts[c.Receipt.Recipient].Balance += c.Receipt.Amount
		}
	}
	b := &st.ShardBlock{Slot: slot, Shard: bt.Shard(s), ParentRoot: head.hdr.SigningRoot(),
		BeaconBlockRoot: hash.Hash(fmt.Appendf(nil, "beacon block %d", w.beacon.Slot)),
		Body:            st.ShardBlockBody{Transactions: txs, Claims: claims}}
	post, receipts, err := w.execute(pre, b)
	if err != nil {
		w.fatalf("shard %d: an honest block is rejected: %v", s, err)
	}
	if !slices.Equal(receipts, predicted) {
		w.fatalf("shard %d: receipts %+v, the model predicts %+v", s, receipts, predicted)
	}
	if !slices.Equal(post.Accounts, model.Accounts) || !slices.Equal(post.OutboxNonces, model.OutboxNonces) ||
		!slices.Equal(post.InboxNonces, model.InboxNonces) || post.Slot != model.Slot || post.BeaconSlot != model.BeaconSlot {
		w.fatalf("shard %d: post-state differs from the model", s)
	}
	w.adversarial(s, pre, model, b, post)
	if w.rng.IntN(8) == 0 {
		w.statelessCheck(pre, b, post, receipts)
	}

	b.StateRoot = w.root(post)
	if b.ReceiptsRoot, err = st.ReceiptsRoot(receipts); err != nil {
		w.fatalf("receipts root: %v", err)
	}
	fraud := false
	if w.fraud.armed && w.fraud.shard == s && slot >= w.fraud.from {
		b.StateRoot[0] ^= 1
		w.fraud.armed, fraud = false, true
	}
	hdr, err := b.Header()
	if err != nil {
		w.fatalf("header: %v", err)
	}
	p.chain = append(p.chain, pblock{hdr: hdr, post: post, receipts: receipts, credits: credits, fraud: fraud})
	w.stats.blocks.Add(1)
	w.stats.txs.Add(int64(len(txs)))
	w.stats.receipts.Add(int64(len(receipts)))
	w.stats.claims.Add(int64(len(claims)))
}

// adversarial tries one invalid transaction or claim on top of the honest
// block b (pre → post; model is post as the model sees it): the block must
// be rejected, and execution must stop with the state the valid part made.
func (w *world) adversarial(s int, pre, model *st.ShardState, b *st.ShardBlock, post *st.ShardState) {
	switch k := w.rng.IntN(10); {
	case k < 3:
		w.badTx(s, pre, model, b)
	case k == 9:
		return
	default:
		c, what := w.badClaim(s, model, k)
		if c == nil {
			return
		}
		bad := *b
		bad.Body.Claims = append(slices.Clone(b.Body.Claims), c)
		w.expectRejected(pre, &bad, w.root(post), "claim ("+what+")")
	}
}

func (w *world) expectRejected(pre *st.ShardState, b *st.ShardBlock, want bt.Root, what string) {
	w.t.Helper()
	got := pre.Copy()
	_, err := ExecuteBlock(w.cfg, FullView{S: got}, FullBeaconView{S: w.beacon}, b, propOpts)
	if !errors.Is(err, ErrInvalidShardBlock) {
		w.fatalf("shard %d: invalid %s: block accepted or wrong error: %v", b.Shard, what, err)
	}
	if r := w.root(got); r != want {
		w.fatalf("shard %d: invalid %s: the rejected item changed the state (%s, want %s)", b.Shard, what, r, want)
	}
	w.stats.rejected.Add(1)
}

// badTx appends an invalid transaction to b's transactions (claims dropped).
func (w *world) badTx(s int, pre, model *st.ShardState, b *st.ShardBlock) {
	from := w.rng.Uint64N(propAccounts)
	a := model.Accounts[from]
	tx := &st.Transaction{Shard: bt.Shard(s), From: from, Nonce: a.Nonce, ToShard: bt.Shard(s), To: w.rng.Uint64N(propAccounts), Amount: 1}
	var what string
	switch w.rng.IntN(8) {
	case 0:
		what, tx.Amount = "overdraft", a.Balance+1+bt.Gwei(w.rng.Uint64N(100))
	case 1:
		what, tx.Nonce = "nonce from the future", a.Nonce+1
	case 2:
		if a.Nonce == 0 {
			return
		}
		what, tx.Nonce = "replayed nonce", a.Nonce-1
	case 3:
		what, tx.From = "unknown sender", propAccounts+w.rng.Uint64N(4)
	case 4:
		what, tx.To, tx.ToShard = "unknown recipient", propAccounts, bt.Shard(w.rng.IntN(propShards))
	case 5:
		what, tx.ToShard = "unknown shard", bt.Shard(w.cfg.ShardCount)
	case 6:
		what, tx.Shard = "transaction of another shard", bt.Shard((s+1)%propShards)
	case 7:
		what, tx.Amount = "zero amount", 0
	}
	valid := *b
	valid.Body = st.ShardBlockBody{Transactions: b.Body.Transactions}
	okPost, _, err := w.execute(pre, &valid)
	if err != nil {
		w.fatalf("shard %d: the honest transactions alone are rejected: %v", s, err)
	}
	bad := valid
	bad.Body.Transactions = append(slices.Clone(b.Body.Transactions), tx)
	w.expectRejected(pre, &bad, w.root(okPost), "transaction ("+what+")")
}

// badClaim returns an invalid claim for a block of shard s whose inbox is
// model's, or nil when this kind of cheat has nothing to work with.
func (w *world) badClaim(s int, model *st.ShardState, kind int) (*st.ReceiptClaim, string) {
	srcs := w.rng.Perm(propShards)
	switch kind {
	case 3: // replay
		for _, src := range srcs {
			if src == s || model.InboxNonces[src] == 0 {
				continue
			}
			if c, _, _, ok := w.claimFor(src, s, model.InboxNonces[src]-1); ok {
				return c, "replayed"
			}
		}
	case 4: // before the challenge window ends
		for _, src := range srcs {
			if src == s {
				continue
			}
			if c, claimable, _, ok := w.claimFor(src, s, model.InboxNonces[src]); ok && !claimable {
				return c, "early"
			}
		}
	case 5: // a claim of another shard's receipt
		for _, src := range srcs {
			dst := (s + 1 + w.rng.IntN(propShards-1)) % propShards
			if src == dst {
				continue
			}
			if c, claimable, _, ok := w.claimFor(src, dst, w.shards[dst].head().post.InboxNonces[src]); ok && claimable {
				return c, "wrong destination shard"
			}
		}
	case 6: // out of order
		for _, src := range srcs {
			if src == s {
				continue
			}
			if c, claimable, _, ok := w.claimFor(src, s, model.InboxNonces[src]+1); ok && claimable {
				return c, "out of order"
			}
		}
	case 7: // mangled proof of the next claimable receipt
		for _, src := range srcs {
			if src == s {
				continue
			}
			if c, claimable, _, ok := w.claimFor(src, s, model.InboxNonces[src]); ok && claimable {
				return c, w.mangle(c)
			}
		}
	case 8: // a receipt of a rolled-back block
		var mine []*st.ReceiptClaim
		for _, c := range w.orphans {
			if int(c.Receipt.DstShard) == s {
				mine = append(mine, c)
			}
		}
		if len(mine) > 0 {
			w.stats.orphanTries.Add(1)
			return mine[w.rng.IntN(len(mine))], "receipt of a rolled-back block"
		}
	}
	return nil, ""
}

// mangle breaks one part of a valid claim's proof.
func (w *world) mangle(c *st.ReceiptClaim) string {
	flip := func(r *bt.Root) { r[w.rng.IntN(32)] ^= 1 << w.rng.IntN(8) }
	switch w.rng.IntN(10) {
	case 0:
		flip(&c.ReceiptBranch[w.rng.IntN(len(c.ReceiptBranch))])
		return "receipt branch"
	case 1:
		flip(&c.HeaderBranch[w.rng.IntN(len(c.HeaderBranch))])
		return "header branch"
	case 2:
		c.Receipt.Amount += 1 + bt.Gwei(w.rng.Uint64N(1000))
		return "amount"
	case 3:
		c.Receipt.Recipient = (c.Receipt.Recipient + 1 + w.rng.Uint64N(propAccounts-1)) % propAccounts
		return "recipient"
	case 4:
		flip(&c.Header.StateRoot)
		return "header"
	case 5:
		i := w.rng.IntN(len(c.Crosslinks))
		cl := *c.Crosslinks[i]
		flip(&cl.DataRoot)
		c.Crosslinks[i] = &cl
		return "crosslink data root"
	case 6:
		if len(c.Crosslinks) > 1 {
			c.Crosslinks = c.Crosslinks[:len(c.Crosslinks)-1]
			return "truncated crosslink chain"
		}
		c.Crosslinks = append(c.Crosslinks, c.Crosslinks[0])
		return "extended crosslink chain"
	case 7:
		c.ReceiptIndex ^= 1
		return "receipt index"
	case 8:
		c.HeaderIndex++
		return "header index"
	default:
		i := w.rng.IntN(len(c.Crosslinks))
		cl := *c.Crosslinks[i]
		cl.EndEpoch--
		c.Crosslinks[i] = &cl
		return "crosslink epochs"
	}
}

// statelessCheck re-executes b from multiproof witnesses of its pre-state
// and of the beacon state, as the fraud-proof verifier does, and compares
// with the full execution.
func (w *world) statelessCheck(pre *st.ShardState, b *st.ShardBlock, post *st.ShardState, receipts []st.Receipt) {
	rec := NewRecordingView(pre.Copy())
	brec := NewRecordingBeaconView(w.beacon)
	if _, err := ExecuteBlock(w.cfg, rec, brec, b, propOpts); err != nil {
		w.fatalf("recording execution: %v", err)
	}
	rec.note(st.GIndexShard, st.GIndexSlot, st.GIndexBeaconSlot)
	nodes, err := pre.NodeFunc()
	if err != nil {
		w.fatalf("state nodes: %v", err)
	}
	sw, err := multiproof(nodes, rec.Indices())
	if err != nil {
		w.fatalf("state witness: %v", err)
	}
	var bw st.Multiproof
	if idx := brec.Indices(); len(idx) > 0 {
		bnodes, err := w.beacon.NodeFunc()
		if err != nil {
			w.fatalf("beacon nodes: %v", err)
		}
		if bw, err = multiproof(bnodes, idx); err != nil {
			w.fatalf("beacon witness: %v", err)
		}
	}
	broot, err := w.beacon.HashTreeRoot()
	if err != nil {
		w.fatalf("beacon root: %v", err)
	}
	sv, err := NewWitnessView(&sw, w.root(pre))
	if err != nil {
		w.fatalf("state witness view: %v", err)
	}
	bv, err := NewWitnessBeaconView(&bw, broot, w.beacon.Slot, w.cfg.ShardCount, w.cfg.SlotsPerHistoricalRoot)
	if err != nil {
		w.fatalf("beacon witness view: %v", err)
	}
	got, err := ExecuteBlock(w.cfg, sv, bv, b, propOpts)
	if err != nil {
		w.fatalf("stateless execution fails: %v", err)
	}
	root, err := sv.Root()
	if err != nil || root != w.root(post) || !slices.Equal(got, receipts) {
		w.fatalf("stateless execution gives root %s (%v), full execution %s", root, err, w.root(post))
	}
	w.stats.witnessChecks.Add(1)
}

type receiptKey struct {
	src, dst bt.Shard
	nonce    uint64
}

// checkInvariants checks (a) and (b) on the canonical chains.
func (w *world) checkInvariants() {
	w.t.Helper()
	type loc struct {
		r     st.Receipt
		end   bt.Epoch // end epoch of its crosslink
		xl    bool     // the block is crosslinked
		fraud bool
	}
	canonical := make(map[receiptKey]loc)
	for _, p := range w.shards {
		xlOf := make([]int, len(p.chain)) // the crosslink of each block; -1: not crosslinked yet
		for b := range xlOf {
			xlOf[b] = -1
		}
		for xi, x := range p.xls {
			for b := x.first; b < x.end; b++ {
				xlOf[b] = xi
			}
		}
		for bi, blk := range p.chain {
			for _, r := range blk.receipts {
				k := receiptKey{r.SrcShard, r.DstShard, r.Nonce}
				if _, dup := canonical[k]; dup {
					w.fatalf("receipt %+v emitted twice by canonical blocks", k)
				}
				l := loc{r: r, fraud: blk.fraud}
				if xi := xlOf[bi]; xi > 0 {
					l.xl, l.end = true, p.xls[xi].cl.EndEpoch
				}
				canonical[k] = l
			}
		}
	}
	// (a) conservation.
	var sum uint64
	for _, p := range w.shards {
		for _, a := range p.head().post.Accounts {
			sum += uint64(a.Balance)
		}
	}
	for k, l := range canonical {
		if k.nonce >= w.shards[k.dst].head().post.InboxNonces[k.src] {
			sum += uint64(l.r.Amount)
		}
	}
	if sum != w.total {
		w.fatalf("conservation: balances + unclaimed receipts = %d, genesis total %d", sum, w.total)
	}
	// (b) credits.
	for _, p := range w.shards {
		seen := make(map[receiptKey]bool)
		for _, blk := range p.chain {
			for _, r := range blk.credits {
				k := receiptKey{r.SrcShard, r.DstShard, r.Nonce}
				switch l, ok := canonical[k]; {
				case r.DstShard != p.id:
					w.fatalf("shard %d credited receipt %+v of shard %d", p.id, k, r.DstShard)
				case seen[k]:
					w.fatalf("shard %d credited receipt %+v twice", p.id, k)
				case !ok || l.r != r:
					w.fatalf("shard %d credited receipt %+v, which no canonical block emitted (rolled back?)", p.id, k)
				case !l.xl || l.fraud:
					w.fatalf("shard %d credited receipt %+v of an uncrosslinked or fraudulent block", p.id, k)
				case w.epoch(blk.hdr.Slot) < uint64(l.end)+w.cfg.Shard.ChallengeWindow:
					w.fatalf("shard %d credited receipt %+v in epoch %d, crosslink ends %d", p.id, k, w.epoch(blk.hdr.Slot), l.end)
				}
				seen[k] = true
			}
		}
		// The inbox counts exactly the credits.
		head := p.head().post
		for src := range propShards {
			n := uint64(0)
			for k := range seen {
				if int(k.src) == src {
					n++
				}
			}
			if head.InboxNonces[src] != n {
				w.fatalf("shard %d: inbox nonce of shard %d is %d, %d receipts credited", p.id, src, head.InboxNonces[src], n)
			}
		}
	}
}
