package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/crypto/sigcache"
)

// Sigs says what the transition does with each signature the spec checks.
// A verifying or batching policy may carry a verification cache
// (WithCache, Batch.Cache): a check that verified before, with the same
// domain, message(s), public key(s) and signature bytes, is then not
// repeated, and each check that verifies is remembered. The policies below
// carry none: pure code caches nothing unless its caller says so.
type Sigs struct {
	mode  sigMode
	batch *bls.Batch
	cache *bls.VerifyCache
}

type sigMode int

const (
	sigVerify sigMode = iota
	sigBatch
	sigSkip
)

// VerifySigs checks every signature where the spec does.
var VerifySigs = Sigs{mode: sigVerify}

// SkipSigs checks no signature: the spec with BLS turned off (the vectors'
// bls_setting 2, or a simulation that trusts its own validators). Deposit
// signatures then count as valid, as in the spec with BLS off.
var SkipSigs = Sigs{mode: sigSkip}

// BatchSigs collects signatures into b, which the caller must verify (all or
// nothing) before trusting the result. Deposit signatures are still checked at
// once, since a bad one skips the deposit instead of failing the block.
func BatchSigs(b *bls.Batch) Sigs { return Sigs{mode: sigBatch, batch: b} }

// WithCache returns s checking signatures through c (nil: no cache). A
// batching policy looks checks up in, and remembers them through, its
// batch's Cache instead; SkipSigs checks nothing either way.
func (s Sigs) WithCache(c *bls.VerifyCache) Sigs {
	s.cache = c
	return s
}

// Cache returns the verification cache s uses, or nil.
func (s Sigs) Cache() *bls.VerifyCache {
	switch s.mode {
	case sigBatch:
		return s.batch.Cache
	case sigSkip:
		return nil
	}
	return s.cache
}

// Skipping reports whether signatures are ignored.
func (s Sigs) Skipping() bool { return s.mode == sigSkip }

// Verifying reports whether every signature is checked before the
// transition returns (neither skipped nor left to a batch).
func (s Sigs) Verifying() bool { return s.mode == sigVerify }

// pubkey returns a decompressed validator key through the cache.
func (t *Transition) pubkey(pk types.BLSPubkey) (*bls.PublicKey, error) {
	return t.pubkeys.Get(pk)
}

// VerifySignature is bls_verify(pk, msg, sig, domain) under s, for the
// shard layer's signatures: a failure wraps ErrInvalidSignature.
func (t *Transition) VerifySignature(s Sigs, pk types.BLSPubkey, msg types.Root, sig types.BLSSignature, domain types.Domain, what string) error {
	return t.verify(s, pk, msg, sig, domain, what)
}

// verify is bls_verify under the given policy; a failure wraps ErrInvalidSignature.
// A cache hit skips decoding the key and the signature as well.
func (t *Transition) verify(s Sigs, pk types.BLSPubkey, msg types.Root, sig types.BLSSignature, domain types.Domain, what string) error {
	if s.mode == sigSkip {
		return nil
	}
	c := s.Cache()
	var d sigcache.Digest
	if c != nil {
		d = bls.VerifyDigest(pk, msg, sig, domain)
		if c.Contains(d) {
			return nil
		}
	}
	key, err := t.pubkey(pk)
	if err != nil {
		return fmt.Errorf("%w: %s: public key: %v", ErrInvalidSignature, what, err)
	}
	return s.check(c, d, []*bls.PublicKey{key}, [][32]byte{msg}, false, sig, domain, what)
}

// verifyKey is bls_verify of a decoded key under the given policy.
func (t *Transition) verifyKey(s Sigs, key *bls.PublicKey, msg types.Root, sig types.BLSSignature, domain types.Domain, what string) error {
	if s.mode == sigSkip {
		return nil
	}
	c := s.Cache()
	var d sigcache.Digest
	if c != nil {
		d = bls.VerifyDigest(key.Bytes(), msg, sig, domain)
		if c.Contains(d) {
			return nil
		}
	}
	return s.check(c, d, []*bls.PublicKey{key}, [][32]byte{msg}, false, sig, domain, what)
}

// verifyMultiple is bls_verify_multiple under the given policy; the cache
// digest covers every (aggregate) key and message.
func (t *Transition) verifyMultiple(s Sigs, keys []*bls.PublicKey, msgs [][32]byte, sig types.BLSSignature, domain types.Domain, what string) error {
	if s.mode == sigSkip {
		return nil
	}
	c := s.Cache()
	var d sigcache.Digest
	if c != nil {
		enc := make([][bls.PublicKeySize]byte, len(keys))
		for i, k := range keys {
			if k == nil {
				return fmt.Errorf("%w: %s: missing key", ErrInvalidSignature, what)
			}
			enc[i] = k.Bytes()
		}
		d = bls.VerifyMultipleDigest(enc, msgs, sig, domain)
		if c.Contains(d) {
			return nil
		}
	}
	return s.check(c, d, keys, msgs, true, sig, domain, what)
}

// check decodes sig and verifies (or queues) the check named by d,
// remembering a success in c when c is set: bls_verify_multiple when
// multiple, else bls_verify of the one key and message.
func (s Sigs) check(c *bls.VerifyCache, d sigcache.Digest, keys []*bls.PublicKey, msgs [][32]byte, multiple bool, sig types.BLSSignature, domain types.Domain, what string) error {
	signature, err := s.signature(sig, what)
	if signature == nil {
		return err
	}
	if s.mode == sigBatch {
		switch {
		case c != nil:
			s.batch.AddDigest(d, keys, msgs, domain, signature, what)
		case multiple:
			s.batch.AddMultiple(keys, msgs, domain, signature, what)
		default:
			s.batch.Add(keys[0], msgs[0], domain, signature, what)
		}
		return nil
	}
	var ok bool
	if multiple {
		ok = bls.VerifyMultiple(keys, msgs, signature, domain)
	} else {
		ok = bls.Verify(keys[0], msgs[0], signature, domain)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrInvalidSignature, what)
	}
	c.Add(d)
	return nil
}

// signature decodes sig for checking under s: nil and no error when s
// skips signatures, nil and an ErrInvalidSignature when sig is not a
// valid point.
func (s Sigs) signature(sig types.BLSSignature, what string) (*bls.Signature, error) {
	if s.mode == sigSkip {
		return nil, nil
	}
	signature, err := bls.SignatureFromBytes(sig[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidSignature, what, err)
	}
	return signature, nil
}
