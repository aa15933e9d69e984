package bls

import (
	"testing"

	hb "github.com/herumi/bls-eth-go-binary/bls"
)

var benchDomain = [8]byte{1, 0, 0, 0}

func BenchmarkSign(b *testing.B) {
	sk := InteropSecretKey(1)
	msg := [32]byte{1}
	for b.Loop() {
		sk.Sign(msg, benchDomain)
	}
}

func BenchmarkHashToG2(b *testing.B) {
	msg := [32]byte{1}
	for b.Loop() {
		hashToG2(msg, benchDomain)
	}
}

func BenchmarkVerify(b *testing.B) {
	sk := InteropSecretKey(1)
	msg := [32]byte{1}
	pk, sig := sk.PublicKey(), sk.Sign(msg, benchDomain)
	for b.Loop() {
		if !Verify(pk, msg, sig, benchDomain) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkVerifyPairingPath measures Verify done through our own
// Miller-loop path (VerifyMultiple with one key), for comparison with
// herumi's VerifyHashWithDomain used by Verify.
func BenchmarkVerifyPairingPath(b *testing.B) {
	sk := InteropSecretKey(1)
	msg := [32]byte{1}
	pks, msgs, sig := []*PublicKey{sk.PublicKey()}, [][32]byte{msg}, sk.Sign(msg, benchDomain)
	for b.Loop() {
		if !VerifyMultiple(pks, msgs, sig, benchDomain) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkVerifyMultiple2(b *testing.B) {
	m0, m1 := [32]byte{0}, [32]byte{1}
	sk0, sk1 := InteropSecretKey(0), InteropSecretKey(1)
	pks := []*PublicKey{sk0.PublicKey(), sk1.PublicKey()}
	msgs := [][32]byte{m0, m1}
	sig := AggregateSignatures([]*Signature{sk0.Sign(m0, benchDomain), sk1.Sign(m1, benchDomain)})
	for b.Loop() {
		if !VerifyMultiple(pks, msgs, sig, benchDomain) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkHerumiVerifyAggregate2 is the same check through herumi's
// VerifyAggregateHashWithDomain, for comparison.
func BenchmarkHerumiVerifyAggregate2(b *testing.B) {
	m0, m1 := [32]byte{0}, [32]byte{1}
	sk0, sk1 := InteropSecretKey(0), InteropSecretKey(1)
	pubs := []hb.PublicKey{sk0.PublicKey().p, sk1.PublicKey().p}
	h0, h1 := hashWithDomain(m0, benchDomain), hashWithDomain(m1, benchDomain)
	hs := append(h0[:], h1[:]...)
	sig := AggregateSignatures([]*Signature{sk0.Sign(m0, benchDomain), sk1.Sign(m1, benchDomain)})
	for b.Loop() {
		if !sig.s.VerifyAggregateHashWithDomain(pubs, hs) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkAggregatePublicKeys128(b *testing.B) {
	pks := make([]*PublicKey, 128)
	for i := range pks {
		pks[i] = InteropSecretKey(uint64(i)).PublicKey()
	}
	for b.Loop() {
		AggregatePublicKeys(pks)
	}
}

func BenchmarkAggregateSignatures128(b *testing.B) {
	sigs := make([]*Signature, 128)
	for i := range sigs {
		sigs[i] = InteropSecretKey(uint64(i)).Sign([32]byte{}, benchDomain)
	}
	for b.Loop() {
		AggregateSignatures(sigs)
	}
}

func BenchmarkPublicKeyFromBytes(b *testing.B) {
	enc := InteropSecretKey(1).PublicKey().Bytes()
	for b.Loop() {
		if _, err := PublicKeyFromBytes(enc[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHerumiPublicKeyDeserialize is the bare library call, to show
// the wrapper's overhead (length check and canonical re-encoding).
func BenchmarkHerumiPublicKeyDeserialize(b *testing.B) {
	enc := InteropSecretKey(1).PublicKey().Bytes()
	var pk hb.PublicKey
	for b.Loop() {
		if err := pk.Deserialize(enc[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignatureFromBytes(b *testing.B) {
	enc := InteropSecretKey(1).Sign([32]byte{}, benchDomain).Bytes()
	for b.Loop() {
		if _, err := SignatureFromBytes(enc[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPubkeyCacheGetHit(b *testing.B) {
	c := NewPubkeyCache()
	enc := InteropSecretKey(1).PublicKey().Bytes()
	if _, err := c.Get(enc); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Get(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPublicKeyBytes(b *testing.B) {
	pk := InteropSecretKey(1).PublicKey()
	for b.Loop() {
		pk.Bytes()
	}
}

func BenchmarkSignatureBytes(b *testing.B) {
	sig := InteropSecretKey(1).Sign([32]byte{}, benchDomain)
	for b.Loop() {
		sig.Bytes()
	}
}

// bench64 returns 64 signature sets; with shared, they use 4 messages (as
// the attestations of a few committees do), otherwise 64 distinct ones.
func bench64(shared bool) []batchItem {
	items := make([]batchItem, 64)
	for i := range items {
		sk := InteropSecretKey(uint64(i))
		m := [32]byte{byte(i), 0xbe}
		if shared {
			m = [32]byte{byte(i % 4), 0xbe}
		}
		items[i] = batchItem{
			pks:  []*PublicKey{sk.PublicKey()},
			msgs: [][32]byte{m},
			dom:  benchDomain,
			sig:  sk.Sign(m, benchDomain),
			desc: "bench",
		}
	}
	return items
}

func benchBatch(b *testing.B, shared bool, parallelism int) {
	items := bench64(shared)
	for b.Loop() {
		bt := NewBatch()
		bt.Parallelism = parallelism
		for _, it := range items {
			bt.Add(it.pks[0], it.msgs[0], it.dom, it.sig, it.desc)
		}
		if err := bt.Verify(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64, "ns/sig")
}

func benchSeparate(b *testing.B, shared bool) {
	items := bench64(shared)
	for b.Loop() {
		for _, it := range items {
			if !Verify(it.pks[0], it.msgs[0], it.sig, it.dom) {
				b.Fatal("invalid")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64, "ns/sig")
}

// The batch is measured on one goroutine (a fair comparison with the
// sequential separate checks) and with the default parallelism.
func BenchmarkBatchVerify64Serial(b *testing.B)        { benchBatch(b, false, 1) }
func BenchmarkBatchVerify64(b *testing.B)              { benchBatch(b, false, 0) }
func BenchmarkSeparateVerify64(b *testing.B)           { benchSeparate(b, false) }
func BenchmarkBatchVerify64Shared4Serial(b *testing.B) { benchBatch(b, true, 1) }
func BenchmarkBatchVerify64Shared4(b *testing.B)       { benchBatch(b, true, 0) }
func BenchmarkSeparateVerify64Shared4(b *testing.B)    { benchSeparate(b, true) }

// Pairing primitives, to see where the time goes.
func BenchmarkMillerLoop(b *testing.B) {
	q := hashToG2([32]byte{}, benchDomain)
	p := *hb.CastFromPublicKey(&InteropSecretKey(1).PublicKey().p)
	var gt hb.GT
	for b.Loop() {
		hb.MillerLoop(&gt, &p, &q)
	}
}

func BenchmarkFinalExp(b *testing.B) {
	q := hashToG2([32]byte{}, benchDomain)
	p := *hb.CastFromPublicKey(&InteropSecretKey(1).PublicKey().p)
	var gt hb.GT
	hb.MillerLoop(&gt, &p, &q)
	for b.Loop() {
		var out hb.GT
		hb.FinalExp(&out, &gt)
	}
}
