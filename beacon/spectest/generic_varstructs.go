package spectest

import (
	"errors"
	"fmt"

	ssz "github.com/ferranbt/fastssz"
)

// VarTestStruct and ComplexTestStruct are written by hand on the fastssz
// runtime helpers because sszgen v0.1.4 cannot generate them: for a
// List[uint16] field it emits hh.AppendUint16, which ssz.HashWalker lacks (the
// output does not compile), and it panics on a Vector of containers
// ("type container for FixedTestStruct not expected"). No shardlab container
// has either kind of field. Their nested FixedTestStruct values still go
// through the generated code.

var errGenericSSZ = errors.New("invalid ssz")

// VarTestStruct is {A: uint16, B: List[uint16, 1024], C: uint8}.
type VarTestStruct struct {
	A uint16
	B []uint16
	C uint8
}

const (
	varTestStructFixed = 2 + 4 + 1
	varTestStructLimit = 1024
)

// SizeSSZ returns the encoded size of v.
func (v *VarTestStruct) SizeSSZ() int { return varTestStructFixed + 2*len(v.B) }

// MarshalSSZ encodes v.
func (v *VarTestStruct) MarshalSSZ() ([]byte, error) {
	return v.MarshalSSZTo(make([]byte, 0, v.SizeSSZ()))
}

// MarshalSSZTo appends the encoding of v to dst.
func (v *VarTestStruct) MarshalSSZTo(dst []byte) ([]byte, error) {
	if len(v.B) > varTestStructLimit {
		return nil, ssz.ErrListTooBigFn("VarTestStruct.B", len(v.B), varTestStructLimit)
	}
	dst = ssz.MarshalUint16(dst, v.A)
	dst = ssz.WriteOffset(dst, varTestStructFixed)
	dst = ssz.MarshalUint8(dst, v.C)
	for _, x := range v.B {
		dst = ssz.MarshalUint16(dst, x)
	}
	return dst, nil
}

// UnmarshalSSZ decodes buf into v.
func (v *VarTestStruct) UnmarshalSSZ(buf []byte) error {
	if len(buf) < varTestStructFixed {
		return fmt.Errorf("%w: VarTestStruct needs %d bytes, has %d", errGenericSSZ, varTestStructFixed, len(buf))
	}
	offs, err := readOffsets(buf, varTestStructFixed, 2)
	if err != nil {
		return fmt.Errorf("decode VarTestStruct: %w", err)
	}
	v.A = ssz.UnmarshallUint16(buf[0:2])
	v.C = ssz.UnmarshallUint8(buf[6:7])
	if v.B, err = decodeUint16List(buf[offs[0]:], varTestStructLimit); err != nil {
		return fmt.Errorf("decode VarTestStruct.B: %w", err)
	}
	return nil
}

// HashTreeRoot returns hash_tree_root(v).
func (v *VarTestStruct) HashTreeRoot() ([32]byte, error) { return ssz.HashWithDefaultHasher(v) }

// HashTreeRootWith puts hash_tree_root(v) on hh.
func (v *VarTestStruct) HashTreeRootWith(hh ssz.HashWalker) error {
	indx := hh.Index()
	if err := v.putFields(hh, 3); err != nil {
		return err
	}
	hh.Merkleize(indx)
	return nil
}

// GetTree is not supported; it completes ssz.HashRoot.
func (v *VarTestStruct) GetTree() (*ssz.Node, error) {
	return nil, errors.New("VarTestStruct: proof trees are not supported")
}

// putFields puts the roots of the first n fields of v on hh.
func (v *VarTestStruct) putFields(hh ssz.HashWalker, n int) error {
	if n > 0 {
		hh.PutUint16(v.A)
	}
	if n > 1 {
		if err := putUint16List(hh, v.B, varTestStructLimit); err != nil {
			return err
		}
	}
	if n > 2 {
		hh.PutUint8(v.C)
	}
	return nil
}

// ComplexTestStruct is {A: uint16, B: List[uint16, 128], C: uint8,
// D: ByteList[256], E: VarTestStruct, F: Vector[FixedTestStruct, 4],
// G: Vector[VarTestStruct, 2]}.
type ComplexTestStruct struct {
	A uint16
	B []uint16
	C uint8
	D []byte
	E VarTestStruct
	F [4]FixedTestStruct
	G [2]VarTestStruct
}

const (
	// A, offset B, C, offset D, offset E, F (4 x 13 bytes), offset G.
	complexTestStructFixed = 2 + 4 + 1 + 4 + 4 + 4*13 + 4
	complexBLimit          = 128
	complexDLimit          = 256
)

// SizeSSZ returns the encoded size of c.
func (c *ComplexTestStruct) SizeSSZ() int {
	n := complexTestStructFixed + 2*len(c.B) + len(c.D) + c.E.SizeSSZ() + 4*len(c.G)
	for i := range c.G {
		n += c.G[i].SizeSSZ()
	}
	return n
}

// MarshalSSZ encodes c.
func (c *ComplexTestStruct) MarshalSSZ() ([]byte, error) {
	return c.MarshalSSZTo(make([]byte, 0, c.SizeSSZ()))
}

// MarshalSSZTo appends the encoding of c to dst.
func (c *ComplexTestStruct) MarshalSSZTo(dst []byte) ([]byte, error) {
	if len(c.B) > complexBLimit {
		return nil, ssz.ErrListTooBigFn("ComplexTestStruct.B", len(c.B), complexBLimit)
	}
	if len(c.D) > complexDLimit {
		return nil, ssz.ErrListTooBigFn("ComplexTestStruct.D", len(c.D), complexDLimit)
	}
	gSize := 4 * len(c.G)
	for i := range c.G {
		gSize += c.G[i].SizeSSZ()
	}
	offset := complexTestStructFixed
	dst = ssz.MarshalUint16(dst, c.A)
	dst = ssz.WriteOffset(dst, offset)
	offset += 2 * len(c.B)
	dst = ssz.MarshalUint8(dst, c.C)
	dst = ssz.WriteOffset(dst, offset)
	offset += len(c.D)
	dst = ssz.WriteOffset(dst, offset)
	offset += c.E.SizeSSZ()
	var err error
	for i := range c.F {
		if dst, err = c.F[i].MarshalSSZTo(dst); err != nil {
			return nil, err
		}
	}
	dst = ssz.WriteOffset(dst, offset)

	for _, x := range c.B {
		dst = ssz.MarshalUint16(dst, x)
	}
	dst = append(dst, c.D...)
	if dst, err = c.E.MarshalSSZTo(dst); err != nil {
		return nil, err
	}
	// G: a vector of variable-size elements is its element offsets, then the
	// elements.
	inner := 4 * len(c.G)
	for i := range c.G {
		dst = ssz.WriteOffset(dst, inner)
		inner += c.G[i].SizeSSZ()
	}
	for i := range c.G {
		if dst, err = c.G[i].MarshalSSZTo(dst); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// UnmarshalSSZ decodes buf into c.
func (c *ComplexTestStruct) UnmarshalSSZ(buf []byte) error {
	if len(buf) < complexTestStructFixed {
		return fmt.Errorf("%w: ComplexTestStruct needs %d bytes, has %d", errGenericSSZ, complexTestStructFixed, len(buf))
	}
	// The offsets of B, D, E and G are at 2, 7, 11 and 67.
	offs, err := readOffsets(buf, complexTestStructFixed, 2, 7, 11, 67)
	if err != nil {
		return fmt.Errorf("decode ComplexTestStruct: %w", err)
	}
	c.A = ssz.UnmarshallUint16(buf[0:2])
	c.C = ssz.UnmarshallUint8(buf[6:7])
	for i := range c.F {
		at := 15 + 13*i
		if err := c.F[i].UnmarshalSSZ(buf[at : at+13]); err != nil {
			return fmt.Errorf("decode ComplexTestStruct.F[%d]: %w", i, err)
		}
	}
	if c.B, err = decodeUint16List(buf[offs[0]:offs[1]], complexBLimit); err != nil {
		return fmt.Errorf("decode ComplexTestStruct.B: %w", err)
	}
	d := buf[offs[1]:offs[2]]
	if len(d) > complexDLimit {
		return fmt.Errorf("%w: ComplexTestStruct.D has %d bytes, limit %d", errGenericSSZ, len(d), complexDLimit)
	}
	c.D = append([]byte{}, d...)
	if err := c.E.UnmarshalSSZ(buf[offs[2]:offs[3]]); err != nil {
		return fmt.Errorf("decode ComplexTestStruct.E: %w", err)
	}
	g := buf[offs[3]:]
	if len(g) < 4*len(c.G) {
		return fmt.Errorf("%w: ComplexTestStruct.G has %d bytes, needs at least %d", errGenericSSZ, len(g), 4*len(c.G))
	}
	gOffs, err := readOffsets(g, 4*len(c.G), 0, 4)
	if err != nil {
		return fmt.Errorf("decode ComplexTestStruct.G: %w", err)
	}
	gOffs = append(gOffs, len(g))
	for i := range c.G {
		if err := c.G[i].UnmarshalSSZ(g[gOffs[i]:gOffs[i+1]]); err != nil {
			return fmt.Errorf("decode ComplexTestStruct.G[%d]: %w", i, err)
		}
	}
	return nil
}

// HashTreeRoot returns hash_tree_root(c).
func (c *ComplexTestStruct) HashTreeRoot() ([32]byte, error) { return ssz.HashWithDefaultHasher(c) }

// HashTreeRootWith puts hash_tree_root(c) on hh.
func (c *ComplexTestStruct) HashTreeRootWith(hh ssz.HashWalker) error {
	indx := hh.Index()
	if err := c.putFields(hh, 7); err != nil {
		return err
	}
	hh.Merkleize(indx)
	return nil
}

// GetTree is not supported; it completes ssz.HashRoot.
func (c *ComplexTestStruct) GetTree() (*ssz.Node, error) {
	return nil, errors.New("ComplexTestStruct: proof trees are not supported")
}

// putFields puts the roots of the first n fields of c on hh.
func (c *ComplexTestStruct) putFields(hh ssz.HashWalker, n int) error {
	steps := []func() error{
		func() error { hh.PutUint16(c.A); return nil },
		func() error { return putUint16List(hh, c.B, complexBLimit) },
		func() error { hh.PutUint8(c.C); return nil },
		func() error {
			if len(c.D) > complexDLimit {
				return ssz.ErrIncorrectListSize
			}
			sub := hh.Index()
			hh.Append(c.D)
			hh.MerkleizeWithMixin(sub, uint64(len(c.D)), (complexDLimit+31)/32)
			return nil
		},
		func() error { return c.E.HashTreeRootWith(hh) },
		func() error {
			// A vector of containers is the Merkle tree of the element roots.
			sub := hh.Index()
			for i := range c.F {
				if err := c.F[i].HashTreeRootWith(hh); err != nil {
					return err
				}
			}
			hh.Merkleize(sub)
			return nil
		},
		func() error {
			sub := hh.Index()
			for i := range c.G {
				if err := c.G[i].HashTreeRootWith(hh); err != nil {
					return err
				}
			}
			hh.Merkleize(sub)
			return nil
		},
	}
	for _, step := range steps[:n] {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// readOffsets reads the 4-byte offsets at the given positions of buf and
// checks them as SSZ requires: the first equals fixed (the end of the fixed
// part), each is at least the previous one, and none is past the end of buf.
func readOffsets(buf []byte, fixed int, at ...int) ([]int, error) {
	offs := make([]int, len(at))
	prev := fixed
	for i, p := range at {
		if p+4 > len(buf) {
			return nil, fmt.Errorf("%w: offset %d at byte %d is past the end", errGenericSSZ, i, p)
		}
		o := int(ssz.ReadOffset(buf[p : p+4]))
		switch {
		case i == 0 && o != fixed:
			return nil, fmt.Errorf("%w: first offset is %d, the fixed part ends at %d", errGenericSSZ, o, fixed)
		case o < prev:
			return nil, fmt.Errorf("%w: offset %d (%d) is before the previous one (%d)", errGenericSSZ, i, o, prev)
		case o > len(buf):
			return nil, fmt.Errorf("%w: offset %d (%d) is past the end (%d)", errGenericSSZ, i, o, len(buf))
		}
		offs[i], prev = o, o
	}
	return offs, nil
}

// decodeUint16List decodes a List[uint16, limit].
func decodeUint16List(b []byte, limit int) ([]uint16, error) {
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of uint16", errGenericSSZ, len(b))
	}
	if len(b)/2 > limit {
		return nil, fmt.Errorf("%w: %d elements, limit %d", errGenericSSZ, len(b)/2, limit)
	}
	out := make([]uint16, len(b)/2)
	for i := range out {
		out[i] = ssz.UnmarshallUint16(b[2*i:])
	}
	return out, nil
}

// putUint16List puts the root of a List[uint16, limit] on hh: the packed
// elements merkleized to the limit's chunk count, with the length mixed in.
func putUint16List(hh ssz.HashWalker, l []uint16, limit int) error {
	if len(l) > limit {
		return ssz.ErrIncorrectListSize
	}
	sub := hh.Index()
	var tmp [2]byte
	for _, x := range l {
		hh.Append(ssz.MarshalUint16(tmp[:0], x))
	}
	hh.FillUpTo32()
	n := uint64(len(l))
	hh.MerkleizeWithMixin(sub, n, ssz.CalculateLimit(uint64(limit), n, 2))
	return nil
}
