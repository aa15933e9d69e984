package slasher

import "errors"

var (
	// ErrMalformed is wrapped for input no verified message can have: a
	// source after its target, unsorted or repeated indices, too many
	// indices.
	ErrMalformed = errors.New("malformed slasher input")
	// ErrOutOfWindow is wrapped for an epoch before the history window or
	// after the next epoch.
	ErrOutOfWindow = errors.New("epoch outside the slasher window")
	// ErrUnknownValidator is wrapped for a validator index at or above the
	// validator count given to Advance.
	ErrUnknownValidator = errors.New("unknown validator")
	// ErrInvalidConfig is wrapped by Config.Validate.
	ErrInvalidConfig = errors.New("invalid slasher config")
)
