package spectest

import (
	"bytes"
	"fmt"
	"strings"

	ssz "github.com/ferranbt/fastssz"
	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// RunnerSSZStatic is the runner of the phase 0 container vectors.
const RunnerSSZStatic = "ssz_static"

// staticValue is a decoded ssz_static value with the operations a case checks.
type staticValue struct {
	value   any // the decoded Go value, compared with value.yaml
	marshal func() ([]byte, error)
	size    func() int
	root    func() (types.Root, error)
	// signing is nil for containers that are not signed.
	signing func() (types.Root, error)
}

// staticDecoder decodes serialized.ssz of one container type.
type staticDecoder func(cfg *params.Config, raw []byte) (*staticValue, error)

// sszContainer is what the generated fastssz code gives every fixed-shape
// container.
type sszContainer[T any] interface {
	*T
	MarshalSSZ() ([]byte, error)
	UnmarshalSSZ([]byte) error
	SizeSSZ() int
	HashTreeRoot() ([32]byte, error)
}

// container returns the decoder of a generated container type; signing, when
// not nil, computes its signing root.
func container[T any, P sszContainer[T]](signing func(P) (types.Root, error)) staticDecoder {
	return func(_ *params.Config, raw []byte) (*staticValue, error) {
		v := P(new(T))
		if err := v.UnmarshalSSZ(raw); err != nil {
			return nil, err
		}
		sv := &staticValue{
			value:   v,
			marshal: v.MarshalSSZ,
			size:    v.SizeSSZ,
			root: func() (types.Root, error) {
				r, err := v.HashTreeRoot()
				return types.Root(r), err
			},
		}
		if signing != nil {
			sv.signing = func() (types.Root, error) { return signing(v) }
		}
		return sv, nil
	}
}

// noErr adapts a signing-root method that cannot fail.
func noErr[P any](f func(P) types.Root) func(P) (types.Root, error) {
	return func(p P) (types.Root, error) { return f(p), nil }
}

// staticTypes are the v0.8.3 phase 0 containers of ssz_static, by handler
// name. The signed ones (those roots.yaml gives a signing_root for) have a
// signing-root function.
var staticTypes = map[string]staticDecoder{
	"Fork":                         container[types.Fork](nil),
	"Checkpoint":                   container[types.Checkpoint](nil),
	"Validator":                    container[types.Validator](nil),
	"Crosslink":                    container[types.Crosslink](nil),
	"AttestationData":              container[types.AttestationData](nil),
	"AttestationDataAndCustodyBit": container[types.AttestationDataAndCustodyBit](nil),
	"IndexedAttestation":           container(indexedAttestationSigningRoot),
	"PendingAttestation":           container[types.PendingAttestation](nil),
	"Eth1Data":                     container[types.Eth1Data](nil),
	"DepositData":                  container(noErr((*types.DepositData).SigningRoot)),
	"CompactCommittee":             container[types.CompactCommittee](nil),
	"BeaconBlockHeader":            container(noErr((*types.BeaconBlockHeader).SigningRoot)),
	"ProposerSlashing":             container[types.ProposerSlashing](nil),
	"AttesterSlashing":             container[types.AttesterSlashing](nil),
	"Attestation":                  container(attestationSigningRoot),
	"Deposit":                      container[types.Deposit](nil),
	"VoluntaryExit":                container(noErr((*types.VoluntaryExit).SigningRoot)),
	"Transfer":                     container(noErr((*types.Transfer).SigningRoot)),
	"BeaconBlockBody":              container[types.BeaconBlockBody](nil),
	"BeaconBlock":                  container((*types.BeaconBlock).SigningRoot),
	"BeaconState":                  decodeBeaconState,
	"HistoricalBatch":              decodeHistoricalBatch,
}

func decodeBeaconState(cfg *params.Config, raw []byte) (*staticValue, error) {
	if cfg == nil {
		return nil, fmt.Errorf("decode BeaconState: %w: the general config has no preset", ErrNotRun)
	}
	s, err := types.UnmarshalBeaconState(cfg, raw)
	if err != nil {
		return nil, err
	}
	return &staticValue{value: s, marshal: s.MarshalSSZ, size: s.SizeSSZ, root: s.HashTreeRoot}, nil
}

func decodeHistoricalBatch(cfg *params.Config, raw []byte) (*staticValue, error) {
	if cfg == nil {
		return nil, fmt.Errorf("decode HistoricalBatch: %w: the general config has no preset", ErrNotRun)
	}
	h, err := types.UnmarshalHistoricalBatch(cfg, raw)
	if err != nil {
		return nil, err
	}
	return &staticValue{value: h, marshal: h.MarshalSSZ, size: h.SizeSSZ, root: h.HashTreeRoot}, nil
}

// beacon/types has no signing root for Attestation and IndexedAttestation
// (nothing signs them as a whole: their signatures cover
// AttestationDataAndCustodyBit), but the vectors give one, so it is computed
// here from the fields, all but the signature, with the same hasher.

func attestationSigningRoot(a *types.Attestation) (types.Root, error) {
	return hashFields(func(hh ssz.HashWalker) error {
		if len(a.AggregationBits) == 0 || len(a.CustodyBits) == 0 {
			return ssz.ErrEmptyBitlist
		}
		hh.PutBitlist(a.AggregationBits, params.FixedMaxValidatorsPerCommittee)
		if err := a.Data.HashTreeRootWith(hh); err != nil {
			return err
		}
		hh.PutBitlist(a.CustodyBits, params.FixedMaxValidatorsPerCommittee)
		return nil
	})
}

func indexedAttestationSigningRoot(a *types.IndexedAttestation) (types.Root, error) {
	return hashFields(func(hh ssz.HashWalker) error {
		for _, l := range [][]uint64{a.CustodyBit0Indices, a.CustodyBit1Indices} {
			if len(l) > params.FixedMaxValidatorsPerCommittee {
				return ssz.ErrListTooBig
			}
			hh.PutUint64Array(l, params.FixedMaxValidatorsPerCommittee)
		}
		return a.Data.HashTreeRootWith(hh)
	})
}

// hashFields returns the root of the container whose field roots fields puts
// on the hasher.
func hashFields(fields func(hh ssz.HashWalker) error) (types.Root, error) {
	hh := ssz.DefaultHasherPool.Get()
	defer ssz.DefaultHasherPool.Put(hh)
	indx := hh.Index()
	if err := fields(hh); err != nil {
		return types.Root{}, err
	}
	hh.Merkleize(indx)
	r, err := hh.HashRoot()
	return types.Root(r), err
}

// RegisterSSZStatic registers the ssz_static handler of every phase 0
// container.
func RegisterSSZStatic(r *Registry) {
	for name, dec := range staticTypes {
		r.Register(RunnerSSZStatic, name, staticHandler(dec))
	}
}

// staticRoots is an ssz_static roots.yaml.
type staticRoots struct {
	Root        string `yaml:"root"`
	SigningRoot string `yaml:"signing_root"`
}

// staticHandler checks a case: serialized.ssz decodes, its encoded size and
// re-encoding match the input, its root (and signing root for signed
// containers) match roots.yaml, and the decoded value matches value.yaml.
func staticHandler(dec staticDecoder) Handler {
	return func(c *Case) error {
		raw, err := c.ReadSSZ("serialized.ssz")
		if err != nil {
			return err
		}
		var roots staticRoots
		if err := c.ReadYAML("roots.yaml", &roots); err != nil {
			return err
		}
		v, err := dec(c.Cfg, raw)
		if err != nil {
			return fmt.Errorf("decode serialized.ssz: %w", err)
		}
		if got := v.size(); got != len(raw) {
			return fmt.Errorf("check size: SizeSSZ is %d, serialized.ssz has %d bytes", got, len(raw))
		}
		enc, err := v.marshal()
		if err != nil {
			return fmt.Errorf("encode value: %w", err)
		}
		if !bytes.Equal(enc, raw) {
			return fmt.Errorf("check round trip: re-encoding differs from serialized.ssz at byte %d", firstDiff(enc, raw))
		}
		root, err := v.root()
		if err != nil {
			return fmt.Errorf("hash value: %w", err)
		}
		if err := checkRoot("root", root, roots.Root); err != nil {
			return err
		}
		switch {
		case v.signing != nil && roots.SigningRoot == "":
			return fmt.Errorf("check signing root: roots.yaml has no signing_root for a signed container")
		case v.signing == nil && roots.SigningRoot != "":
			return fmt.Errorf("check signing root: roots.yaml has a signing_root but shardlab computes none for %s", c.Handler)
		case v.signing != nil:
			sr, err := v.signing()
			if err != nil {
				return fmt.Errorf("hash signing root: %w", err)
			}
			if err := checkRoot("signing_root", sr, roots.SigningRoot); err != nil {
				return err
			}
		}
		var want yaml.Node
		if err := c.ReadYAML("value.yaml", &want); err != nil {
			return err
		}
		if err := matchYAML(&want, v.value); err != nil {
			return fmt.Errorf("check value.yaml: %w", err)
		}
		return nil
	}
}

// checkRoot compares a computed root with a 0x-hex root from a vector file.
func checkRoot(what string, got types.Root, want string) error {
	if want == "" {
		return fmt.Errorf("check %s: no expected %s in the vector", what, what)
	}
	if !strings.EqualFold(got.String(), want) {
		return fmt.Errorf("check %s: got %s, want %s", what, got, want)
	}
	return nil
}

// firstDiff returns the first index where a and b differ (or the shorter
// length).
func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
