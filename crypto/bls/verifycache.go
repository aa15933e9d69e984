package bls

import "github.com/shardlab/shardlab/crypto/sigcache"

// Scheme tags of the digests of BLS verifications: one for bls_verify and
// one for bls_verify_multiple, so that a single-key check never shares a
// digest with a one-key aggregate check.
const (
	schemeVerify         = "bls-v0.8.3/verify"
	schemeVerifyMultiple = "bls-v0.8.3/verify_multiple"
)

// VerifyCache remembers successful BLS verifications, keyed by a digest
// over the exact domain, message(s), public key encoding(s) and signature
// encoding, so that a check differing in any of them never hits. It is safe
// for concurrent use and may be shared by many nodes. A nil *VerifyCache
// caches nothing. Failures are never cached: a repeated bad signature is
// verified again, which keeps a cache from ever changing a result and keeps
// junk from evicting useful entries.
type VerifyCache struct {
	set *sigcache.Cache
}

// NewVerifyCache returns an empty cache of at most entries verifications;
// entries <= 0 means sigcache.DefaultEntries.
func NewVerifyCache(entries int) *VerifyCache {
	return &VerifyCache{set: sigcache.New(entries)}
}

// VerifyDigest names the check Verify(pk, msg, sig, domain) by the keys'
// and signature's encodings. Decoding is canonical (ErrNonCanonical), so
// the encodings a caller holds and those of the decoded values agree.
func VerifyDigest(pk [PublicKeySize]byte, msg [32]byte, sig [SignatureSize]byte, domain [8]byte) sigcache.Digest {
	h := sigcache.NewHasher(schemeVerify)
	h.Write(domain[:])
	h.Write(msg[:])
	h.Write(pk[:])
	h.Write(sig[:])
	return h.Sum()
}

// VerifyMultipleDigest names the check VerifyMultiple(pks, msgs, sig,
// domain) over the exact aggregate inputs: every key's encoding and every
// message, in order.
func VerifyMultipleDigest(pks [][PublicKeySize]byte, msgs [][32]byte, sig [SignatureSize]byte, domain [8]byte) sigcache.Digest {
	h := sigcache.NewHasher(schemeVerifyMultiple)
	h.Write(domain[:])
	h.Count(len(msgs))
	for i := range msgs {
		h.Write(msgs[i][:])
	}
	h.Count(len(pks))
	for i := range pks {
		h.Write(pks[i][:])
	}
	h.Write(sig[:])
	return h.Sum()
}

// Contains reports whether the check named by d verified before (and was
// not evicted since), counting a hit or a miss.
func (c *VerifyCache) Contains(d sigcache.Digest) bool {
	if c == nil {
		return false
	}
	return c.set.Contains(d)
}

// Add records that the check named by d verified. Call it only after a
// successful verification of exactly that check.
func (c *VerifyCache) Add(d sigcache.Digest) {
	if c != nil {
		c.set.Add(d)
	}
}

// Stats returns the cache's counters; a nil cache reports zeros.
func (c *VerifyCache) Stats() sigcache.Stats {
	if c == nil {
		return sigcache.Stats{}
	}
	return c.set.Stats()
}

// Verify is Verify(pk, msg, sig, domain) through the cache: a hit skips the
// pairing, a success is remembered. A nil c verifies every time.
func (c *VerifyCache) Verify(pk *PublicKey, msg [32]byte, sig *Signature, domain [8]byte) bool {
	if c == nil || pk == nil || sig == nil {
		return Verify(pk, msg, sig, domain)
	}
	d := VerifyDigest(pk.Bytes(), msg, sig.Bytes(), domain)
	return c.set.Check(d, func() bool { return Verify(pk, msg, sig, domain) })
}

// VerifyMultiple is VerifyMultiple(pks, msgs, sig, domain) through the
// cache. A nil c verifies every time.
func (c *VerifyCache) VerifyMultiple(pks []*PublicKey, msgs [][32]byte, sig *Signature, domain [8]byte) bool {
	if c == nil || !(&sigSet{pks: pks, msgs: msgs, sig: sig}).wellFormed() {
		return VerifyMultiple(pks, msgs, sig, domain)
	}
	d := VerifyMultipleDigest(encodeKeys(pks), msgs, sig.Bytes(), domain)
	return c.set.Check(d, func() bool { return VerifyMultiple(pks, msgs, sig, domain) })
}

// encodeKeys returns the keys' encodings; the keys must not be nil.
func encodeKeys(pks []*PublicKey) [][PublicKeySize]byte {
	out := make([][PublicKeySize]byte, len(pks))
	for i, pk := range pks {
		out[i] = pk.Bytes()
	}
	return out
}

// digestOf names the set's check by its keys' and signature's encodings.
func (s *sigSet) digestOf() sigcache.Digest {
	if len(s.pks) == 1 && len(s.msgs) == 1 && !s.multiple {
		return VerifyDigest(s.pks[0].Bytes(), s.msgs[0], s.sig.Bytes(), s.domain)
	}
	return VerifyMultipleDigest(encodeKeys(s.pks), s.msgs, s.sig.Bytes(), s.domain)
}
