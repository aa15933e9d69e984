package bls

import "errors"

var (
	// ErrInvalidLength is returned when an encoding has the wrong size.
	ErrInvalidLength = errors.New("bls: invalid length")
	// ErrZeroSecretKey is returned for a secret key equal to zero.
	ErrZeroSecretKey = errors.New("bls: zero secret key")
	// ErrSecretKeyRange is returned for a secret key not below the curve order.
	ErrSecretKeyRange = errors.New("bls: secret key not below curve order")
	// ErrInvalidPublicKey is returned for bytes that do not encode a G1
	// point of the prime-order subgroup.
	ErrInvalidPublicKey = errors.New("bls: invalid public key")
	// ErrInvalidSignature is returned for bytes that do not encode a G2
	// point of the prime-order subgroup, and by batch verification for a
	// signature that does not verify.
	ErrInvalidSignature = errors.New("bls: invalid signature")
	// ErrNonCanonical is returned for an encoding that decodes to a point
	// whose canonical encoding differs (for example stray bits after the
	// infinity flag).
	ErrNonCanonical = errors.New("bls: non-canonical encoding")
	// ErrMalformedSet is returned by batch verification for a set with nil
	// keys or signature, or with mismatched key and message counts.
	ErrMalformedSet = errors.New("bls: malformed signature set")
	// ErrBatchInconsistent is returned when a combined batch check failed
	// but every set verified on its own, which only a faulty random
	// source can cause.
	ErrBatchInconsistent = errors.New("bls: batch check failed but every set verifies")
	// ErrUnknownHandler is returned by RunVectorCase for an unknown handler.
	ErrUnknownHandler = errors.New("bls: unknown vector handler")
	// ErrVectorMismatch is returned by RunVectorCase when a result differs
	// from the expected output.
	ErrVectorMismatch = errors.New("bls: vector mismatch")
)
