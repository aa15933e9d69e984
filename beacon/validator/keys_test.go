package validator

import (
	"encoding/hex"
	"testing"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

func TestInteropKeys(t *testing.T) {
	t.Parallel()
	k, err := NewInteropKeys(10, 5)
	if err != nil {
		t.Fatal(err)
	}
	if k.Start() != 10 || k.Len() != 5 || k.String() != "keys [10, 15)" {
		t.Fatalf("range: start %d len %d %q", k.Start(), k.Len(), k)
	}
	for i := uint64(10); i < 15; i++ {
		sk, ok := k.SecretKey(i)
		if !ok || sk.Bytes() != bls.InteropSecretKey(i).Bytes() {
			t.Fatalf("secret key %d: ok %v", i, ok)
		}
		pk, ok := k.Pubkey(i)
		if !ok || pk != types.BLSPubkey(sk.PublicKey().Bytes()) {
			t.Fatalf("pubkey %d", i)
		}
		if j, ok := k.IndexOf(pk); !ok || j != i {
			t.Fatalf("IndexOf(pubkey %d) = %d, %v", i, j, ok)
		}
		if s, ok := k.SecretKeyOf(pk); !ok || s != sk {
			t.Fatalf("SecretKeyOf(pubkey %d)", i)
		}
	}
	for _, i := range []uint64{0, 9, 15, 1 << 40} {
		if _, ok := k.SecretKey(i); ok {
			t.Errorf("SecretKey(%d) found outside the range", i)
		}
		if _, ok := k.Pubkey(i); ok {
			t.Errorf("Pubkey(%d) found outside the range", i)
		}
	}
	other := types.BLSPubkey(bls.InteropSecretKey(3).PublicKey().Bytes())
	if _, ok := k.IndexOf(other); ok {
		t.Error("IndexOf found a key outside the range")
	}
	if _, err := NewInteropKeys(^uint64(0), 2); err == nil {
		t.Error("an overflowing range was accepted")
	}
}

// TestInteropKeyZero checks key 0 against the published interop vector
// (eth2.0-pm interop mocked start, validator 0).
func TestInteropKeyZero(t *testing.T) {
	t.Parallel()
	k, err := NewInteropKeys(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := k.Pubkey(0)
	const want = "a99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44c"
	if got := hex.EncodeToString(pk[:]); got != want {
		t.Fatalf("pubkey of interop key 0 = %s, want %s", got, want)
	}
}

// TestSumSecretSignsAggregate checks that signing with the sum of secret
// keys gives the aggregate of the individual signatures.
func TestSumSecretSignsAggregate(t *testing.T) {
	t.Parallel()
	k, err := NewInteropKeys(0, 9)
	if err != nil {
		t.Fatal(err)
	}
	msg := [32]byte{1, 2, 3}
	domain := [8]byte{2}
	js := []int{0, 3, 4, 8}
	sum, err := k.sumSecret(js)
	if err != nil {
		t.Fatal(err)
	}
	var sigs []*bls.Signature
	var pks []*bls.PublicKey
	for _, j := range js {
		sigs = append(sigs, k.secrets[j].Sign(msg, domain))
		pks = append(pks, k.secrets[j].PublicKey())
	}
	got := sum.Sign(msg, domain)
	if !got.Equal(bls.AggregateSignatures(sigs)) {
		t.Fatal("signature of the summed key differs from the aggregate signature")
	}
	if !bls.Verify(bls.AggregatePublicKeys(pks), msg, got, domain) {
		t.Fatal("summed-key signature does not verify against the aggregate public key")
	}
}

func TestNewKeysRejectsDuplicates(t *testing.T) {
	t.Parallel()
	sk := bls.InteropSecretKey(1)
	if _, err := NewKeys(0, []*bls.SecretKey{sk, bls.InteropSecretKey(2), sk}); err == nil {
		t.Fatal("duplicate keys accepted")
	}
	if _, err := NewKeys(0, []*bls.SecretKey{nil}); err == nil {
		t.Fatal("nil key accepted")
	}
}

func TestJoinKeys(t *testing.T) {
	t.Parallel()
	a, _ := NewInteropKeys(0, 3)
	b, _ := NewInteropKeys(3, 2)
	c, _ := NewInteropKeys(5, 4)
	whole, _ := NewInteropKeys(0, 9)
	j, err := JoinKeys(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	if j.Start() != 0 || j.Len() != 9 {
		t.Fatalf("joined %s", j)
	}
	for i := uint64(0); i < 9; i++ {
		p1, _ := j.Pubkey(i)
		p2, _ := whole.Pubkey(i)
		if p1 != p2 {
			t.Fatalf("key %d differs", i)
		}
		if got, ok := j.IndexOf(p1); !ok || got != i {
			t.Fatalf("IndexOf key %d = %d", i, got)
		}
		if j.scalars[i].Cmp(whole.scalars[i]) != 0 {
			t.Fatalf("scalar %d differs", i)
		}
	}
	if got := j.Pubkeys(); len(got) != 9 || got[4] != whole.pubkeys[4] {
		t.Fatal("Pubkeys")
	}
	if _, err := JoinKeys(a, c); err == nil {
		t.Fatal("a gap was accepted")
	}
	if _, err := JoinKeys(a, a); err == nil {
		t.Fatal("an overlap was accepted")
	}
	if e, err := JoinKeys(); err != nil || e.Len() != 0 {
		t.Fatal("joining nothing")
	}
}
