package sigcache

import (
	"crypto/ed25519"
	"fmt"
	"testing"
)

// BenchmarkEd25519 compares, per signature, crypto/ed25519.Verify (the
// baseline), Ed25519Verify, and VerifyEd25519Batch of 256 uncached
// signatures (serial below parallelMin, else spread over GOMAXPROCS).
func BenchmarkEd25519(b *testing.B) {
	const n = 256
	checks := make([]Ed25519Check, n)
	for i := range checks {
		pub, sk := edKey(byte(i))
		msg := []byte(fmt.Sprintf("tx %d", i))
		checks[i] = Ed25519Check{Pub: pub, Msg: msg, Sig: ed25519.Sign(sk, msg)}
	}
	b.Run("stdlib", func(b *testing.B) {
		i := 0
		for b.Loop() {
			c := checks[i%n]
			if !ed25519.Verify(c.Pub, c.Msg, c.Sig) {
				b.Fatal("rejected")
			}
			i++
		}
	})
	b.Run("Ed25519Verify", func(b *testing.B) {
		i := 0
		for b.Loop() {
			c := checks[i%n]
			if !Ed25519Verify(c.Pub, c.Msg, c.Sig) {
				b.Fatal("rejected")
			}
			i++
		}
	})
	b.Run("batch256-per-sig", func(b *testing.B) {
		for b.Loop() {
			for _, ok := range New(2 * n).VerifyEd25519Batch(checks) {
				if !ok {
					b.Fatal("rejected")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
	})
}
