package types

import "errors"

// ErrInvalidSSZ is wrapped by every decoding and shape error of this package.
var ErrInvalidSSZ = errors.New("invalid ssz")
