package types

import (
	"bytes"
	"fmt"

	ssz "github.com/ferranbt/fastssz"
)

// Codec is a container with a generated SSZ codec.
type Codec interface {
	ssz.Marshaler
	ssz.Unmarshaler
}

// Decode is UnmarshalSSZ plus a canonical-encoding check: the value must
// encode back to exactly buf. The generated decoders accept some
// non-canonical input (a boolean byte other than 0 or 1 reads as false);
// everything that comes from a peer or a file goes through Decode.
func Decode(v Codec, buf []byte) error {
	if err := v.UnmarshalSSZ(buf); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSSZ, err)
	}
	out, err := v.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("%w: re-encode: %w", ErrInvalidSSZ, err)
	}
	if !bytes.Equal(out, buf) {
		return fmt.Errorf("%w: non-canonical encoding", ErrInvalidSSZ)
	}
	return nil
}
