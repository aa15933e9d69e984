// Package bls implements the BLS12-381 signature scheme of the Ethereum 2.0
// phase 0 specification v0.8.3 on top of herumi's bls-eth-go-binary.
//
// This is the pre-IETF scheme: public keys are G1 points (48-byte compressed,
// zcash encoding), signatures are G2 points (96 bytes), and a 32-byte message
// hash is mapped to G2 together with an 8-byte domain by the spec's
// try-and-increment hash_to_G2.
//
// Verification follows the spec's mathematics exactly, including its corner
// cases: the point at infinity is a well-formed public key and signature,
// an infinity public key contributes the neutral element to a pairing
// product, and so Verify(infinity, m, infinity, d) holds. Callers that must
// exclude such keys (for example deposits) have to check IsInfinity
// themselves.
//
// All values are immutable once built and safe for concurrent use. The
// underlying library is initialised once, in the package's init function.
package bls
