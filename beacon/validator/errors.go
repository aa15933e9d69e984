package validator

import "errors"

var (
	// ErrNoKey is returned when a duty falls to a validator whose secret key
	// is not in the key set given.
	ErrNoKey = errors.New("no key for validator")
	// ErrNotAssigned is returned when the arguments do not describe a duty
	// the state assigns: a shard whose committee does not attest at the slot,
	// or a participant outside the committee.
	ErrNotAssigned = errors.New("no such duty")
	// ErrUnsupported is returned for a state this package cannot produce a
	// block for, such as one that expects deposits to be included.
	ErrUnsupported = errors.New("unsupported state")
)
