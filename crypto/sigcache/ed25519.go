package sigcache

import "crypto/ed25519"

// ed25519Scheme tags the digests of ed25519 verifications.
const ed25519Scheme = "ed25519/verify"

// Ed25519Digest names the check ed25519.Verify(pub, msg, sig).
func Ed25519Digest(pub, msg, sig []byte) Digest {
	h := NewHasher(ed25519Scheme)
	h.Write(pub)
	h.Write(msg)
	h.Write(sig)
	return h.Sum()
}

// VerifyEd25519 is ed25519.Verify(pub, msg, sig) that skips the curve
// arithmetic when c holds the same check as verified; it adds the check
// when it verifies. With a nil c it is plain ed25519.Verify. A key of the
// wrong length never verifies (ed25519.Verify would panic).
func (c *Cache) VerifyEd25519(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	if c == nil {
		return ed25519.Verify(pub, msg, sig)
	}
	return c.Check(Ed25519Digest(pub, msg, sig), func() bool { return ed25519.Verify(pub, msg, sig) })
}
