package shardbench

import (
	"testing"

	"github.com/shardlab/shardlab/crypto/sigcache"
	"github.com/shardlab/shardlab/shard/core"
)

// BenchmarkShardExecPooled1024 executes the block of 1,024 transfers (and
// checks its roots) as a node does after admitting every transaction to its
// pool through its transaction cache ("admitted": each signature is a hit),
// against a node that saw none of them ("cold": no cache, every signature
// verified).
func BenchmarkShardExecPooled1024(b *testing.B) {
	f := execFixtureForBench(b)
	c := f.Chain
	n := len(f.Block.Body.Transactions)
	d := c.Verifier.TxDomain(c.Cfg)
	admitted := sigcache.New(2 * n)
	for _, tx := range f.Block.Body.Transactions {
		if !core.VerifyTxCached(admitted, d, f.Pre.Accounts[tx.From].Pubkey, tx) {
			b.Fatal("pool admission rejected a transaction")
		}
	}
	for _, bc := range []struct {
		name  string
		cache *sigcache.Cache
	}{
		{name: "cold", cache: nil},
		{name: "admitted", cache: admitted},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := c.Opts(false)
			opts.TxCache = bc.cache
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := f.Pre.Copy()
				b.StartTimer()
				if err := f.Execute(s, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
		})
	}
}

// BenchmarkRepeatedTx verifies the same transaction again and again:
// "uncached" is core.VerifyTx, "cached" a hit in a node's cache (the digest
// over key, message and signature, and a map lookup).
func BenchmarkRepeatedTx(b *testing.B) {
	c := chainForBench(b)
	pre, _, err := c.Shard(0)
	if err != nil {
		b.Fatal(err)
	}
	tx := c.NewTransfers(pre, 2).Next(-1, 0)
	d := c.Verifier.TxDomain(c.Cfg)
	pk := pre.Accounts[tx.From].Pubkey
	cache := sigcache.New(16)
	for _, bc := range []struct {
		name  string
		cache *sigcache.Cache
	}{
		{name: "uncached", cache: nil},
		{name: "cached", cache: cache},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if !core.VerifyTxCached(bc.cache, d, pk, tx) {
					b.Fatal("transaction rejected")
				}
			}
		})
	}
}
