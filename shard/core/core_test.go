package core

import (
	"errors"
	"testing"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/crypto/bls"
	st "github.com/shardlab/shardlab/shard/types"
)

// fixture is a 64-validator minimal chain with the shard fork at genesis
// and the genesis states of two shards.
type fixture struct {
	cfg        *params.Config
	tr         *bcore.Transition
	keys       *validator.Keys
	beacon     *bt.BeaconState // genesis beacon state (post-state of the genesis block)
	beaconRoot bt.Root
	beaconHdr  bt.BeaconBlockHeader
	shards     [2]*st.ShardState
	genesis    [2]st.ShardBlockHeader
	fv         FraudVerifier // of this chain's genesis
	opts       ExecOptions   // full checks on this chain
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureAt(t, params.Minimal().MinGenesisTime)
}

// newFixtureAt is newFixture with another genesis time: another chain with
// the same validators and shard accounts.
func newFixtureAt(t *testing.T, genesisTime uint64) *fixture {
	t.Helper()
	cfg := params.Minimal().WithShards()
	cfg.Shard.Accounts = 16
	keys, err := validator.NewInteropKeys(0, 64)
	if err != nil {
		t.Fatal(err)
	}
	g, err := validator.InteropGenesis(bcore.New(cfg), 64, genesisTime, validator.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if g.Fork.CurrentVersion != bt.Version(cfg.Shard.ForkVersion) {
		t.Fatalf("genesis fork %v is not the shard fork", g.Fork)
	}
	root, err := g.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	hdr := g.LatestBlockHeader
	hdr.StateRoot = root
	fv := FraudVerifier{GenesisRoot: root}
	tr := bcore.New(cfg).WithShardFork(fv)
	f := &fixture{cfg: cfg, tr: tr, keys: keys, beacon: g, beaconHdr: hdr, beaconRoot: hdr.SigningRoot(),
		fv: fv, opts: ExecOptions{TxDomain: fv.TxDomain(cfg)}}
	for s := range f.shards {
		f.shards[s], err = st.GenesisState(cfg, bt.Shard(s), AccountPubkeys(cfg, bt.Shard(s)))
		if err != nil {
			t.Fatal(err)
		}
		if f.genesis[s], err = GenesisHeader(f.shards[s]); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) ctx(s int) BlockContext {
	return BlockContext{Parent: &f.genesis[s], BeaconRoot: f.beaconRoot, Beacon: f.beacon}
}

func (f *fixture) tx(t *testing.T, shard bt.Shard, from, nonce uint64, toShard bt.Shard, to uint64, amount bt.Gwei) *st.Transaction {
	t.Helper()
	tx := &st.Transaction{Shard: shard, From: from, Nonce: nonce, ToShard: toShard, To: to, Amount: amount}
	SignTx(f.opts.TxDomain, tx, AccountKey(shard, from))
	return tx
}

func (f *fixture) proposerKey(t *testing.T, shard bt.Shard, slot bt.Slot) *bls.SecretKey {
	t.Helper()
	p, err := ShardProposerIndex(f.tr, f.beacon, shard, slot)
	if err != nil {
		t.Fatal(err)
	}
	sk, ok := f.keys.SecretKey(uint64(p))
	if !ok {
		t.Fatalf("no key for proposer %d", p)
	}
	return sk
}

func TestBuildAndProcessBlock(t *testing.T) {
	f := newFixture(t)
	txs := []*st.Transaction{
		f.tx(t, 0, 1, 0, 0, 2, 1000),  // intra-shard
		f.tx(t, 0, 1, 1, 1, 3, 500),   // cross-shard send
		f.tx(t, 0, 1, 1, 0, 2, 10),    // replayed nonce: left out
		f.tx(t, 0, 4, 0, 0, 5, 1<<62), // more than the balance: left out
	}
	built, err := BuildBlock(f.tr, f.ctx(0), f.shards[0], 1, txs, nil, f.proposerKey(t, 0, 1), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(built.Block.Body.Transactions) != 2 || len(built.Skipped) != 2 || len(built.Receipts) != 1 {
		t.Fatalf("built %d txs, skipped %d, %d receipts", len(built.Block.Body.Transactions), len(built.Skipped), len(built.Receipts))
	}
	r := built.Receipts[0]
	if r.SrcShard != 0 || r.DstShard != 1 || r.Nonce != 0 || r.Recipient != 3 || r.Amount != 500 {
		t.Fatalf("receipt %+v", r)
	}
	post := f.shards[0].Copy()
	receipts, err := ProcessBlock(f.tr, f.ctx(0), post, built.Block, bcore.VerifySigs, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(receipts) != 1 || post.Accounts[1].Balance != bt.Gwei(f.cfg.Shard.GenesisBalance)-1500 || post.Accounts[2].Balance != bt.Gwei(f.cfg.Shard.GenesisBalance)+1000 {
		t.Fatalf("post balances %d %d", post.Accounts[1].Balance, post.Accounts[2].Balance)
	}
	if post.OutboxNonces[1] != 1 || post.Accounts[1].Nonce != 2 {
		t.Fatalf("nonces: outbox %d, account %d", post.OutboxNonces[1], post.Accounts[1].Nonce)
	}
	// Tampered copies are rejected.
	cases := map[string]func(b *st.ShardBlock){
		"state root":    func(b *st.ShardBlock) { b.StateRoot[0] ^= 1 },
		"receipts root": func(b *st.ShardBlock) { b.ReceiptsRoot[0] ^= 1 },
		"proposer":      func(b *st.ShardBlock) { b.ProposerIndex++ },
		"signature":     func(b *st.ShardBlock) { b.Signature[5] ^= 1 },
		"parent":        func(b *st.ShardBlock) { b.ParentRoot[0] ^= 1 },
		"slot":          func(b *st.ShardBlock) { b.Slot = 0 },
		"tx amount":     func(b *st.ShardBlock) { b.Body.Transactions[0].Amount++ },
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			b := cloneBlock(t, built.Block)
			mut(b)
			_, err := ProcessBlock(f.tr, f.ctx(0), f.shards[0].Copy(), b, bcore.VerifySigs, f.opts)
			if !errors.Is(err, ErrInvalidShardBlock) && !errors.Is(err, bcore.ErrInvalid) {
				t.Fatalf("tampered block: %v", err)
			}
		})
	}
}

func cloneBlock(t *testing.T, b *st.ShardBlock) *st.ShardBlock {
	t.Helper()
	data, err := b.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	var c st.ShardBlock
	if err := bt.Decode(&c, data); err != nil {
		t.Fatal(err)
	}
	return &c
}
