package spectest

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/crypto/hash"
	"github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// The generator of the shard vectors. Everything is derived from public
// data (interop validator keys, interop shard account keys) and BLS and
// ed25519 signatures are deterministic, so Generate writes the same bytes on
// every run: a protocol change shows up as a diff of shard/testdata.
//
// The beacon states are those of a 64-validator interop genesis with the
// shard fork at genesis, advanced with process_slots. The crosslinks the
// claims and fraud proofs need are written into them at a given slot W, as
// process_crosslinks would at an epoch transition, before the state at W is
// hashed: the state_roots of every later state hold roots of states that
// contain them, so claims can prove their challenge window (a history). A
// state "after a beacon block at slot N" gets a latest block header at N
// with a zero state root (see BeaconBlockRoot).

// genError carries a generator failure through panics to Generate.
type genError struct{ err error }

func must(err error) {
	if err != nil {
		panic(genError{err})
	}
}

func check[T any](v T, err error) T {
	must(err)
	return v
}

func fail(format string, args ...any) { panic(genError{fmt.Errorf(format, args...)}) }

// Generate writes every shard vector under dir/tests/minimal/shard, which it
// removes first, and returns the number of cases per runner/handler.
func Generate(dir string) (counts map[string]int, err error) {
	defer func() {
		if r := recover(); r != nil {
			ge, ok := r.(genError)
			if !ok {
				panic(r)
			}
			counts, err = nil, fmt.Errorf("generate shard vectors: %w", ge.err)
		}
	}()
	root := filepath.Join(dir, "tests", ConfigName, ForkName)
	must(os.RemoveAll(root))
	g := newGenerator(root)
	g.writeFile(filepath.Join(root, ConfigFile), ConfigYAML(g.cfg))
	g.writeFile(filepath.Join(root, GenesisFile), GenesisYAML(g.fv.GenesisRoot))
	g.processCases()
	g.claimCases()
	g.dataRootCases()
	g.fraudCases()
	return g.counts, nil
}

type generator struct {
	root     string // the fork directory
	cfg      *params.Config
	tr       *bcore.Transition
	fv       core.FraudVerifier // of genesis; tr carries it
	opts     core.ExecOptions   // full checks on genesis' chain
	keys     *validator.Keys
	genesis  *bt.BeaconState // post-state of the genesis block, slot 0
	bodyRoot bt.Root         // root of an empty beacon block body
	shards   []*st.ShardState
	ghdrs    []st.ShardBlockHeader
	counts   map[string]int
	names    map[string]bool
	// hist holds the history of every beacon state made by block, for the
	// claims' window proofs.
	hist map[*bt.BeaconState]*history
}

func newGenerator(root string) *generator {
	cfg := Config()
	must(cfg.Validate())
	keys := check(validator.NewInteropKeys(0, Validators))
	genesis := check(validator.InteropGenesis(bcore.New(cfg), Validators, cfg.MinGenesisTime, validator.WithKeys(keys)))
	if genesis.Fork.CurrentVersion != bt.Version(cfg.Shard.ForkVersion) {
		fail("genesis fork %v is not the shard fork", genesis.Fork)
	}
	fv := check(core.NewFraudVerifier(genesis))
	g := &generator{
		root: root, cfg: cfg, tr: bcore.New(cfg).WithShardFork(fv), keys: keys, genesis: genesis,
		fv: fv, opts: core.ExecOptions{TxDomain: fv.TxDomain(cfg)},
		bodyRoot: check((&bt.BeaconBlockBody{}).HashTreeRoot()),
		counts:   make(map[string]int), names: make(map[string]bool),
		hist: make(map[*bt.BeaconState]*history),
	}
	for s := range 4 {
		ss := check(st.GenesisState(cfg, bt.Shard(s), core.AccountPubkeys(cfg, bt.Shard(s))))
		g.shards = append(g.shards, ss)
		g.ghdrs = append(g.ghdrs, check(core.GenesisHeader(ss)))
	}
	return g
}

// --- files -------------------------------------------------------------------

type file struct {
	name string
	data []byte
}

type encoder interface{ MarshalSSZ() ([]byte, error) }

func sszFile(name string, v encoder) file { return file{name, check(v.MarshalSSZ())} }

var blsRequired = file{"meta.yaml", []byte("bls_setting: 1\n")}

func (g *generator) writeFile(path string, data []byte) {
	must(os.MkdirAll(filepath.Dir(path), 0o755))
	must(os.WriteFile(path, data, 0o644))
}

func (g *generator) writeCase(runner, handler, name string, files ...file) {
	id := runner + "/" + handler + "/" + name
	if g.names[id] {
		fail("case %s written twice", id)
	}
	g.names[id] = true
	dir := filepath.Join(g.root, runner, handler, Suite, name)
	for _, f := range files {
		g.writeFile(filepath.Join(dir, f.name), f.data)
	}
	g.counts[runner+"/"+handler]++
}

// expectOutcome checks, before a case is written, that it passes or fails
// as intended: want is "" for a valid case, else a piece of the error.
func expectOutcome(id string, err error, want string) {
	switch {
	case want == "" && err != nil:
		fail("%s: valid case fails: %v", id, err)
	case want == "":
	case err == nil:
		fail("%s: invalid case (%q) passes", id, want)
	case !errors.Is(err, bcore.ErrInvalid):
		fail("%s: fails with a non-consensus error: %v", id, err)
	case !strings.Contains(err.Error(), want):
		fail("%s: fails for another reason than %q: %v", id, want, err)
	}
}

// --- beacon chain ------------------------------------------------------------

// beaconAt returns the post-state of a beacon block at slot: base advanced
// with process_slots, edited, with a latest block header at slot.
func (g *generator) beaconAt(base *bt.BeaconState, slot bt.Slot, edit func(s *bt.BeaconState)) *bt.BeaconState {
	s := base.Copy()
	if slot > s.Slot {
		must(g.tr.ProcessSlots(s, slot))
		parent := s.LatestBlockHeader.SigningRoot() // its state root was filled in by process_slot
		s.LatestBlockHeader = bt.BeaconBlockHeader{Slot: slot, ParentRoot: parent, BodyRoot: g.bodyRoot}
	}
	if edit != nil {
		edit(s)
	}
	return s
}

// advance returns base after process_slots to slot: a state that verifies
// fraud proofs at slot.
func (g *generator) advance(base *bt.BeaconState, slot bt.Slot) *bt.BeaconState {
	s := base.Copy()
	must(g.tr.ProcessSlots(s, slot))
	return s
}

// history is a beacon chain of empty slots from base (at slot 0) on which
// crosslinks are written: events[i].cls become current at events[i].slot,
// before the state at that slot is hashed into state_roots by the next
// process_slot (as process_crosslinks writes a crosslink into the state at
// an epoch's first slot). Events are in slot order.
type history struct {
	base   *bt.BeaconState
	events []event
}

// event writes crosslinks at a slot of a history.
type event struct {
	slot bt.Slot
	cls  []bt.Crosslink
}

func written(slot bt.Slot, cls ...bt.Crosslink) event { return event{slot, cls} }

func (g *generator) history(events ...event) *history {
	return &history{base: g.genesis, events: events}
}

// at returns the state of h at slot: the one whose root the next
// process_slot records in state_roots[slot % SLOTS_PER_HISTORICAL_ROOT].
func (g *generator) at(h *history, slot bt.Slot) *bt.BeaconState {
	s := h.base.Copy()
	for _, e := range h.events {
		if e.slot > slot {
			break
		}
		if e.slot < s.Slot {
			fail("history event at slot %d before slot %d", e.slot, s.Slot)
		}
		if e.slot > s.Slot {
			must(g.tr.ProcessSlots(s, e.slot))
		}
		for _, c := range e.cls {
			s.CurrentCrosslinks[c.Shard] = c
		}
	}
	if slot > s.Slot {
		must(g.tr.ProcessSlots(s, slot))
	}
	return s
}

// block returns the post-state of a beacon block at slot on h: the state of
// h at slot with a latest block header at slot.
func (g *generator) block(h *history, slot bt.Slot) *bt.BeaconState {
	s := g.at(h, slot)
	if slot > h.base.Slot {
		parent := s.LatestBlockHeader.SigningRoot() // its state root was filled in by process_slot
		s.LatestBlockHeader = bt.BeaconBlockHeader{Slot: slot, ParentRoot: parent, BodyRoot: g.bodyRoot}
	}
	g.hist[s] = h
	return s
}

// windowState returns the state at the window slot of beacon (a state made
// by block): the state a claim in a block referencing beacon proves its
// crosslink against. It checks that its root is the one beacon recorded.
func (g *generator) windowState(beacon *bt.BeaconState) *bt.BeaconState {
	h, ok := g.hist[beacon]
	if !ok {
		fail("beacon state at slot %d has no history", beacon.Slot)
	}
	ws, ok := core.WindowSlot(g.cfg, beacon.Slot)
	if !ok {
		fail("beacon state at slot %d has no window slot", beacon.Slot)
	}
	s := g.at(h, ws)
	if check(s.HashTreeRoot()) != beacon.StateRoots[uint64(ws)%g.cfg.SlotsPerHistoricalRoot] {
		fail("the state at window slot %d is not the one the state at slot %d recorded", ws, beacon.Slot)
	}
	return s
}

// window sets c's challenge-window proof for a block referencing beacon:
// the index in c's chain of the crosslink of the source shard that was
// current at the window slot, with its branch in that state's root. When
// no crosslink of the chain was current then (the claim is early), c gets
// the branch of the crosslink that was, at index 0: a block including it
// must fail.
func (g *generator) window(c *st.ReceiptClaim, beacon *bt.BeaconState) *st.ReceiptClaim {
	ws := g.windowState(beacon)
	src := c.Receipt.SrcShard
	idx, br, err := core.WindowProof(g.cfg, ws, src, c.Crosslinks)
	if errors.Is(err, core.ErrNotClaimable) {
		idx, br = 0, check(ws.Branch(bt.GIndexCurrentCrosslink(g.cfg.ShardCount, uint64(src))))
	} else {
		must(err)
	}
	c.WindowIndex, c.WindowBranch = idx, br
	return c
}

func (g *generator) key(i bt.ValidatorIndex) *bls.SecretKey {
	sk, ok := g.keys.SecretKey(uint64(i))
	if !ok {
		fail("no key for validator %d", i)
	}
	return sk
}

// --- shard chains ------------------------------------------------------------

// tip is the head of a shard chain: a header and its post-state.
type tip struct {
	hdr   st.ShardBlockHeader
	state *st.ShardState
}

func (g *generator) genesisTip(shard int) tip {
	return tip{hdr: g.ghdrs[shard], state: g.shards[shard].Copy()}
}

func (g *generator) ctx(on tip, beacon *bt.BeaconState) core.BlockContext {
	hdr := on.hdr
	return core.BlockContext{Parent: &hdr, BeaconRoot: check(BeaconBlockRoot(beacon)), Beacon: beacon}
}

func (g *generator) tx(shard bt.Shard, from, nonce uint64, toShard bt.Shard, to uint64, amount bt.Gwei) *st.Transaction {
	tx := &st.Transaction{Shard: shard, From: from, Nonce: nonce, ToShard: toShard, To: to, Amount: amount}
	core.SignTx(g.opts.TxDomain, tx, core.AccountKey(shard, from))
	return tx
}

func (g *generator) genesisBalance() bt.Gwei { return bt.Gwei(g.cfg.Shard.GenesisBalance) }

// spec describes a shard block to build.
type spec struct {
	on     tip
	beacon *bt.BeaconState
	slot   bt.Slot
	txs    []*st.Transaction
	claims []*st.ReceiptClaim
	edit   func(b *st.ShardBlock) // applied before the proposer signs
	after  func(b *st.ShardBlock) // applied after
}

// build assembles the block of x: its proposer, the roots of its lenient
// execution (for an invalid body, the roots a proposer who ignores the rule
// it breaks commits to), then x.edit, the signature of the validator named
// as proposer, and x.after.
func (g *generator) build(x spec) *st.ShardBlock {
	ctx := g.ctx(x.on, x.beacon)
	proposer := check(core.ShardProposerIndex(g.tr, x.beacon, x.on.state.Shard, x.slot))
	b := &st.ShardBlock{
		Slot: x.slot, Shard: x.on.state.Shard, ProposerIndex: proposer,
		ParentRoot: x.on.hdr.SigningRoot(), BeaconBlockRoot: ctx.BeaconRoot,
		Body: st.ShardBlockBody{Transactions: x.txs, Claims: x.claims},
	}
	post, receipts := lenient(x.on.state, x.beacon, b)
	real := x.on.state.Copy()
	if rr, err := core.ExecuteBlock(g.cfg, core.FullView{S: real}, core.FullBeaconView{S: x.beacon}, b, g.opts); err == nil {
		// The lenient execution of a valid body is the real one.
		if check(real.HashTreeRoot()) != check(post.HashTreeRoot()) || !slices.Equal(rr, receipts) {
			fail("lenient execution of a valid block at slot %d differs from ExecuteBlock", b.Slot)
		}
	}
	b.StateRoot = check(post.HashTreeRoot())
	b.ReceiptsRoot = check(st.ReceiptsRoot(receipts))
	if x.edit != nil {
		x.edit(b)
	}
	must(core.SignBlock(g.tr, b, g.key(b.ProposerIndex)))
	if x.after != nil {
		x.after(b)
	}
	return b
}

// lenient executes b on a copy of pre the way a proposer who checks nothing
// would: every transaction debits its sender (wrapping on overdraft) and
// bumps its nonce, then credits its recipient or emits a receipt; every
// claim credits its recipient and bumps the inbox nonce of its source
// shard. Out-of-range indices are skipped. On a valid body it is
// process_shard_block. The roots of an invalid block are those of its
// lenient execution, so that an implementation that misses the rule the
// block breaks computes exactly the roots the block commits to and accepts
// it: the vector then fails, rather than passing because of a root
// mismatch.
func lenient(pre *st.ShardState, beacon *bt.BeaconState, b *st.ShardBlock) (*st.ShardState, []st.Receipt) {
	s := pre.Copy()
	s.Slot, s.BeaconSlot = b.Slot, beacon.Slot
	n := uint64(len(s.Accounts))
	credit := func(j uint64, amount bt.Gwei) {
		if j < n {
			a := s.Accounts[j]
			a.Balance += amount
			s.SetAccount(j, a)
		}
	}
	var receipts []st.Receipt
	for _, tx := range b.Body.Transactions {
		if tx.From < n {
			a := s.Accounts[tx.From]
			a.Balance -= tx.Amount
			a.Nonce++
			s.SetAccount(tx.From, a)
		}
		switch {
		case tx.ToShard == s.Shard:
			credit(tx.To, tx.Amount)
		case uint64(tx.ToShard) < uint64(len(s.OutboxNonces)):
			receipts = append(receipts, st.Receipt{SrcShard: s.Shard, DstShard: tx.ToShard, Nonce: s.OutboxNonces[tx.ToShard],
				SrcSlot: b.Slot, Sender: tx.From, Recipient: tx.To, Amount: tx.Amount})
			s.OutboxNonces[tx.ToShard]++
		}
	}
	for _, c := range b.Body.Claims {
		credit(c.Receipt.Recipient, c.Receipt.Amount)
		if src := uint64(c.Receipt.SrcShard); src < uint64(len(s.InboxNonces)) {
			s.InboxNonces[src]++
		}
	}
	return s, receipts
}

// apply processes a valid block and returns the new head and its receipts.
func (g *generator) apply(on tip, beacon *bt.BeaconState, b *st.ShardBlock) (tip, []st.Receipt) {
	post := on.state.Copy()
	receipts, err := core.ProcessBlock(g.tr, g.ctx(on, beacon), post, b, bcore.VerifySigs, g.opts)
	must(err)
	return tip{hdr: check(b.Header()), state: post}, receipts
}

// blockCase writes a shard_block case: b on x.on referencing x.beacon. want
// is "" for a valid case, else a piece of the expected error. It returns the
// new head of a valid case.
func (g *generator) blockCase(handler, name string, x spec, want string) tip {
	b := g.build(x)
	post := x.on.state.Copy()
	_, err := core.ProcessBlock(g.tr, g.ctx(x.on, x.beacon), post, b, bcore.VerifySigs, g.opts)
	expectOutcome(RunnerShardBlock+"/"+handler+"/"+name, err, want)
	files := []file{
		sszFile("beacon.ssz", x.beacon),
		sszFile("parent.ssz", &x.on.hdr),
		sszFile("pre.ssz", x.on.state),
		sszFile("block.ssz", b),
		blsRequired,
	}
	if want == "" {
		files = append(files, sszFile("post.ssz", post))
	}
	g.writeCase(RunnerShardBlock, handler, name, files...)
	if want != "" {
		return tip{}
	}
	return tip{hdr: check(b.Header()), state: post}
}

func txs(t ...*st.Transaction) []*st.Transaction { return t }

// --- shard_block/process -----------------------------------------------------

func (g *generator) processCases() {
	ok := func(name string, x spec) tip { return g.blockCase(HandlerProcess, name, x, "") }
	bad := func(name, want string, x spec) { g.blockCase(HandlerProcess, name, x, want) }
	gen := g.genesis
	t0 := g.genesisTip(0)
	bal := g.genesisBalance()
	b2 := g.beaconAt(gen, 2, nil)
	b4 := g.beaconAt(gen, 4, nil)

	ok("transfers_intra_shard", spec{on: t0, beacon: gen, slot: 1, txs: txs(
		g.tx(0, 1, 0, 0, 2, 1000), g.tx(0, 2, 0, 0, 3, 500), g.tx(0, 3, 0, 0, 1, 42), g.tx(0, 1, 1, 0, 2, 7))})
	ok("cross_shard_sends", spec{on: t0, beacon: gen, slot: 1, txs: txs(
		g.tx(0, 1, 0, 1, 5, 100), g.tx(0, 1, 1, 2, 5, 200), g.tx(0, 4, 0, 1, 6, 300), g.tx(0, 4, 1, 7, 15, 1))})
	ok("transfers_and_sends", spec{on: t0, beacon: gen, slot: 1, txs: txs(
		g.tx(0, 1, 0, 0, 2, 1000), g.tx(0, 2, 0, 3, 0, 1500), g.tx(0, 1, 1, 3, 0, 1), g.tx(0, 9, 0, 0, 1, 5))})
	ok("empty_block", spec{on: t0, beacon: gen, slot: 1})
	ok("self_transfer", spec{on: t0, beacon: gen, slot: 1, txs: txs(g.tx(0, 5, 0, 0, 5, 123))})
	ok("send_whole_balance", spec{on: t0, beacon: gen, slot: 1, txs: txs(g.tx(0, 6, 0, 1, 0, bal))})
	ok("spend_what_was_received", spec{on: t0, beacon: gen, slot: 1, txs: txs(
		g.tx(0, 1, 0, 0, 2, bal), g.tx(0, 2, 0, 2, 3, 2*bal))})
	ok("last_account", spec{on: t0, beacon: gen, slot: 1, txs: txs(g.tx(0, 15, 0, 3, 15, 1), g.tx(0, 0, 0, 0, 15, 2))})
	ok("skipped_slots", spec{on: t0, beacon: b4, slot: 7, txs: txs(g.tx(0, 1, 0, 0, 2, 10))})
	ok("beacon_reference_one_epoch_old", spec{on: t0, beacon: gen, slot: 8, txs: txs(g.tx(0, 1, 0, 0, 2, 10))})
	t1, _ := g.apply(t0, gen, g.build(spec{on: t0, beacon: gen, slot: 1, txs: txs(g.tx(0, 1, 0, 0, 2, 10))}))
	ok("second_block", spec{on: t1, beacon: b2, slot: 2, txs: txs(g.tx(0, 1, 1, 1, 2, 10), g.tx(0, 2, 0, 0, 1, 5))})

	base := func() spec {
		return spec{on: t0, beacon: gen, slot: 1, txs: txs(g.tx(0, 1, 0, 0, 2, 1000), g.tx(0, 3, 0, 1, 4, 77))}
	}
	with := func(edit, after func(b *st.ShardBlock)) spec {
		x := base()
		x.edit, x.after = edit, after
		return x
	}
	withTxs := func(t ...*st.Transaction) spec { return spec{on: t0, beacon: gen, slot: 1, txs: t} }

	bad("wrong_parent_root", "parent root", with(func(b *st.ShardBlock) { b.ParentRoot[0] ^= 1 }, nil))
	bad("wrong_beacon_block_root", "beacon block root", with(func(b *st.ShardBlock) { b.BeaconBlockRoot = check(BeaconBlockRoot(b4)) }, nil))
	bad("wrong_proposer", "proposer", with(func(b *st.ShardBlock) { b.ProposerIndex = (b.ProposerIndex + 1) % Validators }, nil))
	bad("bad_proposer_signature", "bad signature of shard proposer", with(nil, func(b *st.ShardBlock) {
		must(core.SignBlock(g.tr, b, g.key((b.ProposerIndex+1)%Validators)))
	}))
	bad("unsigned_block", "signature", with(nil, func(b *st.ShardBlock) { b.Signature = bt.BLSSignature{} }))
	bad("wrong_state_root", "state root", with(func(b *st.ShardBlock) { b.StateRoot[0] ^= 1 }, nil))
	bad("wrong_receipts_root", "receipts root", with(func(b *st.ShardBlock) { b.ReceiptsRoot[0] ^= 1 }, nil))
	bad("receipts_root_without_receipts", "receipts root", with(func(b *st.ShardBlock) {
		b.ReceiptsRoot = check(st.ReceiptsRoot(nil))
	}, nil))
	badSig := g.tx(0, 1, 0, 0, 2, 1000)
	core.SignTx(g.opts.TxDomain, badSig, core.AccountKey(0, 2))
	bad("bad_tx_signature", "bad signature of account 1", withTxs(badSig))
	otherDomain := g.tx(0, 1, 0, 0, 2, 1000)
	cfg2 := g.cfg.Copy()
	cfg2.Shard.DomainTransaction = cfg2.Shard.DomainFraudProof
	core.SignTx(core.ComputeTxDomain(cfg2, g.fv.GenesisRoot), otherDomain, core.AccountKey(0, 1))
	bad("tx_signed_for_other_domain", "bad signature of account 1", withTxs(otherDomain))
	// Replay protection (§2.5): a transaction of another chain (the same
	// accounts, another beacon genesis), of another shard fork version, and
	// one signed over the message without the chain (signing_root(tx) ++
	// compute_shard_domain(DOMAIN_SHARD_TRANSACTION), as before the domain
	// had the genesis root).
	otherGenesis := g.tx(0, 1, 0, 0, 2, 1000)
	core.SignTx(core.ComputeTxDomain(g.cfg, hash.Hash([]byte("another chain's genesis state"))), otherGenesis, core.AccountKey(0, 1))
	bad("tx_signed_for_other_genesis", "bad signature of account 1", withTxs(otherGenesis))
	otherVersion := g.tx(0, 1, 0, 0, 2, 1000)
	cfg3 := g.cfg.Copy()
	cfg3.Shard.ForkVersion[3] ^= 1
	core.SignTx(core.ComputeTxDomain(cfg3, g.fv.GenesisRoot), otherVersion, core.AccountKey(0, 1))
	bad("tx_signed_for_other_fork_version", "bad signature of account 1", withTxs(otherVersion))
	unbound := g.tx(0, 1, 0, 0, 2, 1000)
	msg := unbound.SigningRoot()
	dom := core.ShardDomain(g.cfg, g.cfg.Shard.DomainTransaction)
	copy(unbound.Signature[:], ed25519.Sign(core.AccountKey(0, 1), append(msg[:], dom[:]...)))
	bad("tx_signed_without_genesis", "bad signature of account 1", withTxs(unbound))
	bad("nonce_replay", "nonce 0, account 1 expects 1", withTxs(g.tx(0, 1, 0, 0, 2, 10), g.tx(0, 1, 0, 0, 2, 10)))
	bad("nonce_from_the_future", "nonce 1, account 1 expects 0", withTxs(g.tx(0, 1, 1, 0, 2, 10)))
	bad("overdraft", "sends", withTxs(g.tx(0, 1, 0, 0, 2, bal+1)))
	bad("overdraft_after_spending", "sends", withTxs(g.tx(0, 1, 0, 0, 2, bal-10), g.tx(0, 1, 1, 1, 2, 11)))
	bad("unknown_sender", "out of range", withTxs(g.tx(0, ShardAccounts, 0, 0, 2, 10)))
	bad("unknown_recipient", "out of range", withTxs(g.tx(0, 1, 0, 0, ShardAccounts, 10)))
	bad("unknown_destination_shard", "out of range", withTxs(g.tx(0, 1, 0, bt.Shard(g.cfg.ShardCount), 2, 10)))
	// Signed by the sender's own key: only the shard field makes it invalid here.
	otherShard := &st.Transaction{Shard: 1, From: 1, ToShard: 1, To: 2, Amount: 10}
	core.SignTx(g.opts.TxDomain, otherShard, core.AccountKey(0, 1))
	bad("tx_of_other_shard", "out of range", withTxs(otherShard))
	bad("zero_amount", "zero amount", withTxs(g.tx(0, 1, 0, 1, 2, 0)))
	bad("invalid_tx_after_valid_ones", "transaction 2", withTxs(g.tx(0, 1, 0, 0, 2, 10), g.tx(0, 2, 0, 1, 2, 10), g.tx(0, 3, 5, 0, 2, 10)))
	bad("wrong_shard", "applied to shard", with(func(b *st.ShardBlock) {
		b.Shard = 1
		b.ProposerIndex = check(core.ShardProposerIndex(g.tr, gen, 1, b.Slot))
	}, nil))
	// get_shard_proposer_index skips slashed committee members: with the
	// validator drawn first slashed, the next one drawn proposes, and a
	// block by the slashed one names the wrong proposer.
	first := check(core.ShardProposerIndex(g.tr, gen, 0, 1))
	slashed := g.beaconAt(gen, 0, func(s *bt.BeaconState) { s.Validators[first].Slashed = true })
	if check(core.ShardProposerIndex(g.tr, slashed, 0, 1)) == first {
		fail("the slashed shard proposer %d is still drawn", first)
	}
	ok("slashed_committee_member_skipped", spec{on: t0, beacon: slashed, slot: 1, txs: txs(g.tx(0, 1, 0, 0, 2, 10))})
	bad("slashed_proposer", fmt.Sprintf("proposer %d, expected", first), spec{on: t0, beacon: slashed, slot: 1,
		txs: txs(g.tx(0, 1, 0, 0, 2, 10)), edit: func(b *st.ShardBlock) { b.ProposerIndex = first }})
	t3, _ := g.apply(t0, gen, g.build(spec{on: t0, beacon: gen, slot: 3}))
	bad("slot_equal_to_parent", "not after", spec{on: t3, beacon: gen, slot: 3})
	bad("slot_before_parent", "not after", spec{on: t3, beacon: gen, slot: 2})
	t5, _ := g.apply(t0, b4, g.build(spec{on: t0, beacon: b4, slot: 5}))
	bad("beacon_reference_older_than_parents", "beacon reference", spec{on: t5, beacon: b2, slot: 6})
	bad("beacon_reference_in_the_future", "beacon reference", spec{on: t0, beacon: b4, slot: 3})
	bad("beacon_reference_too_old", "beacon reference", spec{on: t0, beacon: gen, slot: 9})
}

// --- shard_block/claims ------------------------------------------------------

// claimWorld is shard 0 sending value to shards 1 and 2 in blocks at slots 1
// and 2, crosslinked by c0 (epoch 0), and to shard 3 in a block at slot 9,
// crosslinked by c1 (epoch 1) on top of c0.
type claimWorld struct {
	headers []st.ShardBlockHeader
	c0, c1  bt.Crosslink
	// claims: 0, 1: 0→1 nonces 0 and 1 (block 1); 2: 0→2 nonce 0 (block 1);
	// 3: 0→1 nonce 2 (block 2), each proving the chain [c0]; 4: 0→3 nonce 0
	// (block 3), proving the chain [c1]. None has its window proof yet,
	// which depends on the beacon state the claiming block references (see
	// generator.claim).
	claims []*st.ReceiptClaim
}

func (g *generator) newClaimWorld() *claimWorld {
	gen := g.genesis
	t0 := g.genesisTip(0)
	s1 := g.build(spec{on: t0, beacon: gen, slot: 1, txs: txs(
		g.tx(0, 7, 0, 1, 9, 300), g.tx(0, 7, 1, 1, 9, 200), g.tx(0, 7, 2, 2, 3, 50), g.tx(0, 5, 0, 0, 6, 10))})
	t1, r1 := g.apply(t0, gen, s1)
	s2 := g.build(spec{on: t1, beacon: gen, slot: 2, txs: txs(g.tx(0, 8, 0, 1, 4, 70))})
	t2, r2 := g.apply(t1, gen, s2)
	b9 := g.beaconAt(gen, 9, nil)
	s3 := g.build(spec{on: t2, beacon: b9, slot: 9, txs: txs(g.tx(0, 8, 1, 3, 5, 40))})
	t3, r3 := g.apply(t2, b9, s3)
	w := &claimWorld{headers: []st.ShardBlockHeader{t1.hdr, t2.hdr, t3.hdr}}
	roots0 := []bt.Root{t1.hdr.SigningRoot(), t2.hdr.SigningRoot()}
	roots1 := []bt.Root{t3.hdr.SigningRoot()}
	w.c0 = bt.Crosslink{Shard: 0, ParentRoot: gen.CurrentCrosslinks[0].TreeRoot(), StartEpoch: 0, EndEpoch: 1,
		DataRoot: check(core.CrosslinkDataRoot(g.cfg, roots0))}
	w.c1 = bt.Crosslink{Shard: 0, ParentRoot: w.c0.TreeRoot(), StartEpoch: 1, EndEpoch: 2,
		DataRoot: check(core.CrosslinkDataRoot(g.cfg, roots1))}
	hb0 := check(core.HeaderProofs(g.cfg, roots0))
	mk := func(receipts []st.Receipt, i int, hi int, cl bt.Crosslink, hb []bt.Root, idx int) *st.ReceiptClaim {
		return &st.ReceiptClaim{
			Receipt: receipts[i], ReceiptIndex: uint64(i), ReceiptBranch: check(st.ReceiptProofs(receipts))[i],
			Header: w.headers[hi], HeaderIndex: uint64(idx), HeaderBranch: hb,
			Crosslinks: []*bt.Crosslink{&cl},
		}
	}
	w.claims = []*st.ReceiptClaim{mk(r1, 0, 0, w.c0, hb0[0], 0), mk(r1, 1, 0, w.c0, hb0[0], 0), mk(r1, 2, 0, w.c0, hb0[0], 0),
		mk(r2, 0, 1, w.c0, hb0[1], 1), mk(r3, 0, 2, w.c1, check(core.HeaderProof(g.cfg, roots1, 0)), 0)}
	return w
}

// claim returns a deep copy of claim i, edited, with the window proof for a
// block referencing beacon (computed after edit).
func (g *generator) claim(w *claimWorld, i int, beacon *bt.BeaconState, edit func(c *st.ReceiptClaim)) *st.ReceiptClaim {
	var c st.ReceiptClaim
	must(bt.Decode(&c, check(w.claims[i].MarshalSSZ())))
	if edit != nil {
		edit(&c)
	}
	return g.window(&c, beacon)
}

func chain(cls ...bt.Crosslink) func(c *st.ReceiptClaim) {
	return func(c *st.ReceiptClaim) {
		c.Crosslinks = nil
		for i := range cls {
			c.Crosslinks = append(c.Crosslinks, &cls[i])
		}
	}
}

func claims(c ...*st.ReceiptClaim) []*st.ReceiptClaim { return c }

// afterWindow edits c after its window proof was set.
func afterWindow(c *st.ReceiptClaim, edit func(c *st.ReceiptClaim)) *st.ReceiptClaim {
	edit(c)
	return c
}

func (g *generator) claimCases() {
	ok := func(name string, x spec) tip { return g.blockCase(HandlerClaims, name, x, "") }
	bad := func(name, want string, x spec) { g.blockCase(HandlerClaims, name, x, want) }
	gen := g.genesis
	w := g.newClaimWorld()
	// The beacon chains the claims are made on (SHARD_CHALLENGE_WINDOW = 1:
	// a block referencing the state at slot s proves its crosslink was
	// current at slot s - 8). c0 is written at slot 8, at the end of epoch
	// 0, as process_crosslinks writes votes included in their own epoch.
	withC0 := g.history(written(8, w.c0))
	withC1 := g.history(written(8, w.c0), written(16, w.c1))  // the window state of slot 24 has c1
	c1Late := g.history(written(8, w.c0), written(20, w.c1))  // ... has c0, the current one is c1
	c1Later := g.history(written(8, w.c0), written(17, w.c1)) // c1 written one slot after the window slot of 24
	b24 := g.block(withC0, 24)
	b24chain := g.block(withC1, 24)
	b24late := g.block(c1Late, 24)
	b24none := g.block(g.history(), 24)
	b40 := g.block(withC0, 40)
	on1, on2, on3 := g.genesisTip(1), g.genesisTip(2), g.genesisTip(3)
	at := func(on tip, beacon *bt.BeaconState, cs ...*st.ReceiptClaim) spec {
		return spec{on: on, beacon: beacon, slot: beacon.Slot, claims: cs}
	}
	// c(i, beacon, edit) is claim i for a block referencing beacon.
	c := func(i int, beacon *bt.BeaconState, edit func(c *st.ReceiptClaim)) *st.ReceiptClaim {
		return g.claim(w, i, beacon, edit)
	}

	first := ok("claim_one", at(on1, b24, c(0, b24, nil)))
	ok("two_claims_in_order", at(on1, b24, c(0, b24, nil), c(1, b24, nil)))
	ok("claims_from_two_headers", at(on1, b24, c(0, b24, nil), c(1, b24, nil), c(3, b24, nil)))
	ok("claim_via_crosslink_chain", at(on1, b24chain, c(0, b24chain, chain(w.c0, w.c1))))
	ok("window_crosslink_before_current", at(on1, b24late, c(0, b24late, chain(w.c0, w.c1))))
	ok("claim_of_second_crosslink", at(on3, b24chain, c(4, b24chain, nil)))
	ok("claim_on_other_destination", at(on2, b24, c(2, b24, nil)))
	ok("claim_long_after_window", at(on1, b40, c(0, b40, nil)))
	// c0 was written at slot 8: slot 16 is the first whose window slot has it.
	b16 := g.block(withC0, 16)
	ok("claim_exactly_at_window", at(on1, b16, c(0, b16, nil)))
	x := at(on1, b24, c(0, b24, nil))
	x.txs = txs(g.tx(1, 9, 0, 1, 2, 1000), g.tx(1, 4, 0, 3, 0, 20))
	ok("claims_with_transactions", x)
	later := spec{on: first, beacon: b24, slot: 25, claims: claims(c(1, b24, nil))}
	ok("claim_in_later_block", later)

	// The challenge window. Under the former rule (epoch of the state >=
	// end_epoch + SHARD_CHALLENGE_WINDOW) a crosslink written late could be
	// claimed the moment it was written: c0 ([0, 1)) written at slot 24.
	b24fresh := g.block(g.history(written(24, w.c0)), 24)
	bad("early_challenge_window", "challenge window", at(on1, b24fresh, c(0, b24fresh, nil)))
	// One slot short of claim_exactly_at_window: the window state (slot 7)
	// still has the parent of c0, the genesis crosslink.
	b15 := g.block(withC0, 15)
	bad("crosslink_not_current_at_window", "was not the current crosslink", at(on1, b15, c(0, b15, nil)))
	// The header is in c1, written at slot 17; the window state of slot 24
	// (slot 16) has c0, the crosslink before it. The claim proves c0 was
	// current then, but no index of its chain [c1] holds c0.
	b24c1 := g.block(c1Later, 24)
	bad("window_index_before_header_crosslink", "was not the current crosslink", at(on3, b24c1, c(4, b24c1, nil)))
	bad("wrong_window_branch", "was not the current crosslink", at(on1, b24, afterWindow(c(0, b24, nil), func(c *st.ReceiptClaim) {
		c.WindowBranch[2][0] ^= 1
	})))
	// The window crosslink of b24chain is c1, at index 1 of [c0, c1].
	bad("wrong_window_index", "was not the current crosslink", at(on1, b24chain, afterWindow(c(0, b24chain, chain(w.c0, w.c1)), func(c *st.ReceiptClaim) {
		c.WindowIndex = 0
	})))
	bad("window_index_outside_chain", "outside the crosslink chain", at(on1, b24, afterWindow(c(0, b24, nil), func(c *st.ReceiptClaim) {
		c.WindowIndex = 1
	})))
	bad("short_window_branch", "window branch of", at(on1, b24, afterWindow(c(0, b24, nil), func(c *st.ReceiptClaim) {
		c.WindowBranch = c.WindowBranch[:len(c.WindowBranch)-1]
	})))

	bad("replayed_claim", "next claimable is 1", spec{on: first, beacon: b24, slot: 25, claims: claims(c(0, b24, nil))})
	bad("replayed_in_same_block", "next claimable is 1", at(on1, b24, c(0, b24, nil), c(0, b24, nil)))
	bad("out_of_order", "next claimable is 0", at(on1, b24, c(1, b24, nil)))
	bad("gap_in_nonces", "next claimable is 1", at(on1, b24, c(0, b24, nil), c(3, b24, nil)))
	bad("wrong_receipt_branch", "receipt is not at index", at(on1, b24, c(0, b24, func(c *st.ReceiptClaim) { c.ReceiptBranch[3][0] ^= 1 })))
	bad("wrong_receipt_index", "receipt is not at index", at(on1, b24, c(0, b24, func(c *st.ReceiptClaim) { c.ReceiptIndex = 1 })))
	bad("tampered_amount", "receipt is not at index", at(on1, b24, c(0, b24, func(c *st.ReceiptClaim) { c.Receipt.Amount++ })))
	bad("header_of_other_slot", "does not match receipt", at(on1, b24, c(0, b24, func(c *st.ReceiptClaim) { c.Header.Slot = 2 })))
	bad("wrong_header_branch", "is not at index", at(on1, b24, c(0, b24, func(c *st.ReceiptClaim) { c.HeaderBranch[0][0] ^= 1 })))
	bad("wrong_header_index", "is not at index", at(on1, b24, c(0, b24, func(c *st.ReceiptClaim) { c.HeaderIndex = 1 })))
	bad("wrong_destination_shard", "cannot be claimed on shard 2", at(on2, b24, c(0, b24, nil)))
	bad("not_crosslinked", "does not end at the current crosslink", at(on1, b24none, c(0, b24none, nil)))
	bad("stale_crosslink_chain", "does not end at the current crosslink", at(on1, b24chain, c(0, b24chain, nil)))
	fake := bt.Crosslink{Shard: 0, ParentRoot: w.c0.TreeRoot(), StartEpoch: 1, EndEpoch: 2, DataRoot: hash.Hash([]byte("not a data root"))}
	bad("broken_crosslink_chain", "does not follow", at(on1, b24chain, c(0, b24chain, chain(w.c0, fake, w.c1))))
	bad("no_crosslinks", "without crosslinks", at(on1, b24, c(0, b24, chain())))
	// A fraudulent source block at slot 2 commits to a receipt that says it
	// was sent at slot 1; crosslinked, its proof and the crosslink's are
	// valid: only the receipt's src_slot against the header's slot tells.
	t0 := g.genesisTip(0)
	var forged []st.Receipt
	liar := g.build(spec{on: t0, beacon: gen, slot: 2, txs: txs(g.tx(0, 7, 0, 1, 9, 300)), edit: func(b *st.ShardBlock) {
		_, forged = lenient(t0.state, gen, b)
		forged[0].SrcSlot = 1
		b.ReceiptsRoot = check(st.ReceiptsRoot(forged))
	}})
	liarHdr := check(liar.Header())
	liarRoots := []bt.Root{liarHdr.SigningRoot()}
	liarCL := bt.Crosslink{Shard: 0, ParentRoot: gen.CurrentCrosslinks[0].TreeRoot(), StartEpoch: 0, EndEpoch: 1,
		DataRoot: check(core.CrosslinkDataRoot(g.cfg, liarRoots))}
	liarB24 := g.block(g.history(written(8, liarCL)), 24)
	liarClaim := g.window(&st.ReceiptClaim{Receipt: forged[0], ReceiptBranch: check(st.ReceiptProof(forged, 0)),
		Header: liarHdr, HeaderBranch: check(core.HeaderProof(g.cfg, liarRoots, 0)), Crosslinks: []*bt.Crosslink{&liarCL}}, liarB24)
	bad("receipt_src_slot_mismatch", "does not match receipt", at(on1, liarB24, liarClaim))
	shifted := w.c0
	shifted.StartEpoch, shifted.EndEpoch = 1, 2
	b32 := g.block(g.history(written(16, shifted)), 32)
	bad("header_outside_crosslink_range", "outside crosslink", at(on1, b32, c(0, b32, chain(shifted))))
}

// --- crosslink/data_root -----------------------------------------------------

func (g *generator) dataRootCases() {
	headers := func(slots []bt.Slot) []st.ShardBlockHeader {
		var out []st.ShardBlockHeader
		parent := g.ghdrs[3].SigningRoot()
		for i, s := range slots {
			h := st.ShardBlockHeader{
				Slot: s, Shard: 3, ProposerIndex: bt.ValidatorIndex(i * 7 % Validators), ParentRoot: parent,
				BeaconBlockRoot: hash.Hash(fmt.Appendf(nil, "beacon block %d", s)),
				StateRoot:       hash.Hash(fmt.Appendf(nil, "state %d", s)),
				ReceiptsRoot:    hash.Hash(fmt.Appendf(nil, "receipts %d", s)),
				BodyRoot:        hash.Hash(fmt.Appendf(nil, "body %d", s)),
			}
			out = append(out, h)
			parent = h.SigningRoot()
		}
		return out
	}
	span := func(from, n int) []bt.Slot {
		var out []bt.Slot
		for i := range n {
			out = append(out, bt.Slot(from+i))
		}
		return out
	}
	write := func(name string, hs []st.ShardBlockHeader, valid bool) {
		// headers.ssz: List[ShardBlockHeader, MAX_CROSSLINK_HEADERS], whose
		// SSZ encoding is the concatenation of the (fixed-size) headers.
		var list []byte
		roots := make([]bt.Root, len(hs))
		for i := range hs {
			list = append(list, check(hs[i].MarshalSSZ())...)
			roots[i] = hs[i].SigningRoot()
		}
		files := []file{{"headers.ssz", list}}
		dr, err := core.CrosslinkDataRoot(g.cfg, roots)
		if valid != (err == nil) {
			fail("crosslink/data_root/%s: valid %v, error %v", name, valid, err)
		}
		if valid {
			out := DataRoot{DataRoot: dr.String(), HeaderRoots: []string{}, Branches: [][]string{}}
			for i, r := range roots {
				out.HeaderRoots = append(out.HeaderRoots, r.String())
				var b []string
				for _, x := range check(core.HeaderProof(g.cfg, roots, i)) {
					b = append(b, x.String())
				}
				out.Branches = append(out.Branches, b)
			}
			files = append(files, file{"data_root.yaml", check(yaml.Marshal(&out))})
		}
		g.writeCase(RunnerCrosslink, HandlerDataRoot, name, files...)
	}
	limit := int(core.MaxCrosslinkHeaders(g.cfg))
	write("empty", nil, true)
	write("one_header", headers(span(1, 1)), true)
	write("two_headers", headers(span(1, 2)), true)
	write("headers_with_gaps", headers([]bt.Slot{1, 2, 5, 6, 7}), true)
	write("one_epoch", headers(span(8, int(g.cfg.SlotsPerEpoch))), true)
	write("full_range", headers(span(8, limit)), true)
	write("over_the_limit", headers(span(8, limit+1)), false)
}

// --- fraud_proof/verify ------------------------------------------------------

func cloneProof(p *st.ShardFraudProof) *st.ShardFraudProof {
	var c st.ShardFraudProof
	must(bt.Decode(&c, check(p.MarshalSSZ())))
	return &c
}

// whistleblower is the fisherman's validator: never the block's proposer.
func whistleblower(b *st.ShardBlock) bt.ValidatorIndex { return (b.ProposerIndex + 1) % Validators }

// prove builds the fraud proof of b (on on, referencing beacon), signed by
// its whistleblower.
func (g *generator) prove(on tip, beacon *bt.BeaconState, b *st.ShardBlock, ev core.FraudEvidence) *st.ShardFraudProof {
	bh := check(BeaconBlockHeader(beacon))
	wb := whistleblower(b)
	return check(g.fv.BuildFraudProof(g.tr, on.state, &on.hdr, b, &bh, beacon, ev, wb, g.key(wb)))
}

// mutate returns a copy of p, edited and signed again by its whistleblower
// (when in range) with the domain of state.
func (g *generator) mutate(p *st.ShardFraudProof, state *bt.BeaconState, edit func(p *st.ShardFraudProof)) *st.ShardFraudProof {
	c := cloneProof(p)
	edit(c)
	must(core.SignFraudProof(g.tr, c, g.key(c.Whistleblower%Validators)))
	return c
}

// fraudCase writes a fraud_proof/verify case and returns its post-state.
func (g *generator) fraudCase(name string, pre *bt.BeaconState, proof []byte, want string) *bt.BeaconState {
	post := pre.Copy()
	err := g.tr.ProcessShardFraudProof(post, proof, bcore.VerifySigs)
	expectOutcome(RunnerFraudProof+"/"+HandlerVerify+"/"+name, err, want)
	files := []file{sszFile("pre.ssz", pre), {"proof.ssz", proof}, blsRequired}
	if want == "" {
		files = append(files, sszFile("post.ssz", post))
	}
	g.writeCase(RunnerFraudProof, HandlerVerify, name, files...)
	return post
}

// multiproof is a witness of the given chunks of s.
func (g *generator) multiproof(s *st.ShardState, indices []uint64) st.Multiproof {
	return multiproofOf(check(s.NodeFunc()), indices)
}

// multiproofOf is a witness of the given chunks of the tree nodes serves.
func multiproofOf(nodes func(uint64) ([32]byte, error), indices []uint64) st.Multiproof {
	sorted, leaves, helpers, err := hash.BuildMultiproof(nodes, indices)
	must(err)
	m := st.Multiproof{Indices: sorted, Leaves: make([]bt.Root, len(leaves)), Helpers: make([]bt.Root, len(helpers))}
	for i := range leaves {
		m.Leaves[i] = leaves[i]
	}
	for i := range helpers {
		m.Helpers[i] = helpers[i]
	}
	return m
}

// bitlistAll is the SSZ bitlist of n set bits.
func bitlistAll(n int) []byte {
	b := make([]byte, n/8+1)
	for i := range n {
		b[i/8] |= 1 << (i % 8)
	}
	b[n/8] |= 1 << (n % 8)
	return b
}

func enc(p *st.ShardFraudProof) []byte { return check(p.MarshalSSZ()) }

func (g *generator) fraudCases() {
	ok := func(name string, pre *bt.BeaconState, p *st.ShardFraudProof) *bt.BeaconState {
		return g.fraudCase(name, pre, enc(p), "")
	}
	bad := func(name, want string, pre *bt.BeaconState, p []byte) { g.fraudCase(name, pre, p, want) }
	gen := g.genesis
	t0 := g.genesisTip(0)
	bal := g.genesisBalance()
	base := func(edit func(b *st.ShardBlock)) spec {
		return spec{on: t0, beacon: gen, slot: 1, txs: txs(g.tx(0, 1, 0, 0, 2, 1000), g.tx(0, 3, 0, 1, 4, 77)), edit: edit}
	}
	v := g.advance(gen, 3) // verifies proofs of blocks referencing the genesis beacon block

	wrongState := g.build(base(func(b *st.ShardBlock) { b.StateRoot[3] ^= 0xff }))
	pWrongState := g.prove(t0, gen, wrongState, core.FraudEvidence{})
	afterWrongState := ok("wrong_state_root", v, pWrongState)
	ok("wrong_receipts_root", v, g.prove(t0, gen, g.build(base(func(b *st.ShardBlock) { b.ReceiptsRoot[0] ^= 1 })), core.FraudEvidence{}))
	badSig := g.tx(0, 1, 0, 0, 2, 1000)
	badSig.Signature[0] ^= 1
	invalidTx := func(t ...*st.Transaction) *st.ShardFraudProof {
		return g.prove(t0, gen, g.build(spec{on: t0, beacon: gen, slot: 1, txs: t}), core.FraudEvidence{})
	}
	ok("invalid_tx_signature", v, invalidTx(g.tx(0, 3, 0, 1, 4, 77), badSig))
	ok("invalid_tx_nonce", v, invalidTx(g.tx(0, 1, 0, 0, 2, 10), g.tx(0, 1, 0, 0, 2, 10)))
	ok("invalid_tx_overdraft", v, invalidTx(g.tx(0, 1, 0, 1, 2, bal+1)))
	ok("invalid_block_slot", v, g.prove(t0, gen, g.build(spec{on: t0, beacon: gen, slot: 0}), core.FraudEvidence{}))

	// Blocks with claims: the proofs carry a witness of the beacon state's crosslinks.
	// Blocks with claims: the proofs carry a witness of the beacon state's
	// crosslinks and of the state_roots entry of the window slot.
	w := g.newClaimWorld()
	withC0 := g.history(written(8, w.c0))
	b15 := g.block(withC0, 15) // window slot 7: c0 not yet current
	b24 := g.block(withC0, 24)
	on1 := g.genesisTip(1)
	// The claim is early: only the state root of the window slot, which the
	// beacon witness reveals, shows it.
	early := g.build(spec{on: on1, beacon: b15, slot: 15, claims: claims(g.claim(w, 0, b15, nil))})
	pEarly := g.prove(on1, b15, early, core.FraudEvidence{})
	if !slices.Contains(pEarly.BeaconWitness.Indices, bt.GIndexStateRoot(g.cfg.SlotsPerHistoricalRoot, 7)) {
		fail("the proof of an early claim does not reveal state_roots[7]")
	}
	ok("invalid_claim_in_block", g.advance(b15, 17), pEarly)
	claimBlock := g.build(spec{on: on1, beacon: b24, slot: 24, claims: claims(g.claim(w, 0, b24, nil), g.claim(w, 1, b24, nil)),
		edit: func(b *st.ShardBlock) { b.StateRoot[0] ^= 1 }})
	v26 := g.advance(b24, 26)
	pClaim := g.prove(on1, b24, claimBlock, core.FraudEvidence{})
	ok("wrong_state_root_with_claims", v26, pClaim)
	bad("missing_beacon_witness", "incomplete witness", v26, enc(g.mutate(pClaim, v26, func(p *st.ShardFraudProof) {
		p.BeaconWitness = st.Multiproof{}
	})))
	// The beacon witness reveals the source shard's crosslink but not the
	// state root of the window slot.
	bad("missing_state_root_witness", "incomplete witness", v26, enc(g.mutate(pClaim, v26, func(p *st.ShardFraudProof) {
		sr := bt.GIndexStateRoot(g.cfg.SlotsPerHistoricalRoot, 16)
		if !slices.Contains(p.BeaconWitness.Indices, sr) {
			fail("the proof of a block with claims does not reveal state_roots[16]")
		}
		keep := slices.DeleteFunc(slices.Clone(p.BeaconWitness.Indices), func(gi uint64) bool { return gi == sr })
		p.BeaconWitness = multiproofOf(check(b24.NodeFunc()), keep)
	})))

	// The block crosslinked, with an attestation of four validators.
	hdr := check(wrongState.Header())
	roots := []bt.Root{hdr.SigningRoot()}
	parentCL := v.CurrentCrosslinks[0]
	cl := bt.Crosslink{Shard: 0, ParentRoot: parentCL.TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: check(core.CrosslinkDataRoot(g.cfg, roots))}
	vc := v.Copy()
	vc.CurrentCrosslinks[0] = cl
	hb := check(core.HeaderProof(g.cfg, roots, 0))
	attest := func(indices ...uint64) *st.CrosslinkEvidence {
		data := bt.AttestationData{Target: bt.Checkpoint{Epoch: 0}, Crosslink: cl}
		msg := (&bt.AttestationDataAndCustodyBit{Data: data}).TreeRoot()
		domain := g.tr.Domain(vc, g.cfg.DomainAttestation, 0)
		var sigs []*bls.Signature
		for _, i := range indices {
			sigs = append(sigs, g.key(bt.ValidatorIndex(i)).Sign(msg, domain))
		}
		ia := bt.IndexedAttestation{CustodyBit0Indices: indices, Data: data,
			Signature: bt.BLSSignature(bls.AggregateSignatures(sigs).Bytes())}
		return &st.CrosslinkEvidence{Attestation: ia, HeaderIndex: 0, HeaderBranch: hb}
	}
	rollback := &st.CrosslinkRollback{Parent: parentCL, Chain: []*bt.Crosslink{&cl}, HeaderIndex: 0, HeaderBranch: hb}
	evidence := core.FraudEvidence{Attestations: []*st.CrosslinkEvidence{attest(10, 11, 12, 13)}}
	ok("with_crosslink_evidence", vc, g.prove(t0, gen, wrongState, evidence))
	ok("with_two_attestations", vc, g.prove(t0, gen, wrongState, core.FraudEvidence{
		Attestations: []*st.CrosslinkEvidence{attest(10, 11), attest(20, 21, 22)}}))
	ok("with_rollback", vc, g.prove(t0, gen, wrongState, core.FraudEvidence{Rollback: rollback}))
	pBoth := g.prove(t0, gen, wrongState, core.FraudEvidence{Attestations: evidence.Attestations, Rollback: rollback})
	afterBoth := ok("with_evidence_and_rollback", vc, pBoth)
	slashedVC := vc.Copy()
	must(g.tr.ProcessShardFraudProof(slashedVC, enc(pWrongState), bcore.VerifySigs))
	ok("rollback_after_proposer_slashed", slashedVC, g.prove(t0, gen, wrongState, core.FraudEvidence{Rollback: rollback}))

	// A rollback also slashes the attesters of pending votes for the voided
	// crosslink, which would otherwise write it back at the epoch transition.
	committee := check(g.tr.CrosslinkCommittee(vc, 0, 0))
	pending := vc.Copy()
	pending.CurrentEpochAttestations = []bt.PendingAttestation{{
		AggregationBits: bitlistAll(len(committee)), InclusionDelay: 1,
		Data: bt.AttestationData{Target: bt.Checkpoint{Epoch: 0}, Crosslink: cl},
	}}
	ok("rollback_slashes_pending_voters", pending, g.prove(t0, gen, wrongState, core.FraudEvidence{Rollback: rollback}))
	// A shard's first crosslink has the genesis Crosslink() (of shard 0) as
	// parent: shard 1 rolls back to it.
	on1g := g.genesisTip(1)
	bad1 := g.build(spec{on: on1g, beacon: gen, slot: 1, txs: txs(g.tx(1, 1, 0, 0, 2, 5)),
		edit: func(b *st.ShardBlock) { b.StateRoot[5] ^= 1 }})
	hdr1 := check(bad1.Header())
	roots1 := []bt.Root{hdr1.SigningRoot()}
	cl1 := bt.Crosslink{Shard: 1, ParentRoot: v.CurrentCrosslinks[1].TreeRoot(), StartEpoch: 0, EndEpoch: 1,
		DataRoot: check(core.CrosslinkDataRoot(g.cfg, roots1))}
	vc1 := v.Copy()
	vc1.CurrentCrosslinks[1] = cl1
	ok("rollback_to_genesis_crosslink", vc1, g.prove(on1g, gen, bad1, core.FraudEvidence{Rollback: &st.CrosslinkRollback{
		Parent: v.CurrentCrosslinks[1], Chain: []*bt.Crosslink{&cl1}, HeaderBranch: check(core.HeaderProof(g.cfg, roots1, 0))}}))

	// Rejections.
	honest := g.build(base(nil))
	bad("whistleblower_is_proposer", "one of the offenders", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) {
		p.Whistleblower = p.Block.ProposerIndex
	})))
	wb := whistleblower(wrongState)
	pair := []uint64{uint64(wb), uint64(wb) + 1} // sorted attesting indices that include the whistleblower
	if wb == Validators-1 {
		pair = []uint64{uint64(wb) - 1, uint64(wb)}
	}
	bad("whistleblower_is_crosslink_attester", "one of the offenders", vc, enc(g.prove(t0, gen, wrongState, core.FraudEvidence{
		Attestations: []*st.CrosslinkEvidence{attest(pair...)}})))
	slashedWB := v.Copy()
	slashedWB.Validators[wb].Slashed = true
	bad("whistleblower_slashed", "is slashed", slashedWB, enc(pWrongState))
	bad("honest_block", "the block is valid", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) { p.Block = *honest })))
	bad("missing_state_witness", "incomplete witness", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) {
		// A witness that hashes to the parent's state root but leaves out
		// account 2, which the block credits.
		var keep []uint64
		for _, gi := range p.StateWitness.Indices {
			if gi>>2 != st.GIndexAccountField(2, 0)>>2 {
				keep = append(keep, gi)
			}
		}
		p.StateWitness = g.multiproof(t0.state, keep)
	})))
	bad("tampered_state_witness", "witness root", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) {
		p.StateWitness.Helpers[0][0] ^= 1
	})))
	otherSigner := cloneProof(pWrongState)
	must(core.SignFraudProof(g.tr, otherSigner, g.key((otherSigner.Whistleblower+1)%Validators)))
	bad("bad_whistleblower_signature", "bad whistleblower signature", v, enc(otherSigner))
	stolen := cloneProof(pWrongState)
	stolen.Whistleblower = (stolen.Whistleblower + 7) % Validators
	bad("stolen_proof", "bad whistleblower signature", v, enc(stolen))
	unsigned := cloneProof(pWrongState)
	unsigned.Signature = bt.BLSSignature{}
	bad("unsigned_proof", "whistleblower signature", v, enc(unsigned))
	bad("bad_proposer_signature", "bad shard proposer signature", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) {
		must(core.SignBlock(g.tr, &p.Block, g.key((p.Block.ProposerIndex+2)%Validators)))
	})))
	bad("wrong_parent_header", "parent header", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) { p.ParentHeader.Slot++ })))
	bad("wrong_beacon_header", "beacon header", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) { p.BeaconHeader.Slot++ })))
	far := g.advance(v, bt.Slot(g.cfg.SlotsPerHistoricalRoot+1))
	bad("beacon_block_out_of_lookback", "recent history", far, enc(pWrongState))
	bad("beacon_block_not_yet_in_history", "recent history", gen, enc(pWrongState))
	other := v.Copy()
	other.BlockRoots[0][0] ^= 1
	bad("beacon_block_of_other_chain", "recent history", other, enc(pWrongState))
	bad("second_proof_same_offence", "slashes nobody", afterWrongState, enc(pWrongState))
	bad("second_proof_after_rollback", "the chain does not end at the current crosslink", afterBoth, enc(pBoth))
	forged := *evidence.Attestations[0]
	forged.Attestation.CustodyBit0Indices = []uint64{10, 11, 12, 14}
	bad("forged_crosslink_evidence", "evidence 0", vc, enc(g.prove(t0, gen, wrongState, core.FraudEvidence{
		Attestations: []*st.CrosslinkEvidence{&forged}})))
	misplaced := *evidence.Attestations[0]
	misplaced.HeaderIndex = 1
	bad("evidence_header_not_in_crosslink", "is not at index 1", vc, enc(g.prove(t0, gen, wrongState, core.FraudEvidence{
		Attestations: []*st.CrosslinkEvidence{&misplaced}})))
	bad("rollback_not_on_current_chain", "does not end at the current crosslink", v, enc(g.prove(t0, gen, wrongState, core.FraudEvidence{Rollback: rollback})))
	wrongParent := *rollback
	wrongParent.Parent.EndEpoch++
	bad("rollback_wrong_parent", "rollback parent", vc, enc(g.prove(t0, gen, wrongState, core.FraudEvidence{Rollback: &wrongParent})))
	bad("whistleblower_out_of_range", "out of range", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) { p.Whistleblower = Validators })))
	bad("shard_out_of_range", "block of shard", v, enc(g.mutate(pWrongState, v, func(p *st.ShardFraudProof) {
		p.Block.Shard = bt.Shard(g.cfg.ShardCount)
		must(core.SignBlock(g.tr, &p.Block, g.key(p.Block.ProposerIndex)))
	})))
	bad("malformed_ssz", "invalid ssz", v, enc(pWrongState)[:100])
	bad("empty_proof", "invalid ssz", v, []byte{})
}

// Counts returns the case counts of Generate as sorted "runner/handler: n" lines.
func Counts(counts map[string]int) []string {
	var out []string
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(out)
	return out
}
