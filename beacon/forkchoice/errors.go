package forkchoice

import (
	"errors"

	"github.com/shardlab/shardlab/beacon/core"
)

// The rejections of the handlers. Each wraps core.ErrInvalid, so
// errors.Is(err, core.ErrInvalid) means "the input is invalid for this store";
// callers that can recover (fetch a missing parent, retry once the clock has
// advanced) test for the narrower sentinels first.
var (
	// ErrMalformed: a nil block or attestation, or a nil entry in a block
	// body's operation lists.
	ErrMalformed = invalid("malformed input")
	// ErrUnknownParent: the block's parent is not in the store (on_block's
	// `assert block.parent_root in store.block_states`). The node may fetch
	// the parent and retry.
	ErrUnknownParent = invalid("unknown parent")
	// ErrFutureBlock: the block's slot has not started yet
	// (`assert store.time >= pre_state.genesis_time + block.slot * SECONDS_PER_SLOT`).
	// Retry once the clock has reached it.
	ErrFutureBlock = invalid("block from the future")
	// ErrNotDescendantOfFinalized: the block does not descend from the
	// finalized block.
	ErrNotDescendantOfFinalized = invalid("block does not descend from the finalized block")
	// ErrFinalizedSlot: the block's slot is at or before the start slot of
	// the finalized epoch (`assert block.slot > compute_start_slot_of_epoch(...)`).
	ErrFinalizedSlot = invalid("block slot is not after the finalized epoch start")
	// ErrUnknownTarget: the attestation's target block is not in the store.
	ErrUnknownTarget = invalid("unknown target block")
	// ErrFutureAttestation: the target epoch has not started, or the
	// attestation's slot has not ended yet (attestations only affect the fork
	// choice of later slots). Retry once the clock has advanced.
	ErrFutureAttestation = invalid("attestation from the future")
)

// Internal inconsistencies: not ErrInvalid, they indicate a bug or a store
// built from an unsuitable genesis state.
var (
	// ErrMissingState: a block or checkpoint state the store needs is absent.
	ErrMissingState = errors.New("missing state")
	// ErrNilArgument: New was given a nil transition or genesis state.
	ErrNilArgument = errors.New("nil argument")
	// ErrInvalidArgument: NewStateCache was given a bound below one.
	ErrInvalidArgument = errors.New("invalid argument")
)

// invalidError is a sentinel of this package that is also a core.ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return core.ErrInvalid }

func invalid(msg string) error { return &invalidError{msg: msg} }
