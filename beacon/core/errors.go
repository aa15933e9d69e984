package core

import "errors"

// ErrInvalid is the class of every consensus failure: a block, operation or
// state that the spec rejects (an `assert` failing). Callers map
// errors.Is(err, ErrInvalid) to "reject the input"; any other error is an
// internal or environmental problem.
var ErrInvalid = errors.New("invalid")

// Narrower classes, each wrapping ErrInvalid.
var (
	ErrInvalidBlock     = wrapClass("invalid block")
	ErrInvalidOperation = wrapClass("invalid operation")
	ErrInvalidSignature = wrapClass("invalid signature")
	ErrInvalidSlot      = wrapClass("invalid slot")
	ErrInvalidGenesis   = wrapClass("invalid genesis")
	ErrInvalidState     = wrapClass("invalid state")
)

type classError struct{ msg string }

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return ErrInvalid }

func wrapClass(msg string) error { return &classError{msg: msg} }
