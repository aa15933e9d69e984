package bls

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"

	hb "github.com/herumi/bls-eth-go-binary/bls"
)

// Sizes of the encodings, in bytes.
const (
	SecretKeySize = 32
	PublicKeySize = 48
	SignatureSize = 96
)

// curveOrder is r, the order of G1 and G2, big-endian.
var curveOrder = [SecretKeySize]byte{
	0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05,
	0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
}

// Values fixed by init and never written afterwards.
var (
	// frOne is the scalar 1 as a secret key: signing with it yields
	// hash_to_G2 itself.
	frOne hb.SecretKey
	// negG1 is minus the generator of G1.
	negG1 hb.G1
)

func init() {
	if err := hb.Init(hb.BLS12_381); err != nil {
		panic(fmt.Sprintf("bls: initialise herumi library: %v", err))
	}
	// These are the defaults under BLS_ETH; set them anyway so that the
	// encoding (big-endian, zcash flags) and the subgroup checks on
	// deserialisation never depend on the library's build.
	hb.SetETHserialization(true)
	hb.VerifyOrderG1(true)
	hb.VerifyOrderG2(true)

	hb.CastFromSecretKey(&frOne).SetInt64(1)
	g1 := frOne.GetPublicKey()
	hb.G1Neg(&negG1, hb.CastFromPublicKey(g1))
}

// SecretKey is a BLS secret key: a scalar in [1, r). Build it with one of
// the constructors; the zero value is the scalar 0, whose signatures and
// public key are the point at infinity.
type SecretKey struct {
	k hb.SecretKey
}

// PublicKey is a point of G1. The zero value is the point at infinity.
type PublicKey struct {
	p hb.PublicKey
}

// Signature is a point of G2. The zero value is the point at infinity.
type Signature struct {
	s hb.Sign
}

// SecretKeyFromBytes decodes a 32-byte big-endian scalar. It rejects zero
// and values not below the curve order.
func SecretKeyFromBytes(b []byte) (*SecretKey, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("decode secret key: %w: got %d bytes, want %d", ErrInvalidLength, len(b), SecretKeySize)
	}
	if bytes.Equal(b, make([]byte, SecretKeySize)) {
		return nil, fmt.Errorf("decode secret key: %w", ErrZeroSecretKey)
	}
	if bytes.Compare(b, curveOrder[:]) >= 0 {
		return nil, fmt.Errorf("decode secret key: %w", ErrSecretKeyRange)
	}
	sk := new(SecretKey)
	if err := sk.k.Deserialize(b); err != nil {
		return nil, fmt.Errorf("decode secret key: %w", err)
	}
	return sk, nil
}

// SecretKeyFromBigEndianMod interprets b (1 to 64 bytes) as a big-endian
// integer and reduces it modulo the curve order. It fails if the result is
// zero.
func SecretKeyFromBigEndianMod(b []byte) (*SecretKey, error) {
	if len(b) == 0 || len(b) > 64 {
		return nil, fmt.Errorf("reduce secret key: %w: got %d bytes, want 1 to 64", ErrInvalidLength, len(b))
	}
	le := make([]byte, len(b))
	for i, c := range b {
		le[len(b)-1-i] = c
	}
	return secretKeyFromLittleEndianMod(le)
}

func secretKeyFromLittleEndianMod(le []byte) (*SecretKey, error) {
	sk := new(SecretKey)
	if err := sk.k.SetLittleEndianMod(le); err != nil {
		return nil, fmt.Errorf("reduce secret key: %w", err)
	}
	if hb.CastFromSecretKey(&sk.k).IsZero() {
		return nil, fmt.Errorf("reduce secret key: %w", ErrZeroSecretKey)
	}
	return sk, nil
}

// InteropSecretKey returns the i-th key of the eth2 interop "mocked start":
// int.from_bytes(sha256(i as 32-byte little-endian), 'little') mod r.
func InteropSecretKey(i uint64) *SecretKey {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:8], i)
	h := sha256.Sum256(seed[:])
	sk, err := secretKeyFromLittleEndianMod(h[:])
	if err != nil {
		// A SHA-256 output that is a multiple of r has never been seen.
		panic(fmt.Sprintf("bls: interop key %d: %v", i, err))
	}
	return sk
}

// GenerateSecretKey draws a uniformly random non-zero secret key from rand
// (crypto/rand.Reader when rand is nil).
func GenerateSecretKey(rand io.Reader) (*SecretKey, error) {
	if rand == nil {
		rand = defaultRand
	}
	var buf [48]byte // 384 bits reduced mod a 255-bit r: negligible bias
	for {
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return nil, fmt.Errorf("generate secret key: %w", err)
		}
		sk, err := secretKeyFromLittleEndianMod(buf[:])
		if err == nil {
			return sk, nil
		}
	}
}

// Bytes returns the 32-byte big-endian encoding of the scalar.
func (sk *SecretKey) Bytes() [SecretKeySize]byte {
	var out [SecretKeySize]byte
	b := sk.k.Serialize()
	copy(out[SecretKeySize-len(b):], b)
	return out
}

// String hides the key, so that it cannot leak into logs. It and Format
// have value receivers so that a SecretKey value is covered too.
func (sk SecretKey) String() string { return "bls.SecretKey{redacted}" }

// Format hides the key from every fmt verb.
func (sk SecretKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, sk.String()) }

// PublicKey returns sk times the generator of G1.
func (sk *SecretKey) PublicKey() *PublicKey {
	pk := &PublicKey{p: *sk.k.GetPublicKey()}
	pk.normalize()
	return pk
}

// Sign signs the 32-byte message hash under the 8-byte domain.
func (sk *SecretKey) Sign(msg [32]byte, domain [8]byte) *Signature {
	hwd := hashWithDomain(msg, domain)
	s := sk.k.SignHashWithDomain(hwd[:])
	if s == nil {
		// The C function only fails for a wrong-sized input.
		panic("bls: SignHashWithDomain failed")
	}
	sig := &Signature{s: *s}
	sig.normalize()
	return sig
}

func hashWithDomain(msg [32]byte, domain [8]byte) [40]byte {
	var hwd [40]byte
	copy(hwd[:32], msg[:])
	copy(hwd[32:], domain[:])
	return hwd
}

// PublicKeyFromBytes decodes a 48-byte compressed G1 point. Every malformed
// input (wrong length, bad flags, x not below p, x not on the curve, point
// outside the prime-order subgroup, non-canonical infinity) is an error.
func PublicKeyFromBytes(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("decode public key: %w: got %d bytes, want %d", ErrInvalidLength, len(b), PublicKeySize)
	}
	pk := new(PublicKey)
	if err := pk.p.Deserialize(b); err != nil {
		return nil, fmt.Errorf("decode public key: %w", ErrInvalidPublicKey)
	}
	if !bytes.Equal(hb.CastFromPublicKey(&pk.p).Serialize(), b) {
		return nil, fmt.Errorf("decode public key: %w", ErrNonCanonical)
	}
	return pk, nil
}

// normalize converts to affine coordinates (one field inversion), which
// makes Bytes cheap; pairings need affine points anyway. Every constructor
// calls it, so that values are never written after they are shared.
func (pk *PublicKey) normalize() {
	g := hb.CastFromPublicKey(&pk.p)
	hb.G1Normalize(g, g)
}

// Bytes returns the 48-byte compressed encoding.
func (pk *PublicKey) Bytes() [PublicKeySize]byte {
	var out [PublicKeySize]byte
	copy(out[:], hb.CastFromPublicKey(&pk.p).Serialize())
	return out
}

// String returns the 0x-prefixed hex encoding.
func (pk *PublicKey) String() string {
	b := pk.Bytes()
	return "0x" + hex.EncodeToString(b[:])
}

// IsInfinity reports whether pk is the point at infinity.
func (pk *PublicKey) IsInfinity() bool {
	return hb.CastFromPublicKey(&pk.p).IsZero()
}

// Equal reports whether pk and o are the same point.
func (pk *PublicKey) Equal(o *PublicKey) bool {
	return pk.p.IsEqual(&o.p)
}

// SignatureFromBytes decodes a 96-byte compressed G2 point with the same
// strictness as PublicKeyFromBytes.
func SignatureFromBytes(b []byte) (*Signature, error) {
	if len(b) != SignatureSize {
		return nil, fmt.Errorf("decode signature: %w: got %d bytes, want %d", ErrInvalidLength, len(b), SignatureSize)
	}
	sig := new(Signature)
	if err := sig.s.Deserialize(b); err != nil {
		return nil, fmt.Errorf("decode signature: %w", ErrInvalidSignature)
	}
	if !bytes.Equal(sig.s.Serialize(), b) {
		return nil, fmt.Errorf("decode signature: %w", ErrNonCanonical)
	}
	return sig, nil
}

func (s *Signature) normalize() {
	g := hb.CastFromSign(&s.s)
	hb.G2Normalize(g, g)
}

// Bytes returns the 96-byte compressed encoding.
func (s *Signature) Bytes() [SignatureSize]byte {
	var out [SignatureSize]byte
	copy(out[:], s.s.Serialize())
	return out
}

// String returns the 0x-prefixed hex encoding.
func (s *Signature) String() string {
	b := s.Bytes()
	return "0x" + hex.EncodeToString(b[:])
}

// IsInfinity reports whether s is the point at infinity.
func (s *Signature) IsInfinity() bool {
	return hb.CastFromSign(&s.s).IsZero()
}

// Equal reports whether s and o are the same point.
func (s *Signature) Equal(o *Signature) bool {
	return s.s.IsEqual(&o.s)
}

// HashToG2 returns the spec's hash_to_G2(msg, domain), both compressed and
// as affine coordinates {{x.c0, x.c1}, {y.c0, y.c1}}, each coordinate a
// 48-byte big-endian field element.
func HashToG2(msg [32]byte, domain [8]byte) (compressed [96]byte, affine [2][2][48]byte) {
	q := hashToG2(msg, domain)
	copy(compressed[:], q.Serialize())
	hb.G2Normalize(&q, &q)
	for i, c := range []*hb.Fp2{&q.X, &q.Y} {
		for j := range c.D {
			copy(affine[i][j][:], c.D[j].Serialize())
		}
	}
	return compressed, affine
}

// hashToG2 maps (msg, domain) to G2.
func hashToG2(msg [32]byte, domain [8]byte) hb.G2 {
	return hashToG2Raw(hashWithDomain(msg, domain))
}

// hashToG2Raw maps hashWithDomain (message hash ++ domain) to G2 by
// signing it with the scalar 1.
func hashToG2Raw(hwd [40]byte) hb.G2 {
	s := frOne.SignHashWithDomain(hwd[:])
	if s == nil {
		panic("bls: SignHashWithDomain failed")
	}
	return *hb.CastFromSign(s)
}
