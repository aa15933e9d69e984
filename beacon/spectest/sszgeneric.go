package spectest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	ssz "github.com/ferranbt/fastssz"
	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/types"
)

// RunnerSSZGeneric is the runner of the general ssz_generic vectors.
const RunnerSSZGeneric = "ssz_generic"

// The ssz_generic suites: valid cases must decode, re-encode identically and
// hash to meta.yaml's root; invalid cases must fail to decode.
const (
	SuiteValid   = "valid"
	SuiteInvalid = "invalid"
)

// RegisterSSZGeneric registers the ssz_generic handlers: uints, boolean,
// basic_vector, bitvector, bitlist and containers.
func RegisterSSZGeneric(r *Registry) {
	for _, h := range []string{"uints", "boolean", "basic_vector", "bitvector", "bitlist"} {
		r.Register(RunnerSSZGeneric, h, genericHandler(basicTypes))
	}
	r.Register(RunnerSSZGeneric, "containers", genericHandler(containerTypes))
}

// errUnknownShape is wrapped by the codec errors that come from a case name
// naming no known type; an invalid case failing that way has not tested
// anything, so it fails.
var errUnknownShape = errors.New("unknown ssz_generic shape")

// genericObject is a decoded ssz_generic value.
type genericObject struct {
	value   any // compared with value.yaml
	encode  func() ([]byte, error)
	size    func() int
	root    func() ([32]byte, error)
	signing func() ([32]byte, error) // containers only
}

// genericType is a type a case's serialized bytes are decoded as.
type genericType struct {
	name   string
	decode func(raw []byte) (*genericObject, error)
}

// genericTypes returns the type(s) of a case, from its handler and name. Only
// cases that name no single type have several (see noLimitBitlists): a valid
// case must decode as each, an invalid case as none.
type genericTypes func(c *Case) ([]genericType, error)

func basicTypes(c *Case) ([]genericType, error) {
	ts, err := basicTypesOf(c.Handler, c.Name)
	if err != nil {
		return nil, err
	}
	out := make([]genericType, len(ts))
	for i, t := range ts {
		out[i] = genericType{name: t.String(), decode: func(raw []byte) (*genericObject, error) {
			v, err := t.decode(raw)
			if err != nil {
				return nil, err
			}
			return &genericObject{
				value:  v,
				encode: func() ([]byte, error) { return v.encode(nil), nil },
				size:   func() int { return len(v.encode(nil)) },
				root:   func() ([32]byte, error) { return hashBasic(v) },
			}, nil
		}}
	}
	return out, nil
}

// testContainer is what a ssz_generic container type provides.
type testContainer interface {
	MarshalSSZ() ([]byte, error)
	UnmarshalSSZ([]byte) error
	SizeSSZ() int
	HashTreeRoot() ([32]byte, error)
}

// genericContainers builds an empty value of each ssz_generic container, by
// the case-name prefix that names it.
var genericContainers = map[string]func() testContainer{
	"SingleFieldTestStruct": func() testContainer { return new(SingleFieldTestStruct) },
	"SmallTestStruct":       func() testContainer { return new(SmallTestStruct) },
	"FixedTestStruct":       func() testContainer { return new(FixedTestStruct) },
	"VarTestStruct":         func() testContainer { return new(VarTestStruct) },
	"ComplexTestStruct":     func() testContainer { return new(ComplexTestStruct) },
	"BitsStruct":            func() testContainer { return new(BitsStruct) },
}

func containerTypes(c *Case) ([]genericType, error) {
	name, _, _ := strings.Cut(c.Name, "_")
	mk, ok := genericContainers[name]
	if !ok {
		return nil, fmt.Errorf("parse type of containers case %q: %w: container %q", c.Name, errUnknownShape, name)
	}
	return []genericType{{name: name, decode: func(raw []byte) (*genericObject, error) {
		v := mk()
		if err := v.UnmarshalSSZ(raw); err != nil {
			return nil, err
		}
		if b, ok := v.(*BitsStruct); ok {
			if err := b.validate(); err != nil {
				return nil, err
			}
		}
		return &genericObject{
			value:   v,
			encode:  v.MarshalSSZ,
			size:    v.SizeSSZ,
			root:    v.HashTreeRoot,
			signing: func() ([32]byte, error) { return genericSigningRoot(v) },
		}, nil
	}}}, nil
}

// genericHandler checks a valid or invalid case of the types resolve gives.
func genericHandler(resolve genericTypes) Handler {
	return func(c *Case) error {
		ts, err := resolve(c)
		if err != nil {
			return err
		}
		raw, err := c.ReadSSZ("serialized.ssz")
		if err != nil {
			return err
		}
		switch c.Suite {
		case SuiteInvalid:
			for _, t := range ts {
				if _, err := t.decode(raw); err == nil {
					return fmt.Errorf("check invalid input: %d bytes decoded as %s, want a decoding error", len(raw), t.name)
				}
			}
			return nil
		case SuiteValid:
			meta, err := c.Meta()
			if err != nil {
				return err
			}
			var want yaml.Node
			if err := c.ReadYAML("value.yaml", &want); err != nil {
				return err
			}
			for _, t := range ts {
				o, err := t.decode(raw)
				if err != nil {
					return fmt.Errorf("decode %s: %w", t.name, err)
				}
				if err := checkGeneric(o, raw, meta, &want); err != nil {
					return fmt.Errorf("check %s: %w", t.name, err)
				}
			}
			return nil
		}
		return fmt.Errorf("run %s: unknown suite %q: %w", c.ID(), c.Suite, ErrNotRun)
	}
}

func checkGeneric(o *genericObject, raw []byte, meta *Meta, want *yaml.Node) error {
	if got := o.size(); got != len(raw) {
		return fmt.Errorf("check size: encoded size is %d, serialized.ssz has %d bytes", got, len(raw))
	}
	enc, err := o.encode()
	if err != nil {
		return fmt.Errorf("encode value: %w", err)
	}
	if !bytes.Equal(enc, raw) {
		return fmt.Errorf("check round trip: re-encoding differs from serialized.ssz at byte %d", firstDiff(enc, raw))
	}
	root, err := o.root()
	if err != nil {
		return fmt.Errorf("hash value: %w", err)
	}
	if err := checkRoot("root", types.Root(root), meta.Root); err != nil {
		return err
	}
	if o.signing != nil && meta.SigningRoot != "" {
		sr, err := o.signing()
		if err != nil {
			return fmt.Errorf("hash signing root: %w", err)
		}
		if err := checkRoot("signing_root", types.Root(sr), meta.SigningRoot); err != nil {
			return err
		}
	}
	if err := matchYAML(want, o.value); err != nil {
		return fmt.Errorf("check value.yaml: %w", err)
	}
	return nil
}

// validate checks what the generated decoder does not: the padding bits of
// the bitvectors B (2 bits) and C (1 bit) are zero.
func (b *BitsStruct) validate() error {
	if b.B[0]&^0x03 != 0 {
		return fmt.Errorf("%w: BitsStruct.B (Bitvector[2]) is 0x%02x, padding bits set", errGenericSSZ, b.B[0])
	}
	if b.C[0]&^0x01 != 0 {
		return fmt.Errorf("%w: BitsStruct.C (Bitvector[1]) is 0x%02x, padding bits set", errGenericSSZ, b.C[0])
	}
	return nil
}

// genericSigningRoot returns signing_root(v): the root of v's fields but the
// last. The vectors give it for every container.
func genericSigningRoot(v testContainer) ([32]byte, error) {
	hh := ssz.DefaultHasherPool.Get()
	defer ssz.DefaultHasherPool.Put(hh)
	indx := hh.Index()
	switch v := v.(type) {
	case *SingleFieldTestStruct:
		// No fields: the root of zero chunks is the zero chunk.
	case *SmallTestStruct:
		hh.PutUint16(v.A)
	case *FixedTestStruct:
		hh.PutUint8(v.A)
		hh.PutUint64(v.B)
	case *BitsStruct:
		if len(v.A) == 0 || len(v.D) == 0 {
			return [32]byte{}, ssz.ErrEmptyBitlist
		}
		hh.PutBitlist(v.A, 5)
		hh.PutBytes(v.B[:])
		hh.PutBytes(v.C[:])
		hh.PutBitlist(v.D, 6)
	case *VarTestStruct:
		if err := v.putFields(hh, 2); err != nil {
			return [32]byte{}, err
		}
	case *ComplexTestStruct:
		if err := v.putFields(hh, 6); err != nil {
			return [32]byte{}, err
		}
	default:
		return [32]byte{}, fmt.Errorf("signing root of %T: unknown container", v)
	}
	hh.Merkleize(indx)
	return hh.HashRoot()
}
