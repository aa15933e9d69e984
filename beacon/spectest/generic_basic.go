package spectest

import (
	"bytes"
	"fmt"
	"math/big"
	"math/bits"
	"regexp"
	"strconv"

	ssz "github.com/ferranbt/fastssz"
	"gopkg.in/yaml.v3"
)

// The parameterised ssz_generic shapes (uint_<bits>, bool, vec_<type>_<n>,
// bitvec_<n>, bitlist_<n>) have no Go struct to generate: each case names its
// own type. basicType decodes them strictly (exact lengths, booleans 0 or 1,
// zero bitvector padding, a bitlist delimiter within the limit) into values
// that re-encode and hash with the fastssz helpers the generated code uses.

type basicKind int

const (
	kindUint basicKind = iota
	kindBool
	kindVector
	kindBitvector
	kindBitlist
)

// basicType is one parameterised shape.
type basicType struct {
	kind basicKind
	// size is the byte size of a uint (1 to 32); 1 for a bool.
	size int
	// elem is the element type of a vector.
	elem *basicType
	// n is the length of a vector or bitvector, or the limit of a bitlist.
	n int
}

func (t basicType) String() string {
	switch t.kind {
	case kindUint:
		return fmt.Sprintf("uint%d", 8*t.size)
	case kindBool:
		return "bool"
	case kindVector:
		return fmt.Sprintf("Vector[%s, %d]", t.elem, t.n)
	case kindBitvector:
		return fmt.Sprintf("Bitvector[%d]", t.n)
	case kindBitlist:
		return fmt.Sprintf("Bitlist[%d]", t.n)
	}
	return "?"
}

var (
	reUintCase    = regexp.MustCompile(`^uint_(8|16|32|64|128|256)_`)
	reVectorCase  = regexp.MustCompile(`^vec_(bool|uint(?:8|16|32|64|128|256))_(\d+)(?:_|$)`)
	reBitvecCase  = regexp.MustCompile(`^bitvec_(\d+)(?:_|$)`)
	reBitlistCase = regexp.MustCompile(`^bitlist_(\d+)(?:_|$)`)
	reNoDelimiter = regexp.MustCompile(`^bitlist_no_delimiter_`)
)

// noLimitBitlists are the limits an invalid bitlist case without one in its
// name (bitlist_no_delimiter_*) is decoded with: those encodings are invalid
// for every limit, so each of the suite's limits must reject them.
var noLimitBitlists = []int{1, 2, 3, 4, 5, 8, 16, 31, 32, 512, 513}

// basicTypesOf returns the type(s) a basic ssz_generic case is about, from its
// handler and name. Only bitlist_no_delimiter_* cases have several.
func basicTypesOf(handler, name string) ([]basicType, error) {
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			return -1
		}
		return n
	}
	switch handler {
	case "boolean":
		return []basicType{{kind: kindBool, size: 1}}, nil
	case "uints":
		if m := reUintCase.FindStringSubmatch(name); m != nil {
			return []basicType{{kind: kindUint, size: atoi(m[1]) / 8}}, nil
		}
	case "basic_vector":
		if m := reVectorCase.FindStringSubmatch(name); m != nil {
			elem := basicType{kind: kindBool, size: 1}
			if m[1] != "bool" {
				elem = basicType{kind: kindUint, size: atoi(m[1][len("uint"):]) / 8}
			}
			return []basicType{{kind: kindVector, elem: &elem, n: atoi(m[2])}}, nil
		}
	case "bitvector":
		if m := reBitvecCase.FindStringSubmatch(name); m != nil {
			return []basicType{{kind: kindBitvector, n: atoi(m[1])}}, nil
		}
	case "bitlist":
		if m := reBitlistCase.FindStringSubmatch(name); m != nil {
			return []basicType{{kind: kindBitlist, n: atoi(m[1])}}, nil
		}
		if reNoDelimiter.MatchString(name) {
			out := make([]basicType, len(noLimitBitlists))
			for i, n := range noLimitBitlists {
				out[i] = basicType{kind: kindBitlist, n: n}
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("parse type of %s case %q: %w", handler, name, errUnknownShape)
}

// basicValue is a decoded basic ssz_generic value.
type basicValue interface {
	encode(dst []byte) []byte
	// put puts the value's packed chunks (uints, bools, vectors) or its root
	// (bitfields) on hh.
	put(hh ssz.HashWalker)
	yamlMatcher
}

// decode decodes buf as t, rejecting every non-canonical encoding.
func (t basicType) decode(buf []byte) (basicValue, error) {
	switch t.kind {
	case kindUint:
		if len(buf) != t.size {
			return nil, fmt.Errorf("%w: %s needs %d bytes, has %d", errGenericSSZ, t, t.size, len(buf))
		}
		return uintValue(bytes.Clone(buf)), nil
	case kindBool:
		if len(buf) != 1 {
			return nil, fmt.Errorf("%w: bool needs 1 byte, has %d", errGenericSSZ, len(buf))
		}
		if buf[0] > 1 {
			return nil, fmt.Errorf("%w: bool byte is 0x%02x", errGenericSSZ, buf[0])
		}
		return boolValue(ssz.UnmarshalBool(buf)), nil
	case kindVector:
		if t.n <= 0 {
			return nil, fmt.Errorf("%w: %s is not a valid type", errGenericSSZ, t)
		}
		if len(buf) != t.n*t.elem.size {
			return nil, fmt.Errorf("%w: %s needs %d bytes, has %d", errGenericSSZ, t, t.n*t.elem.size, len(buf))
		}
		v := make(vectorValue, t.n)
		for i := range v {
			e, err := t.elem.decode(buf[i*t.elem.size : (i+1)*t.elem.size])
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			v[i] = e
		}
		return v, nil
	case kindBitvector:
		if t.n <= 0 {
			return nil, fmt.Errorf("%w: %s is not a valid type", errGenericSSZ, t)
		}
		if want := (t.n + 7) / 8; len(buf) != want {
			return nil, fmt.Errorf("%w: %s needs %d bytes, has %d", errGenericSSZ, t, want, len(buf))
		}
		if pad := t.n % 8; pad != 0 && buf[len(buf)-1]>>pad != 0 {
			return nil, fmt.Errorf("%w: %s has padding bits set (last byte 0x%02x)", errGenericSSZ, t, buf[len(buf)-1])
		}
		return bitvectorValue(unpackBits(buf, t.n)), nil
	case kindBitlist:
		if err := ssz.ValidateBitlist(buf, uint64(t.n)); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errGenericSSZ, t, err)
		}
		last := buf[len(buf)-1]
		n := 8*(len(buf)-1) + bits.Len8(last) - 1
		return &bitlistValue{limit: t.n, bits: unpackBits(buf, n)}, nil
	}
	return nil, fmt.Errorf("decode %s: unknown kind", t)
}

// hashBasic returns hash_tree_root(v).
func hashBasic(v basicValue) ([32]byte, error) {
	hh := ssz.DefaultHasherPool.Get()
	defer ssz.DefaultHasherPool.Put(hh)
	indx := hh.Index()
	v.put(hh)
	hh.Merkleize(indx)
	return hh.HashRoot()
}

// uintValue is a uint of any width as its little-endian bytes.
type uintValue []byte

func (u uintValue) encode(dst []byte) []byte {
	switch len(u) {
	case 1:
		return ssz.MarshalUint8(dst, ssz.UnmarshallUint8(u))
	case 2:
		return ssz.MarshalUint16(dst, ssz.UnmarshallUint16(u))
	case 4:
		return ssz.MarshalUint32(dst, ssz.UnmarshallUint32(u))
	}
	// uint64 and the 128- and 256-bit uints, as 64-bit limbs.
	for i := 0; i < len(u); i += 8 {
		dst = ssz.MarshalUint64(dst, ssz.UnmarshallUint64(u[i:i+8]))
	}
	return dst
}

// put appends the value's bytes; the caller pads them to a chunk.
func (u uintValue) put(hh ssz.HashWalker) {
	hh.Append(u.encode(nil))
	hh.FillUpTo32()
}

// big returns the value as an integer.
func (u uintValue) big() *big.Int {
	be := make([]byte, len(u))
	for i, b := range u {
		be[len(u)-1-i] = b
	}
	return new(big.Int).SetBytes(be)
}

// matchYAML compares with a decimal number (quoted for 128 and 256 bits).
func (u uintValue) matchYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a number, yaml has %s", describe(n))
	}
	want, ok := new(big.Int).SetString(n.Value, 10)
	if !ok {
		return fmt.Errorf("parse %q as a decimal integer", n.Value)
	}
	if got := u.big(); got.Cmp(want) != 0 {
		return fmt.Errorf("got %s, want %s", got, want)
	}
	return nil
}

type boolValue bool

func (b boolValue) encode(dst []byte) []byte { return ssz.MarshalBool(dst, bool(b)) }

func (b boolValue) put(hh ssz.HashWalker) {
	hh.Append(b.encode(nil))
	hh.FillUpTo32()
}

func (b boolValue) matchYAML(n *yaml.Node) error {
	want, err := scalarBool(n)
	if err != nil {
		return err
	}
	if bool(b) != want {
		return fmt.Errorf("got %t, want %t", bool(b), want)
	}
	return nil
}

// vectorValue is a Vector of uints or bools.
type vectorValue []basicValue

func (v vectorValue) encode(dst []byte) []byte {
	for _, e := range v {
		dst = e.encode(dst)
	}
	return dst
}

// put packs the elements into chunks; the caller merkleizes them (a vector
// of basic values has as many chunks as its packed bytes fill).
func (v vectorValue) put(hh ssz.HashWalker) {
	hh.Append(v.encode(nil))
	hh.FillUpTo32()
}

func (v vectorValue) matchYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("want a sequence, yaml has %s", describe(n))
	}
	if len(n.Content) != len(v) {
		return fmt.Errorf("got %d elements, want %d", len(v), len(n.Content))
	}
	for i, e := range v {
		if err := e.matchYAML(resolveNode(n.Content[i])); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return nil
}

// bitvectorValue is a Bitvector as its bits.
type bitvectorValue []bool

func (b bitvectorValue) encode(dst []byte) []byte { return append(dst, packBits(b, false)...) }

func (b bitvectorValue) put(hh ssz.HashWalker) {
	hh.Append(b.encode(nil))
	hh.FillUpTo32()
}

func (b bitvectorValue) matchYAML(n *yaml.Node) error { return matchBytes(n, b.encode(nil), "bits") }

// bitlistValue is a Bitlist as its bits, without the delimiter.
type bitlistValue struct {
	limit int
	bits  []bool
}

func (b *bitlistValue) encode(dst []byte) []byte { return append(dst, packBits(b.bits, true)...) }

// put puts the bitlist's root: its bits merkleized to the limit's chunk count
// with the length mixed in.
func (b *bitlistValue) put(hh ssz.HashWalker) { hh.PutBitlist(b.encode(nil), uint64(b.limit)) }

func (b *bitlistValue) matchYAML(n *yaml.Node) error {
	return matchBytes(n, b.encode(nil), "bits")
}

// unpackBits returns the first n bits of buf, least significant bit first.
func unpackBits(buf []byte, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = buf[i/8]>>(i%8)&1 == 1
	}
	return out
}

// packBits packs bits least significant bit first; with delimiter, a 1 bit
// follows them (the bitlist encoding).
func packBits(bits []bool, delimiter bool) []byte {
	n := len(bits)
	if delimiter {
		n++
	}
	out := make([]byte, (n+7)/8)
	for i, b := range bits {
		if b {
			out[i/8] |= 1 << (i % 8)
		}
	}
	if delimiter {
		out[len(bits)/8] |= 1 << (len(bits) % 8)
	}
	return out
}
