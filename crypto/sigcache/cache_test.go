package sigcache

import (
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
)

func digestOf(i int) Digest {
	h := NewHasher("test")
	h.Count(i)
	return h.Sum()
}

func TestCacheHitsAndMisses(t *testing.T) {
	c := New(4)
	d := digestOf(1)
	if c.Contains(d) {
		t.Fatal("empty cache contains a digest")
	}
	c.Add(d)
	if !c.Contains(d) {
		t.Fatal("added digest not found")
	}
	if c.Contains(digestOf(2)) {
		t.Fatal("other digest found")
	}
	got := c.Stats()
	want := Stats{Hits: 1, Misses: 2, Adds: 1, Entries: 1, Capacity: 4}
	if got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
}

func TestCacheEvictionBound(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		adds     int
		touch    int // digest looked up after the first capacity adds (-1: none)
	}{
		{name: "fill exactly", capacity: 8, adds: 8, touch: -1},
		{name: "overflow evicts oldest", capacity: 8, adds: 20, touch: -1},
		{name: "recently used survives", capacity: 8, adds: 9, touch: 0},
		{name: "capacity one", capacity: 1, adds: 3, touch: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(tc.capacity)
			for i := 0; i < tc.adds; i++ {
				if i == tc.capacity && tc.touch >= 0 {
					c.Contains(digestOf(tc.touch))
				}
				c.Add(digestOf(i))
			}
			s := c.Stats()
			if s.Entries != min(tc.adds, tc.capacity) {
				t.Fatalf("entries %d, want %d", s.Entries, min(tc.adds, tc.capacity))
			}
			if want := uint64(max(0, tc.adds-tc.capacity)); s.Evictions != want {
				t.Fatalf("evictions %d, want %d", s.Evictions, want)
			}
			// The newest capacity digests are held (with the touched one
			// standing in for the oldest of them).
			for i := tc.adds - 1; i >= max(0, tc.adds-tc.capacity); i-- {
				if tc.touch >= 0 && i == tc.adds-tc.capacity {
					i = tc.touch
				}
				if !c.Contains(digestOf(i)) {
					t.Fatalf("digest %d evicted", i)
				}
				if tc.touch >= 0 && i == tc.touch {
					break
				}
			}
			if tc.adds > tc.capacity && tc.touch < 0 && c.Contains(digestOf(0)) {
				t.Fatal("oldest digest not evicted")
			}
			if tc.touch >= 0 && c.Contains(digestOf(1)) {
				t.Fatal("least recently used digest not evicted")
			}
		})
	}
}

func TestNilCache(t *testing.T) {
	var c *Cache
	c.Add(digestOf(1))
	if c.Contains(digestOf(1)) {
		t.Fatal("nil cache contains a digest")
	}
	if c.Stats() != (Stats{}) {
		t.Fatal("nil cache has stats")
	}
}

func TestNewDefaultBound(t *testing.T) {
	if got := New(0).Stats().Capacity; got != DefaultEntries {
		t.Fatalf("capacity %d, want %d", got, DefaultEntries)
	}
}

func TestHasherFieldsAreDelimited(t *testing.T) {
	a := NewHasher("s")
	a.Write([]byte("ab"))
	a.Write([]byte("c"))
	b := NewHasher("s")
	b.Write([]byte("a"))
	b.Write([]byte("bc"))
	if a.Sum() == b.Sum() {
		t.Fatal("field boundaries do not change the digest")
	}
	if digestOf(1) == digestOf(2) {
		t.Fatal("counts do not change the digest")
	}
	x := NewHasher("s1")
	y := NewHasher("s2")
	if x.Sum() == y.Sum() {
		t.Fatal("scheme does not change the digest")
	}
}

// edKey is a fixed ed25519 key pair for tests.
func edKey(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	sk := ed25519.NewKeyFromSeed(s)
	return sk.Public().(ed25519.PublicKey), sk
}

func TestVerifyEd25519(t *testing.T) {
	pub, sk := edKey(1)
	otherPub, otherSK := edKey(2)
	msg := []byte("transfer 5 from 1 to 2")
	sig := ed25519.Sign(sk, msg)
	otherSig := ed25519.Sign(otherSK, msg) // valid, of another key
	flipped := append([]byte(nil), sig...)
	flipped[5] ^= 1
	tests := []struct {
		name          string
		pub, msg, sig []byte
		want          bool
	}{
		{name: "same check hits", pub: pub, msg: msg, sig: sig, want: true},
		{name: "wrong signature", pub: pub, msg: msg, sig: flipped},
		{name: "another key's valid signature", pub: pub, msg: msg, sig: otherSig},
		{name: "wrong key", pub: otherPub, msg: msg, sig: sig},
		{name: "wrong message", pub: pub, msg: []byte("transfer 6 from 1 to 2"), sig: sig},
		{name: "short key", pub: pub[:31], msg: msg, sig: sig},
		{name: "short signature", pub: pub, msg: msg, sig: sig[:63]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(16)
			if !c.VerifyEd25519(pub, msg, sig) {
				t.Fatal("valid signature rejected")
			}
			if got := c.VerifyEd25519(tc.pub, tc.msg, tc.sig); got != tc.want {
				t.Fatalf("after a cached success: got %v, want %v", got, tc.want)
			}
			s := c.Stats()
			if tc.want && s.Hits != 1 {
				t.Fatalf("hits %d, want 1", s.Hits)
			}
			if !tc.want && s.Entries != 1 {
				t.Fatalf("a failure was cached: %d entries", s.Entries)
			}
		})
	}
}

func TestVerifyEd25519FailureNotCached(t *testing.T) {
	pub, sk := edKey(3)
	msg := []byte("m")
	sig := ed25519.Sign(sk, msg)
	sig[0] ^= 1
	c := New(16)
	for i := 0; i < 3; i++ {
		if c.VerifyEd25519(pub, msg, sig) {
			t.Fatal("bad signature accepted")
		}
	}
	if s := c.Stats(); s.Entries != 0 || s.Hits != 0 || s.Misses != 3 {
		t.Fatalf("stats %+v after three failures", s)
	}
	var nilCache *Cache
	sig[0] ^= 1
	if !nilCache.VerifyEd25519(pub, msg, sig) {
		t.Fatal("nil cache rejects a valid signature")
	}
}

// TestCacheConcurrent runs many goroutines over one small cache; run it
// with -race.
func TestCacheConcurrent(t *testing.T) {
	c := New(64)
	pub, sk := edKey(4)
	msgs := make([][]byte, 8)
	sigs := make([][]byte, len(msgs))
	for i := range msgs {
		msgs[i] = []byte(fmt.Sprintf("msg %d", i))
		sigs[i] = ed25519.Sign(sk, msgs[i])
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				c.Add(digestOf(g*1000 + i))
				c.Contains(digestOf(g*1000 + i/2))
				k := (g + i) % len(msgs)
				if !c.VerifyEd25519(pub, msgs[k], sigs[k]) {
					t.Error("valid signature rejected")
					return
				}
				_ = c.Stats()
			}
		}()
	}
	wg.Wait()
	if s := c.Stats(); s.Entries > 64 {
		t.Fatalf("%d entries over the bound 64", s.Entries)
	}
}
