package sigcache

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"testing"
)

// oddPoints are encodings crypto/ed25519 treats specially: the eight
// small-order points, with and without the sign bit, and non-canonical
// encodings (y >= p, negative zero x).
var oddPoints = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"0200000000000000000000000000000000000000000000000000000000000000",
}

// oddScalars are S halves: zero, one, the group order L, L-1, L+1 and
// the largest 256-bit value.
var oddScalars = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
	"ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
	"eed3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEd25519VerifyMatchesStdlib holds Ed25519Verify to crypto/ed25519's
// answer on honest signatures, mutated ones, and signatures built from
// small-order and non-canonical keys, R values and out-of-range S values
// (some of which crypto/ed25519 accepts).
func TestEd25519VerifyMatchesStdlib(t *testing.T) {
	var pubs, rs [][]byte
	for _, p := range oddPoints {
		pubs = append(pubs, unhex(t, p))
		rs = append(rs, unhex(t, p))
	}
	var scalars [][]byte
	for _, s := range oddScalars {
		scalars = append(scalars, unhex(t, s))
	}
	type check struct{ pub, msg, sig []byte }
	var checks []check
	for seed := byte(1); seed <= 4; seed++ {
		pub, sk := edKey(seed)
		pubs = append(pubs, pub)
		msg := []byte(fmt.Sprintf("message %d", seed))
		sig := ed25519.Sign(sk, msg)
		rs = append(rs, sig[:32])
		scalars = append(scalars, sig[32:])
		checks = append(checks, check{pub, msg, sig})
		for bit := 0; bit < 512; bit += 37 {
			bad := append([]byte(nil), sig...)
			bad[bit/8] ^= 1 << (bit % 8)
			checks = append(checks, check{pub, msg, bad})
		}
	}
	for _, pub := range pubs {
		for _, r := range rs {
			for _, s := range scalars {
				for m := range 4 {
					checks = append(checks, check{pub, []byte{byte(m)}, append(append([]byte(nil), r...), s...)})
				}
			}
		}
	}
	accepted := 0
	for i, c := range checks {
		want := ed25519.Verify(c.pub, c.msg, c.sig)
		if got := Ed25519Verify(c.pub, c.msg, c.sig); got != want {
			t.Fatalf("check %d (pub %x msg %x sig %x): got %v, crypto/ed25519 says %v", i, c.pub, c.msg, c.sig, got, want)
		}
		if want {
			accepted++
		}
	}
	// The table must exercise both answers on the odd inputs, not only
	// on the honest signatures.
	t.Logf("%d of %d checks verified", accepted, len(checks))
	if accepted <= 4 || accepted == len(checks) {
		t.Fatalf("%d of %d checks verified: the table does not exercise both answers", accepted, len(checks))
	}
}

// FuzzEd25519VerifyMatchesStdlib compares Ed25519Verify with
// crypto/ed25519 on arbitrary keys, messages and signatures, seeded with
// an honest signature.
func FuzzEd25519VerifyMatchesStdlib(f *testing.F) {
	pub, sk := edKey(9)
	msg := []byte("seed")
	f.Add([]byte(pub), msg, ed25519.Sign(sk, msg))
	f.Add(make([]byte, 32), []byte{}, make([]byte, 64))
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != ed25519.PublicKeySize {
			if Ed25519Verify(pub, msg, sig) {
				t.Fatal("a key of the wrong length verified")
			}
			return
		}
		if got, want := Ed25519Verify(pub, msg, sig), ed25519.Verify(pub, msg, sig); got != want {
			t.Fatalf("got %v, crypto/ed25519 says %v", got, want)
		}
	})
}

func TestVerifyEd25519Batch(t *testing.T) {
	var checks []Ed25519Check
	var want []bool
	for i := range 100 {
		pub, sk := edKey(byte(i % 7))
		msg := []byte(fmt.Sprintf("tx %d", i))
		sig := ed25519.Sign(sk, msg)
		valid := i%5 != 3
		if !valid {
			sig[i%64] ^= 0x10
		}
		if i == 50 {
			pub, valid = pub[:31], false
		}
		checks = append(checks, Ed25519Check{Pub: pub, Msg: msg, Sig: sig})
		want = append(want, valid)
	}
	nValid := 0
	for _, w := range want {
		if w {
			nValid++
		}
	}
	tests := []struct {
		name  string
		cache *Cache
		n     int // checks given
	}{
		{"nil cache, parallel", nil, 100},
		{"cache, parallel", New(256), 100},
		{"cache, serial", New(256), parallelMin - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for round := range 2 {
				got := tc.cache.VerifyEd25519Batch(checks[:tc.n])
				for i := range tc.n {
					if got[i] != want[i] {
						t.Fatalf("round %d check %d: got %v, want %v", round, i, got[i], want[i])
					}
					if single := tc.cache.VerifyEd25519(checks[i].Pub, checks[i].Msg, checks[i].Sig); single != got[i] {
						t.Fatalf("check %d: batch %v, single %v", i, got[i], single)
					}
				}
			}
			if tc.cache == nil || tc.n != 100 {
				return
			}
			// Only the successes were added, and the second round hit them.
			s := tc.cache.Stats()
			if s.Entries != nValid {
				t.Fatalf("%d entries, want the %d successes", s.Entries, nValid)
			}
		})
	}
}
