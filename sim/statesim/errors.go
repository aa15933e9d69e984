package statesim

import "errors"

var (
	// ErrInvalidConfig is wrapped by every error Config.Validate returns.
	ErrInvalidConfig = errors.New("invalid simulation config")
	// ErrCaseMismatch is returned by VerifyCase when replaying the blocks
	// does not give the recorded post-state.
	ErrCaseMismatch = errors.New("test case mismatch")
)
