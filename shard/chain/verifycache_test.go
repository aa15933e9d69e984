package chain

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/crypto/sigcache"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestTxVerifiedOnce checks that a transaction admitted to the pool is not
// verified again when a block carrying it is imported, that a changed
// signature is still rejected, and that services sharing the BLS cache
// verify a block's proposer signature once.
func TestTxVerifiedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	txs := sigcache.New(64)
	blsCache := bls.NewVerifyCache(64)
	open := func(name string) *Service {
		c := f.config(t, 2, newMemDB())
		c.TxCache, c.VerifyCache = txs, blsCache
		c.Logger = testLogger(name)
		s, err := New(c)
		mustNoErr(t, err, "new")
		return s
	}
	a, b := open("a"), open("b")
	tx := f.transfer(2, 3, 0, 2, 4, 100)
	mustNoErr(t, b.AddTransaction(tx), "admit to b")
	if s := txs.Stats(); s.Misses != 1 || s.Entries != 1 {
		t.Fatalf("after admission: %+v, want one miss and one entry", s)
	}

	// The same transaction with another (valid) signature is rejected.
	forged := *tx
	forged.Signature = f.transfer(2, 3, 0, 2, 4, 101).Signature
	if err := a.AddTransaction(&forged); !errors.Is(err, ErrInvalidTx) {
		t.Fatalf("another transaction's signature: %v", err)
	}

	f.beacon.advance(t, 1, nil)
	mustNoErr(t, a.AddTransaction(tx), "admit to a") // a hit
	before := txs.Stats()
	built := f.propose(t, a, 1) // a builds without checking signatures
	if len(built.Block.Body.Transactions) != 1 {
		t.Fatalf("block with %d transactions", len(built.Block.Body.Transactions))
	}
	blsBefore := blsCache.Stats()
	_, err := b.ImportBlock(built.Block)
	mustNoErr(t, err, "import")
	after := txs.Stats()
	if after.Hits-before.Hits != 1 || after.Misses != before.Misses {
		t.Fatalf("import: %d hits, %d misses, want 1 hit and no miss", after.Hits-before.Hits, after.Misses-before.Misses)
	}
	if got := blsCache.Stats().Misses - blsBefore.Misses; got != 1 {
		t.Fatalf("proposer signature: %d misses, want 1", got)
	}

	// A third service sharing the caches verifies nothing again.
	c := open("c")
	blsMid := blsCache.Stats()
	_, err = c.ImportBlock(built.Block)
	mustNoErr(t, err, "import by c")
	if s := blsCache.Stats(); s.Misses != blsMid.Misses || s.Hits != blsMid.Hits+1 {
		t.Fatalf("proposer signature on c: stats %+v after %+v, want one hit", s, blsMid)
	}
	if s := txs.Stats(); s.Misses != after.Misses {
		t.Fatalf("c verified %d transaction signatures again", s.Misses-after.Misses)
	}

	// A correctly signed block carrying the re-signed copy (built without
	// checking signatures) is fraud, although the original is cached.
	f.beacon.advance(t, 2, nil)
	root, head := f.beacon.headState()
	parent := b.Head()
	ctx := shardcore.BlockContext{Parent: &parent.Header, BeaconRoot: root, Beacon: head}
	next := forged
	next.Nonce = 1
	next.Signature = tx.Signature // the cached signature, on other contents
	fraud, err := shardcore.BuildBlock(f.tr, ctx, b.HeadState(), 2, []*st.Transaction{&next}, nil, nil,
		shardcore.ExecOptions{SkipTxSignatures: true})
	mustNoErr(t, err, "build")
	sk, _ := f.keys.SecretKey(uint64(fraud.Block.ProposerIndex))
	mustNoErr(t, shardcore.SignBlock(f.tr, fraud.Block, sk), "sign")
	var ferr *FraudError
	if _, err := b.ImportBlock(fraud.Block); !errors.As(err, &ferr) || !errors.Is(err, ErrFraudulent) {
		t.Fatalf("block with a transaction under a cached signature of another: %v", err)
	}
}
