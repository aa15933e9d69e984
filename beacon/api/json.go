package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/shardlab/shardlab/beacon/types"
)

// The JSON codec of the Beacon API's conventions, driven by struct fields:
//
//   - a struct is an object; an exported field's key is its Go name in
//     snake_case (ParentRoot -> parent_root, Header1 -> header_1,
//     CustodyBit0Indices -> custody_bit_0_indices, Eth1Data -> eth1_data),
//     or the name of a `json:"name"` tag; `json:"-"` skips a field and
//     `json:",omitempty"` omits a nil pointer, nil interface or empty
//     slice/map/string on output and makes the key optional on input;
//   - unsigned integers (Slot, Epoch, Gwei, uint64, ...) are decimal strings;
//     signed integers are JSON numbers (only the API's own types use them);
//   - byte arrays ([N]byte: Root, BLSPubkey, ...) and byte slices are 0x-hex;
//     a bitlist (a []byte field tagged `ssz:"bitlist"`) is the 0x-hex of its
//     SSZ bytes, delimiter bit included; types.JustificationBits (a
//     Bitvector[4]) is the 0x-hex of its one byte;
//   - other arrays and slices are JSON arrays (a nil slice is []); a nil
//     pointer is written as its zero value;
//   - maps with string keys are objects with sorted keys; bools are bools.
//
// Decoding is strict: every key must be present (unless omitempty), unknown
// keys are errors, numbers must be decimal strings, hex must be 0x-prefixed
// and of the exact length of fixed-size fields, lists must respect their
// ssz-max tags and bitlists must be well-formed. Errors wrap ErrInvalidJSON
// and name the offending field path.

// ErrInvalidJSON is wrapped by every DecodeJSON error.
var ErrInvalidJSON = errors.New("invalid json")

var (
	rawMessageType        = reflect.TypeFor[json.RawMessage]()
	justificationBitsType = reflect.TypeFor[types.JustificationBits]()
)

// EncodeJSON returns the JSON encoding of v in the Beacon API conventions.
func EncodeJSON(v any) ([]byte, error) {
	return AppendJSON(nil, v)
}

// AppendJSON appends the JSON encoding of v to dst.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: dst}
	if err := e.value(reflect.ValueOf(v), fieldTag{}); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return e.buf, nil
}

// EncodeSigned encodes a v0.8.3 signed container (a struct whose last field
// is Signature, such as BeaconBlock) in the Beacon API's signed shape:
// {"message": <the other fields>, "signature": "0x..."}. The message is the
// part the signature covers: its hash tree root is the container's
// signing_root.
func EncodeSigned(v any) ([]byte, error) {
	rv, si, err := signedStruct(reflect.ValueOf(v))
	if err != nil {
		return nil, fmt.Errorf("encode signed json: %w", err)
	}
	e := encoder{}
	e.buf = append(e.buf, `{"message":`...)
	if err := e.structFields(rv, si, len(si.fields)-1); err != nil {
		return nil, fmt.Errorf("encode signed json: %w", err)
	}
	e.buf = append(e.buf, `,"signature":`...)
	last := si.fields[len(si.fields)-1]
	if err := e.value(rv.Field(last.index), last.tag); err != nil {
		return nil, fmt.Errorf("encode signed json: %w", err)
	}
	e.buf = append(e.buf, '}')
	return e.buf, nil
}

// DecodeJSON decodes data, in the conventions of EncodeJSON, into the value
// v points to. Fields absent from v's type are errors; v's unexported fields
// are left as they are (decode a BeaconState into types.NewBeaconState(cfg)).
// On error *v is unchanged.
func DecodeJSON(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: decode into %T: want a non-nil pointer", ErrInvalidJSON, v)
	}
	in, err := parseJSON(data)
	if err != nil {
		return err
	}
	// Decode into a shallow copy (which keeps the unexported fields): the
	// decoder only ever replaces slices, maps and pointers, so *v is left
	// untouched when it fails.
	tmp := reflect.New(rv.Type().Elem())
	tmp.Elem().Set(rv.Elem())
	d := decoder{}
	if err := d.value(in, tmp.Elem(), fieldTag{}); err != nil {
		return err
	}
	rv.Elem().Set(tmp.Elem())
	return nil
}

// DecodeSigned decodes the {"message": ..., "signature": ...} shape of
// EncodeSigned into the signed container v points to. On error *v is
// unchanged.
func DecodeSigned(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: decode into %T: want a non-nil pointer", ErrInvalidJSON, v)
	}
	orig, si, err := signedStruct(rv)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}
	sv := reflect.New(orig.Type()).Elem()
	sv.Set(orig)
	in, err := parseJSON(data)
	if err != nil {
		return err
	}
	obj, ok := in.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: want an object with message and signature, got %s", ErrInvalidJSON, kindOf(in))
	}
	d := decoder{}
	if err := d.checkKeys(obj, []string{"message", "signature"}, nil); err != nil {
		return err
	}
	msg, ok := obj["message"].(map[string]any)
	if !ok {
		return fmt.Errorf("%w: message: want an object, got %s", ErrInvalidJSON, kindOf(obj["message"]))
	}
	d.path = append(d.path, "message")
	if err := d.structFields(msg, sv, si, len(si.fields)-1); err != nil {
		return err
	}
	d.path = d.path[:0]
	last := si.fields[len(si.fields)-1]
	d.path = append(d.path, "signature")
	if err := d.value(obj["signature"], sv.Field(last.index), last.tag); err != nil {
		return err
	}
	orig.Set(sv)
	return nil
}

// signedStruct dereferences v to a struct whose last field is Signature.
func signedStruct(v reflect.Value) (reflect.Value, *structInfo, error) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}, nil, errors.New("nil value")
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, nil, fmt.Errorf("%s is not a struct", v.Type())
	}
	si := infoOf(v.Type())
	if n := len(si.fields); n == 0 || v.Type().Field(si.fields[n-1].index).Name != "Signature" {
		return reflect.Value{}, nil, fmt.Errorf("%s has no trailing Signature field", v.Type())
	}
	return v, si, nil
}

// --- field metadata ---

// fieldTag is what a struct field's tags say about its value: list limits
// and sizes per dimension (from ssz-max and ssz-size) and the bitlist flag.
type fieldTag struct {
	bitlist bool
	maxes   []uint64 // per dimension, math.MaxUint64 = unbounded
	sizes   []int    // per dimension, -1 = variable
}

// elem returns the tag of an element: the next dimension.
func (t fieldTag) elem() fieldTag {
	e := fieldTag{}
	if len(t.maxes) > 1 {
		e.maxes = t.maxes[1:]
	}
	if len(t.sizes) > 1 {
		e.sizes = t.sizes[1:]
	}
	return e
}

func (t fieldTag) max() uint64 {
	if len(t.maxes) == 0 {
		return math.MaxUint64
	}
	return t.maxes[0]
}

func (t fieldTag) size() int {
	if len(t.sizes) == 0 {
		return -1
	}
	return t.sizes[0]
}

type fieldInfo struct {
	index     int
	name      string
	omitEmpty bool
	tag       fieldTag
}

type structInfo struct {
	fields []fieldInfo
	names  []string
}

var structCache sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fi := fieldInfo{index: i, name: SnakeCase(f.Name)}
		if tag, ok := f.Tag.Lookup("json"); ok {
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" && opts == "" {
				continue
			}
			if name != "" {
				fi.name = name
			}
			fi.omitEmpty = slices.Contains(strings.Split(opts, ","), "omitempty")
		}
		fi.tag.bitlist = f.Tag.Get("ssz") == "bitlist"
		if m := f.Tag.Get("ssz-max"); m != "" {
			for _, p := range strings.Split(m, ",") {
				n, err := strconv.ParseUint(p, 10, 64)
				if err != nil {
					n = math.MaxUint64 // "?": unbounded
				}
				fi.tag.maxes = append(fi.tag.maxes, n)
			}
		}
		if s := f.Tag.Get("ssz-size"); s != "" {
			for _, p := range strings.Split(s, ",") {
				n, err := strconv.Atoi(p)
				if err != nil {
					n = -1
				}
				fi.tag.sizes = append(fi.tag.sizes, n)
			}
		}
		si.fields = append(si.fields, fi)
		si.names = append(si.names, fi.name)
	}
	actual, _ := structCache.LoadOrStore(t, si)
	return actual.(*structInfo)
}

// SnakeCase is the JSON key of a Go field name: words split at case changes
// and before digits, lower-cased and joined by underscores, as the spec
// names its fields (parent_root, header_1, custody_bit_0_indices), except
// that the digit of "Eth1" stays attached (eth1_data).
func SnakeCase(name string) string {
	rs := []rune(name)
	var b strings.Builder
	word := 0 // start of the current word in rs
	for i, r := range rs {
		if i > 0 {
			prev := rs[i-1]
			var next rune
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			split := false
			switch {
			case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
				split = true
			case unicode.IsUpper(r) && unicode.IsUpper(prev) && unicode.IsLower(next):
				split = true // the end of an acronym: BLSPubkey -> bls_pubkey
			case unicode.IsDigit(r) && unicode.IsLetter(prev):
				split = !strings.EqualFold(string(rs[word:i]), "eth")
			}
			if split {
				b.WriteByte('_')
				word = i
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// --- encoder ---

type encoder struct{ buf []byte }

func (e *encoder) value(v reflect.Value, tag fieldTag) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := v.Type()
	switch t {
	case rawMessageType:
		if v.Len() == 0 {
			e.buf = append(e.buf, "null"...)
		} else {
			e.buf = append(e.buf, v.Bytes()...)
		}
		return nil
	case justificationBitsType:
		e.buf = append(e.buf, `"0x`...)
		e.buf = hex.AppendEncode(e.buf, []byte{byte(v.Uint())})
		e.buf = append(e.buf, '"')
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = append(e.buf, '"')
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
		e.buf = append(e.buf, '"')
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.String:
		e.buf = appendString(e.buf, v.String())
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			e.hexBytes(arrayBytes(v))
			return nil
		}
		return e.list(v, tag)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			e.hexBytes(v.Bytes())
			return nil
		}
		return e.list(v, tag)
	case reflect.Pointer:
		if v.IsNil() {
			return e.value(reflect.Zero(t.Elem()), tag)
		}
		return e.value(v.Elem(), tag)
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(v.Elem(), tag)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return fmt.Errorf("unsupported map key type %s", t.Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, k.String())
			e.buf = append(e.buf, ':')
			if err := e.value(v.MapIndex(k), fieldTag{}); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	case reflect.Struct:
		return e.structFields(v, infoOf(t), -1)
	default:
		return fmt.Errorf("unsupported type %s", t)
	}
	return nil
}

// structFields writes v's fields as an object; n >= 0 writes only the first n.
func (e *encoder) structFields(v reflect.Value, si *structInfo, n int) error {
	fields := si.fields
	if n >= 0 {
		fields = fields[:n]
	}
	e.buf = append(e.buf, '{')
	first := true
	for _, f := range fields {
		fv := v.Field(f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = appendString(e.buf, f.name)
		e.buf = append(e.buf, ':')
		if err := e.value(fv, f.tag); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) list(v reflect.Value, tag fieldTag) error {
	e.buf = append(e.buf, '[')
	et := tag.elem()
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v.Index(i), et); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *encoder) hexBytes(b []byte) {
	e.buf = append(e.buf, `"0x`...)
	e.buf = hex.AppendEncode(e.buf, b)
	e.buf = append(e.buf, '"')
}

// arrayBytes returns the bytes of a byte array value, addressable or not.
func arrayBytes(v reflect.Value) []byte {
	if v.CanAddr() {
		return v.Bytes()
	}
	b := make([]byte, v.Len())
	reflect.Copy(reflect.ValueOf(b), v)
	return b
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map, reflect.String:
		return v.Len() == 0
	}
	return false
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
