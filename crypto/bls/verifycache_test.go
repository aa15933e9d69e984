package bls

import (
	"errors"
	"sync"
	"testing"

	"github.com/shardlab/shardlab/crypto/sigcache"
)

func TestVerifyCacheSingle(t *testing.T) {
	sk, other := InteropSecretKey(1), InteropSecretKey(2)
	msg, dom := [32]byte{1}, [8]byte{2}
	sig := sk.Sign(msg, dom)
	tests := []struct {
		name string
		pk   *PublicKey
		msg  [32]byte
		sig  *Signature
		dom  [8]byte
		want bool
	}{
		{name: "same check hits", pk: sk.PublicKey(), msg: msg, sig: sig, dom: dom, want: true},
		{name: "wrong signature", pk: sk.PublicKey(), msg: msg, sig: sk.Sign([32]byte{9}, dom), dom: dom},
		{name: "wrong key", pk: other.PublicKey(), msg: msg, sig: sig, dom: dom},
		{name: "wrong message", pk: sk.PublicKey(), msg: [32]byte{3}, sig: sig, dom: dom},
		{name: "wrong domain", pk: sk.PublicKey(), msg: msg, sig: sig, dom: [8]byte{4}},
		{name: "nil key", pk: nil, msg: msg, sig: sig, dom: dom},
		{name: "nil signature", pk: sk.PublicKey(), msg: msg, sig: nil, dom: dom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewVerifyCache(16)
			if !c.Verify(sk.PublicKey(), msg, sig, dom) {
				t.Fatal("valid signature rejected")
			}
			if got := c.Verify(tc.pk, tc.msg, tc.sig, tc.dom); got != tc.want {
				t.Fatalf("after a cached success: got %v, want %v", got, tc.want)
			}
			s := c.Stats()
			if tc.want && s.Hits != 1 {
				t.Fatalf("hits %d, want 1", s.Hits)
			}
			if !tc.want && s.Entries != 1 {
				t.Fatalf("a failure was cached (%d entries)", s.Entries)
			}
		})
	}
}

func TestVerifyCacheMultiple(t *testing.T) {
	it := multipleItem()
	sk3 := InteropSecretKey(103)
	tests := []struct {
		name string
		pks  []*PublicKey
		msgs [][32]byte
		sig  *Signature
		dom  [8]byte
		want bool
	}{
		{name: "same check hits", pks: it.pks, msgs: it.msgs, sig: it.sig, dom: it.dom, want: true},
		{name: "wrong signature", pks: it.pks, msgs: it.msgs, sig: sk3.Sign(it.msgs[0], it.dom), dom: it.dom},
		{name: "other key set", pks: []*PublicKey{it.pks[0], sk3.PublicKey()}, msgs: it.msgs, sig: it.sig, dom: it.dom},
		{name: "keys swapped", pks: []*PublicKey{it.pks[1], it.pks[0]}, msgs: it.msgs, sig: it.sig, dom: it.dom},
		{name: "one key dropped", pks: it.pks[:1], msgs: it.msgs[:1], sig: it.sig, dom: it.dom},
		{name: "other message", pks: it.pks, msgs: [][32]byte{it.msgs[0], {0xee}}, sig: it.sig, dom: it.dom},
		{name: "wrong domain", pks: it.pks, msgs: it.msgs, sig: it.sig, dom: [8]byte{8}},
		{name: "mismatched lengths", pks: it.pks, msgs: it.msgs[:1], sig: it.sig, dom: it.dom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewVerifyCache(16)
			if !c.VerifyMultiple(it.pks, it.msgs, it.sig, it.dom) {
				t.Fatal("valid aggregate rejected")
			}
			if got := c.VerifyMultiple(tc.pks, tc.msgs, tc.sig, tc.dom); got != tc.want {
				t.Fatalf("after a cached success: got %v, want %v", got, tc.want)
			}
			if !tc.want && c.Stats().Entries != 1 {
				t.Fatalf("a failure was cached (%d entries)", c.Stats().Entries)
			}
		})
	}
}

// TestVerifyDigestFields changes each input of a digest in turn: every
// change must give another digest, or a cached success would vouch for a
// check never made.
func TestVerifyDigestFields(t *testing.T) {
	pk := InteropSecretKey(1).PublicKey().Bytes()
	pk2 := InteropSecretKey(2).PublicKey().Bytes()
	msg, dom := [32]byte{1}, [8]byte{2}
	sig := InteropSecretKey(1).Sign(msg, dom).Bytes()
	sig2 := InteropSecretKey(1).Sign([32]byte{5}, dom).Bytes()
	base := VerifyDigest(pk, msg, sig, dom)
	single := map[string]sigcache.Digest{
		"key":       VerifyDigest(pk2, msg, sig, dom),
		"message":   VerifyDigest(pk, [32]byte{3}, sig, dom),
		"signature": VerifyDigest(pk, msg, sig2, dom),
		"domain":    VerifyDigest(pk, msg, sig, [8]byte{4}),
		"scheme":    VerifyMultipleDigest([][PublicKeySize]byte{pk}, [][32]byte{msg}, sig, dom),
	}
	for name, d := range single {
		if d == base {
			t.Errorf("verify digest ignores the %s", name)
		}
	}
	pks := [][PublicKeySize]byte{pk, pk2}
	msgs := [][32]byte{{1}, {2}}
	mbase := VerifyMultipleDigest(pks, msgs, sig, dom)
	multi := map[string]sigcache.Digest{
		"a key":         VerifyMultipleDigest([][PublicKeySize]byte{pk, pk}, msgs, sig, dom),
		"key order":     VerifyMultipleDigest([][PublicKeySize]byte{pk2, pk}, msgs, sig, dom),
		"key count":     VerifyMultipleDigest(pks[:1], msgs, sig, dom),
		"a message":     VerifyMultipleDigest(pks, [][32]byte{{1}, {3}}, sig, dom),
		"message count": VerifyMultipleDigest(pks, msgs[:1], sig, dom),
		"signature":     VerifyMultipleDigest(pks, msgs, sig2, dom),
		"domain":        VerifyMultipleDigest(pks, msgs, sig, [8]byte{9}),
	}
	for name, d := range multi {
		if d == mbase {
			t.Errorf("verify_multiple digest ignores %s", name)
		}
	}
}

func TestBatchWithCache(t *testing.T) {
	items := append(validItems(5, false), multipleItem())
	c := NewVerifyCache(64)
	first := buildBatchCached(items, c)
	if first.Len() != len(items) {
		t.Fatalf("cold batch holds %d sets, want %d", first.Len(), len(items))
	}
	if err := first.Verify(); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Entries; got != len(items) {
		t.Fatalf("%d entries after a valid batch, want %d", got, len(items))
	}
	second := buildBatchCached(items, c)
	if second.Len() != 0 {
		t.Fatalf("warm batch holds %d sets, want 0", second.Len())
	}
	if err := second.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestBatchWithCacheFailure(t *testing.T) {
	items := validItems(6, false)
	items[3].sig = items[4].sig // a valid point, wrong for set 3
	c := NewVerifyCache(64)
	b := buildBatchCached(items, c)
	err := b.Verify()
	var be *BatchError
	if !errors.As(err, &be) || be.Index != 3 {
		t.Fatalf("got %v, want a BatchError at set 3", err)
	}
	// Sets before the failure were verified and are remembered; the bad
	// one is not.
	if got := c.Stats().Entries; got != 3 {
		t.Fatalf("%d entries, want 3", got)
	}
	again := buildBatchCached(items, c)
	if again.Len() != 3 {
		t.Fatalf("retry holds %d sets, want 3 (the bad one and those after it)", again.Len())
	}
	if err := again.Verify(); !errors.As(err, &be) || be.Index != 0 {
		t.Fatalf("retry: got %v, want the bad set first", err)
	}
}

func TestBatchAddDigest(t *testing.T) {
	it := validItems(1, false)[0]
	c := NewVerifyCache(8)
	d := VerifyDigest(it.pks[0].Bytes(), it.msgs[0], it.sig.Bytes(), it.dom)
	b := &Batch{Cache: c}
	b.AddDigest(d, it.pks, it.msgs, it.dom, it.sig, "keyed")
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
	if !c.Contains(d) {
		t.Fatal("digest of a verified set not remembered")
	}
	bad := &Batch{Cache: NewVerifyCache(8)}
	bad.AddDigest(d, it.pks, it.msgs, [8]byte{0xff}, it.sig, "wrong domain")
	if err := bad.Verify(); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("got %v, want ErrInvalidSignature", err)
	}
	if bad.Cache.Stats().Entries != 0 {
		t.Fatal("digest of a failed set remembered")
	}
}

func buildBatchCached(items []batchItem, c *VerifyCache) *Batch {
	b := &Batch{Rand: detRand(1), Cache: c}
	addItems(b, items)
	return b
}

// TestVerifyCacheConcurrent shares one small cache between goroutines
// verifying good and bad signatures; run it with -race.
func TestVerifyCacheConcurrent(t *testing.T) {
	items := validItems(4, false)
	c := NewVerifyCache(3) // smaller than the working set: evictions race too
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 12; i++ {
				it := items[(g+i)%len(items)]
				if !c.Verify(it.pks[0], it.msgs[0], it.sig, it.dom) {
					t.Error("valid signature rejected")
					return
				}
				if c.Verify(it.pks[0], it.msgs[0], it.sig, [8]byte{0xff}) {
					t.Error("wrong domain accepted")
					return
				}
			}
		}()
	}
	wg.Wait()
	if s := c.Stats(); s.Entries > 3 || s.Hits == 0 {
		t.Fatalf("stats %+v", s)
	}
}
