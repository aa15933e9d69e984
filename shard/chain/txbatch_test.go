package chain

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/crypto/sigcache"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestPreverifyTransactions checks that a batch's signatures are verified
// once into the TxCache (failures and other shards' transactions left
// out), and that admitting them afterwards only hits the cache while a bad
// signature is still refused.
func TestPreverifyTransactions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cache := sigcache.New(256)
	c := f.config(t, 2, newMemDB())
	c.TxCache = cache
	c.Logger = testLogger("pre")
	s, err := New(c)
	mustNoErr(t, err, "new")

	var batch []*st.Transaction
	for i := range uint64(32) {
		batch = append(batch, f.transfer(2, i%8, i/8, 2, 9, 10))
	}
	bad := *f.transfer(2, 0, 4, 2, 9, 10)
	bad.Amount++ // the signature no longer covers it
	other := *f.transfer(2, 1, 4, 2, 9, 10)
	other.Shard = 3
	out := *f.transfer(2, 2, 4, 2, 9, 10)
	out.From = s.pcfg.Shard.Accounts // out of range
	batch = append(batch, &bad, &other, &out)

	s.PreverifyTransactions(batch)
	if st := cache.Stats(); st.Entries != 32 || st.Hits != 0 {
		t.Fatalf("after preverify: %+v, want the 32 good signatures and no hit", st)
	}
	before := cache.Stats()
	for i, tx := range batch {
		err := s.AddTransaction(tx)
		switch i {
		case 32, 33, 34:
			if !errors.Is(err, ErrInvalidTx) {
				t.Fatalf("transaction %d: %v, want ErrInvalidTx", i, err)
			}
		default:
			mustNoErr(t, err, "admit")
		}
	}
	after := cache.Stats()
	if after.Hits-before.Hits != 32 || after.Misses-before.Misses != 1 || after.Entries != 32 {
		t.Fatalf("admission: %+v after %+v, want 32 hits and the one bad signature's miss", after, before)
	}
}
