package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// Sigs says what the transition does with each signature the spec checks.
type Sigs struct {
	mode  sigMode
	batch *bls.Batch
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

// Skipping reports whether signatures are ignored.
func (s Sigs) Skipping() bool { return s.mode == sigSkip }

// pubkey returns a decompressed validator key through the cache.
func (t *Transition) pubkey(pk types.BLSPubkey) (*bls.PublicKey, error) {
	return t.pubkeys.Get(pk)
}

// verify is bls_verify under the given policy; a failure wraps ErrInvalidSignature.
func (t *Transition) verify(s Sigs, pk types.BLSPubkey, msg types.Root, sig types.BLSSignature, domain types.Domain, what string) error {
	if s.mode == sigSkip {
		return nil
	}
	key, err := t.pubkey(pk)
	if err != nil {
		return fmt.Errorf("%w: %s: public key: %v", ErrInvalidSignature, what, err)
	}
	return t.verifyKey(s, key, msg, sig, domain, what)
}

func (t *Transition) verifyKey(s Sigs, key *bls.PublicKey, msg types.Root, sig types.BLSSignature, domain types.Domain, what string) error {
	signature, err := s.signature(sig, what)
	if signature == nil {
		return err
	}
	if s.mode == sigBatch {
		s.batch.Add(key, msg, domain, signature, what)
		return nil
	}
	if !bls.Verify(key, msg, signature, domain) {
		return fmt.Errorf("%w: %s", ErrInvalidSignature, what)
	}
	return nil
}

// verifyMultiple is bls_verify_multiple under the given policy.
func (t *Transition) verifyMultiple(s Sigs, keys []*bls.PublicKey, msgs [][32]byte, sig types.BLSSignature, domain types.Domain, what string) error {
	signature, err := s.signature(sig, what)
	if signature == nil {
		return err
	}
	if s.mode == sigBatch {
		s.batch.AddMultiple(keys, msgs, domain, signature, what)
		return nil
	}
	if !bls.VerifyMultiple(keys, msgs, signature, domain) {
		return fmt.Errorf("%w: %s", ErrInvalidSignature, what)
	}
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
