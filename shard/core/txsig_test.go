package core

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/sigcache"
	st "github.com/shardlab/shardlab/shard/types"
)

func TestComputeTxDomain(t *testing.T) {
	cfg := params.Minimal().WithShards()
	root := bt.Root{1}
	base := ComputeTxDomain(cfg, root)
	otherVersion := params.Minimal().WithShards()
	otherVersion.Shard.ForkVersion[3] ^= 1
	otherType := params.Minimal().WithShards()
	otherType.Shard.DomainTransaction = otherType.Shard.DomainFraudProof
	tests := []struct {
		name string
		got  TxDomain
	}{
		{"another genesis root", ComputeTxDomain(cfg, bt.Root{2})},
		{"the zero genesis root", ComputeTxDomain(cfg, bt.Root{})},
		{"another shard fork version", ComputeTxDomain(otherVersion, root)},
		{"another domain type", ComputeTxDomain(otherType, root)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got == base || tc.got.IsZero() {
				t.Fatalf("domain %x, base %x", tc.got, base)
			}
		})
	}
	if [4]byte(base[:4]) != cfg.Shard.DomainTransaction {
		t.Fatalf("domain %x does not start with DOMAIN_SHARD_TRANSACTION", base)
	}
}

// TestTxReplayAcrossChains: chains A and B differ only in their genesis
// time, so their validators and shard accounts are the same, and a
// transaction valid on A would be valid on B but for its signature.
func TestTxReplayAcrossChains(t *testing.T) {
	a := newFixture(t)
	b := newFixtureAt(t, a.beacon.GenesisTime+params.SecondsPerDay)
	if a.fv.GenesisRoot == b.fv.GenesisRoot || a.opts.TxDomain == b.opts.TxDomain {
		t.Fatal("chains A and B share their transaction domain")
	}
	signedForA := a.tx(t, 0, 1, 0, 0, 2, 1000)
	// The v0.8.3-style message without the chain: signing_root(tx) ++
	// compute_shard_domain(DOMAIN_SHARD_TRANSACTION).
	unbound := &st.Transaction{Shard: 0, From: 1, Nonce: 0, ToShard: 0, To: 2, Amount: 1000}
	r, d := unbound.SigningRoot(), ShardDomain(a.cfg, a.cfg.Shard.DomainTransaction)
	copy(unbound.Signature[:], ed25519.Sign(AccountKey(0, 1), append(r[:], d[:]...)))

	tests := []struct {
		name  string
		on    *fixture
		tx    *st.Transaction
		valid bool
	}{
		{"signed for A on A", a, signedForA, true},
		{"signed for A on B", b, signedForA, false},
		{"unbound message on A", a, unbound, false},
		{"unbound message on B", b, unbound, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.on
			blk := &st.ShardBlock{Slot: 1, Shard: 0, BeaconBlockRoot: f.beaconRoot, Body: st.ShardBlockBody{Transactions: []*st.Transaction{tc.tx}}}
			_, err := ExecuteBlock(f.cfg, FullView{S: f.shards[0].Copy()}, FullBeaconView{S: f.beacon}, blk, f.opts)
			if tc.valid != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidShardBlock)) {
				t.Fatalf("execute: %v, want valid=%v", err, tc.valid)
			}
			if got := VerifyTx(f.opts.TxDomain, f.shards[0].Accounts[1].Pubkey, tc.tx); got != tc.valid {
				t.Fatalf("VerifyTx %v, want %v", got, tc.valid)
			}
			// A proposer of f's chain leaves it out.
			built, err := BuildBlock(f.tr, f.ctx(0), f.shards[0], 1, []*st.Transaction{tc.tx}, nil, f.proposerKey(t, 0, 1), f.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(built.Block.Body.Transactions) == 1; got != tc.valid {
				t.Fatalf("included %v, want %v (skipped %v)", got, tc.valid, built.Skipped)
			}
		})
	}
}

// TestFraudProofOfReplayedTx: a block of chain B carrying a transaction
// signed for chain A is invalid on B, and B's verifier accepts the proof.
// A verifier without a genesis root rejects every proof (it could take a
// valid block for a fraudulent one) and execution without a domain fails.
func TestFraudProofOfReplayedTx(t *testing.T) {
	a := newFixture(t)
	b := newFixtureAt(t, a.beacon.GenesisTime+params.SecondsPerDay)
	replayed := a.tx(t, 0, 1, 0, 0, 2, 1000)
	built, err := BuildBlock(b.tr, b.ctx(0), b.shards[0], 1, nil, nil, nil, b.opts)
	if err != nil {
		t.Fatal(err)
	}
	blk := built.Block
	blk.Body.Transactions = []*st.Transaction{replayed}
	if err := SignBlock(b.tr, blk, b.proposerKey(t, 0, 1)); err != nil {
		t.Fatal(err)
	}
	wb := (blk.ProposerIndex + 1) % 64
	sk, _ := b.keys.SecretKey(uint64(wb))
	p, err := b.fv.BuildFraudProof(b.tr, b.shards[0], &b.genesis[0], blk, &b.beaconHdr, b.beacon, FraudEvidence{}, wb, sk)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	data, err := p.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	v := b.beacon.Copy()
	v.Slot++
	v.BlockRoots[uint64(b.beacon.Slot)%b.cfg.SlotsPerHistoricalRoot] = b.beaconRoot
	if _, err := b.fv.VerifyFraudProof(b.tr, v, data, bcore.VerifySigs); err != nil {
		t.Fatalf("verify on B: %v", err)
	}
	if _, err := (FraudVerifier{}).VerifyFraudProof(b.tr, v, data, bcore.VerifySigs); !errors.Is(err, ErrNoTxDomain) {
		t.Fatalf("verifier without a genesis root: %v", err)
	}
	if _, err := ExecuteBlock(b.cfg, FullView{S: b.shards[0].Copy()}, FullBeaconView{S: b.beacon}, blk, ExecOptions{}); !errors.Is(err, ErrNoTxDomain) || errors.Is(err, bcore.ErrInvalid) {
		t.Fatalf("execution without a domain: %v", err)
	}
}

// TestTxSignatureGolden pins compute_transaction_message with the example
// of docs/api.md: interop account 5 of shard 0, signed for the genesis of
// the docs' network (the minimal 64-validator interop genesis).
func TestTxSignatureGolden(t *testing.T) {
	cfg := params.Minimal().WithShards()
	genesisRoot := mustRoot(t, "0x04d86e776486133c712dc554010754e874d15db779e70315fc325422e87207c3")
	tx := &st.Transaction{Shard: 0, From: 5, Nonce: 0, ToShard: 1, To: 9, Amount: 100}
	sig, err := hex.DecodeString("597ec602a5d500f16b289e4f3afcea57544460022e8d7efb169fdaf5baa6c8f67e37158047ae89b59082001b924945b85a74ed83ad780e398b505c4b4e0bbf01")
	if err != nil {
		t.Fatal(err)
	}
	copy(tx.Signature[:], sig)
	d := ComputeTxDomain(cfg, genesisRoot)
	if got := TxMessage(d, tx); got != mustRoot(t, "0x9ed0a2e9c74cbe4328cbeee65c214615a65a5f014c08acab19ba2faf3d36a811") {
		t.Fatalf("message %s", got)
	}
	pub := [32]byte(AccountKey(0, 5).Public().(ed25519.PublicKey))
	if !VerifyTx(d, pub, tx) {
		t.Fatal("the docs' example does not verify on its network")
	}
	if VerifyTx(ComputeTxDomain(cfg, bt.Root{1}), pub, tx) {
		t.Fatal("the docs' example verifies on another network")
	}
}

func mustRoot(t *testing.T, s string) bt.Root {
	t.Helper()
	b, err := hex.DecodeString(s[2:])
	if err != nil || len(b) != 32 {
		t.Fatalf("root %q", s)
	}
	return bt.Root(b)
}

// TestVerifyTxCached checks each input of a transaction check after a
// cached success: a change to any of them must miss and be verified.
func TestVerifyTxCached(t *testing.T) {
	cfg := params.Minimal().WithShards()
	d := ComputeTxDomain(cfg, bt.Root{1})
	pk := AccountPubkeys(cfg, 0)
	tx := &st.Transaction{Shard: 0, From: 1, Nonce: 0, ToShard: 0, To: 2, Amount: 1000}
	SignTx(d, tx, AccountKey(0, 1))
	other := *tx
	other.Amount = 999
	SignTx(d, &other, AccountKey(0, 1))
	otherSig := *tx
	otherSig.Signature = other.Signature
	tests := []struct {
		name string
		d    TxDomain
		pub  [32]byte
		tx   *st.Transaction
		want bool
	}{
		{name: "same check hits", d: d, pub: pk[1], tx: tx, want: true},
		{name: "wrong signature", d: d, pub: pk[1], tx: &otherSig},
		{name: "wrong key", d: d, pub: pk[2], tx: tx},
		{name: "wrong message", d: d, pub: pk[1], tx: &st.Transaction{Shard: 0, From: 1, ToShard: 0, To: 2, Amount: 999, Signature: tx.Signature}},
		{name: "wrong domain", d: ComputeTxDomain(cfg, bt.Root{2}), pub: pk[1], tx: tx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := sigcache.New(8)
			if !VerifyTxCached(c, d, pk[1], tx) {
				t.Fatal("valid transaction rejected")
			}
			if got := VerifyTxCached(c, tc.d, tc.pub, tc.tx); got != tc.want {
				t.Fatalf("after a cached success: got %v, want %v", got, tc.want)
			}
			if got := c.Stats().Hits; (got == 1) != tc.want {
				t.Fatalf("%d hits", got)
			}
		})
	}
}
