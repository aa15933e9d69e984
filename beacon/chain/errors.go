package chain

import "errors"

// Errors of the Service. Callers that judge network input (the node's gossip
// validators) test these before errors.Is(err, core.ErrInvalid): they mean
// "not now" or "not new", never "invalid".
var (
	// ErrUnknownParent is wrapped by ImportBlock when the block's parent is
	// not known (the node may fetch it and retry). The error also wraps
	// forkchoice.ErrUnknownParent.
	ErrUnknownParent = errors.New("unknown parent block")
	// ErrUnknownTarget is returned by OnAttestation when the attestation's
	// target block is not known.
	ErrUnknownTarget = errors.New("unknown target block")
	// ErrFuture is wrapped when a block's slot has not started, or an
	// attestation's slot or target epoch is ahead of the chain's clock.
	ErrFuture = errors.New("from the future")
	// ErrTooOld is wrapped when an attestation's target epoch is before the
	// previous epoch, or an operation no longer matters.
	ErrTooOld = errors.New("too old")
	// ErrDuplicate is returned for an attestation, operation or fraud proof
	// already in the pools.
	ErrDuplicate = errors.New("duplicate")
	// ErrGenesisMismatch is returned by New when the store holds another
	// genesis than the one configured.
	ErrGenesisMismatch = errors.New("genesis mismatch")
	// ErrInvalidConfig is wrapped by Config.Validate.
	ErrInvalidConfig = errors.New("invalid chain config")
)
