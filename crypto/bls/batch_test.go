package bls

import (
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// detRand is a deterministic io.Reader for reproducible batches.
func detRand(seed int64) io.Reader { return rand.New(rand.NewSource(seed)) }

type batchItem struct {
	pks  []*PublicKey
	msgs [][32]byte
	dom  [8]byte
	sig  *Signature
	desc string
}

// validItems returns n single-signature sets over distinct messages, and
// some sharing messages (the attestation case).
func validItems(n int, shared bool) []batchItem {
	items := make([]batchItem, n)
	for i := range items {
		sk := InteropSecretKey(uint64(i))
		m := [32]byte{byte(i), byte(i >> 8)}
		if shared {
			m = [32]byte{byte(i % 3)}
		}
		d := [8]byte{byte(i % 2)}
		items[i] = batchItem{
			pks:  []*PublicKey{sk.PublicKey()},
			msgs: [][32]byte{m},
			dom:  d,
			sig:  sk.Sign(m, d),
			desc: "set " + string(rune('A'+i%26)),
		}
	}
	return items
}

func multipleItem() batchItem {
	dom := [8]byte{7}
	m0, m1 := [32]byte{0xa0}, [32]byte{0xa1}
	sk0, sk1, sk2 := InteropSecretKey(100), InteropSecretKey(101), InteropSecretKey(102)
	agg0 := AggregatePublicKeys([]*PublicKey{sk0.PublicKey(), sk1.PublicKey()})
	sig := AggregateSignatures([]*Signature{sk0.Sign(m0, dom), sk1.Sign(m0, dom), sk2.Sign(m1, dom)})
	return batchItem{
		pks:  []*PublicKey{agg0, sk2.PublicKey()},
		msgs: [][32]byte{m0, m1},
		dom:  dom,
		sig:  sig,
		desc: "attestation",
	}
}

func buildBatch(items []batchItem, seed int64) *Batch {
	b := NewBatch()
	b.Rand = detRand(seed)
	addItems(b, items)
	return b
}

// addItems adds each item to b, with Add or AddMultiple.
func addItems(b *Batch, items []batchItem) {
	for _, it := range items {
		if len(it.pks) == 1 && len(it.msgs) == 1 {
			b.Add(it.pks[0], it.msgs[0], it.dom, it.sig, it.desc)
		} else {
			b.AddMultiple(it.pks, it.msgs, it.dom, it.sig, it.desc)
		}
	}
}

func TestBatchVerify(t *testing.T) {
	wrongSig := InteropSecretKey(999).Sign([32]byte{}, [8]byte{})
	inf := new(PublicKey)
	tests := []struct {
		name    string
		items   func() []batchItem
		wantErr error
		wantIdx int
	}{
		{"empty", func() []batchItem { return nil }, nil, 0},
		{"one valid", func() []batchItem { return validItems(1, false) }, nil, 0},
		{"one invalid", func() []batchItem {
			it := validItems(1, false)
			it[0].sig = wrongSig
			return it
		}, ErrInvalidSignature, 0},
		{"many valid", func() []batchItem { return validItems(20, false) }, nil, 0},
		{"shared messages valid", func() []batchItem { return validItems(20, true) }, nil, 0},
		{"with multiple", func() []batchItem { return append(validItems(5, true), multipleItem()) }, nil, 0},
		{"multiple with infinity key", func() []batchItem {
			it := multipleItem()
			it.pks = append(it.pks, inf)
			it.msgs = append(it.msgs, [32]byte{0xff})
			return append(validItems(3, false), it)
		}, nil, 0},
		{"infinity key and signature", func() []batchItem {
			it := validItems(4, false)
			it[1].pks = []*PublicKey{inf}
			it[1].sig = new(Signature)
			return it
		}, nil, 0},
		{"infinity signature for a real key", func() []batchItem {
			it := validItems(4, false)
			it[2].sig = new(Signature)
			return it
		}, ErrInvalidSignature, 2},
		{"one bad signature", func() []batchItem {
			it := validItems(20, false)
			it[13].sig = wrongSig
			return it
		}, ErrInvalidSignature, 13},
		{"bad among shared messages", func() []batchItem {
			it := validItems(20, true)
			it[4].sig = it[5].sig
			return it
		}, ErrInvalidSignature, 4},
		{"wrong message", func() []batchItem {
			it := validItems(8, false)
			it[6].msgs = [][32]byte{{0xee}}
			return it
		}, ErrInvalidSignature, 6},
		{"wrong domain", func() []batchItem {
			it := validItems(8, false)
			it[2].dom = [8]byte{9, 9}
			return it
		}, ErrInvalidSignature, 2},
		{"swapped signatures", func() []batchItem {
			// Both sets invalid, but the sum of the signatures is the
			// sum of the valid ones: the randomisation must catch it.
			it := validItems(8, false)
			it[3].sig, it[4].sig = it[4].sig, it[3].sig
			return it
		}, ErrInvalidSignature, 3},
		{"first of two bad", func() []batchItem {
			it := validItems(8, false)
			it[5].sig = wrongSig
			it[1].sig = wrongSig
			return it
		}, ErrInvalidSignature, 1},
		{"first of several bad in a large batch", func() []batchItem {
			it := validItems(40, false)
			for _, i := range []int{30, 8, 7, 39} {
				it[i].sig = wrongSig
			}
			return it
		}, ErrInvalidSignature, 7},
		{"bad multiple", func() []batchItem {
			it := multipleItem()
			it.msgs = [][32]byte{it.msgs[1], it.msgs[0]}
			return append(validItems(4, false), it)
		}, ErrInvalidSignature, 4},
		{"nil signature", func() []batchItem {
			it := validItems(5, false)
			it[3].sig = nil
			return it
		}, ErrMalformedSet, 3},
		{"nil key", func() []batchItem {
			it := validItems(5, false)
			it[2].pks = []*PublicKey{nil}
			return it
		}, ErrMalformedSet, 2},
		{"bad signature before malformed", func() []batchItem {
			it := validItems(5, false)
			it[1].sig = wrongSig
			it[3].sig = nil
			return it
		}, ErrInvalidSignature, 1},
		{"length mismatch", func() []batchItem {
			it := multipleItem()
			it.msgs = it.msgs[:1]
			return append(validItems(2, false), it)
		}, ErrMalformedSet, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := tc.items()
			b := buildBatch(items, 1)
			if b.Len() != len(items) {
				t.Fatalf("Len = %d, want %d", b.Len(), len(items))
			}
			err := b.Verify()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			var be *BatchError
			if !errors.As(err, &be) {
				t.Fatalf("error %v is not a *BatchError", err)
			}
			if !strings.Contains(err.Error(), items[tc.wantIdx].desc) {
				t.Fatalf("error %q does not name %q", err, items[tc.wantIdx].desc)
			}
			if be.Index != tc.wantIdx || be.Desc != items[tc.wantIdx].desc {
				t.Fatalf("error names set %d (%q), want %d (%q)", be.Index, be.Desc, tc.wantIdx, items[tc.wantIdx].desc)
			}
		})
	}
}

// TestBatchSoundnessRandomised checks many seeds: no choice of scalars may
// let a batch with one bad set through.
func TestBatchSoundnessRandomised(t *testing.T) {
	items := validItems(6, true)
	items[2].sig = items[0].sig // same message class (2 % 3 != 0) is wrong
	for seed := int64(0); seed < 20; seed++ {
		if err := buildBatch(items, seed).Verify(); err == nil {
			t.Fatalf("seed %d: bad batch accepted", seed)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestBatchRandError(t *testing.T) {
	b := buildBatch(validItems(3, false), 0)
	b.Rand = failingReader{}
	if err := b.Verify(); err == nil {
		t.Fatal("Verify succeeded without randomness")
	}
}

func TestBatchZeroValueAndReset(t *testing.T) {
	var b Batch // zero value uses crypto/rand
	for _, it := range validItems(4, false) {
		b.Add(it.pks[0], it.msgs[0], it.dom, it.sig, it.desc)
	}
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if b.Len() != 0 {
		t.Fatalf("Len after Reset = %d", b.Len())
	}
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestBatchAddMultipleCopies(t *testing.T) {
	it := multipleItem()
	b := NewBatch()
	pks := append([]*PublicKey(nil), it.pks...)
	msgs := append([][32]byte(nil), it.msgs...)
	b.AddMultiple(pks, msgs, it.dom, it.sig, it.desc)
	b.Add(it.pks[1], [32]byte{}, it.dom, InteropSecretKey(102).Sign([32]byte{}, it.dom), "single")
	msgs[0][0] ^= 0xff // caller reuses its buffer
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}
}
