package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// The decoding half of the JSON codec (see json.go for the conventions).

// parseJSON parses one JSON value (numbers kept as json.Number).
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var in any
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the JSON value", ErrInvalidJSON)
	}
	return in, nil
}

type decoder struct{ path []string }

func (d *decoder) errorf(format string, args ...any) error {
	where := strings.Join(d.path, "")
	where = strings.TrimPrefix(where, ".")
	if where == "" {
		where = "(root)"
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidJSON, where, fmt.Sprintf(format, args...))
}

func kindOf(in any) string {
	switch in.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", in)
}

func (d *decoder) value(in any, v reflect.Value, tag fieldTag) error {
	t := v.Type()
	switch t {
	case rawMessageType:
		raw, err := json.Marshal(in)
		if err != nil {
			return d.errorf("%v", err)
		}
		v.SetBytes(raw)
		return nil
	case justificationBitsType:
		b, err := d.hexString(in)
		if err != nil {
			return err
		}
		if len(b) != 1 || b[0] >= 1<<4 {
			return d.errorf("want a Bitvector[4] as one byte of hex below 0x10")
		}
		v.SetUint(uint64(b[0]))
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		b, ok := in.(bool)
		if !ok {
			return d.errorf("want a boolean, got %s", kindOf(in))
		}
		v.SetBool(b)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s, ok := in.(string)
		if !ok {
			return d.errorf("want an unsigned integer as a decimal string, got %s", kindOf(in))
		}
		n, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			return d.errorf("want an unsigned %d-bit integer as a decimal string, got %q", t.Bits(), truncate(s))
		}
		v.SetUint(n)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		num, ok := in.(json.Number)
		if !ok {
			return d.errorf("want an integer, got %s", kindOf(in))
		}
		n, err := strconv.ParseInt(string(num), 10, t.Bits())
		if err != nil {
			return d.errorf("want a %d-bit integer, got %s", t.Bits(), truncate(string(num)))
		}
		v.SetInt(n)
	case reflect.String:
		s, ok := in.(string)
		if !ok {
			return d.errorf("want a string, got %s", kindOf(in))
		}
		v.SetString(s)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			b, err := d.hexString(in)
			if err != nil {
				return err
			}
			if len(b) != t.Len() {
				return d.errorf("want %d bytes of hex, got %d", t.Len(), len(b))
			}
			reflect.Copy(v, reflect.ValueOf(b))
			return nil
		}
		arr, ok := in.([]any)
		if !ok {
			return d.errorf("want an array, got %s", kindOf(in))
		}
		if len(arr) != t.Len() {
			return d.errorf("want an array of exactly %d elements, got %d", t.Len(), len(arr))
		}
		return d.elements(arr, v, tag.elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			b, err := d.hexString(in)
			if err != nil {
				return err
			}
			if err := d.checkBytes(b, tag); err != nil {
				return err
			}
			v.SetBytes(b)
			return nil
		}
		arr, ok := in.([]any)
		if !ok {
			return d.errorf("want an array, got %s", kindOf(in))
		}
		if m := tag.max(); uint64(len(arr)) > m {
			return d.errorf("list of %d elements exceeds its limit %d", len(arr), m)
		}
		if n := tag.size(); n >= 0 && len(arr) != n {
			return d.errorf("want exactly %d elements, got %d", n, len(arr))
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		if err := d.elements(arr, s, tag.elem()); err != nil {
			return err
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := d.value(in, p.Elem(), tag); err != nil {
			return err
		}
		v.Set(p)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return d.errorf("cannot decode into %s", t)
		}
		if in != nil {
			v.Set(reflect.ValueOf(in))
		}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return d.errorf("cannot decode into %s", t)
		}
		obj, ok := in.(map[string]any)
		if !ok {
			return d.errorf("want an object, got %s", kindOf(in))
		}
		m := reflect.MakeMapWithSize(t, len(obj))
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ev := reflect.New(t.Elem()).Elem()
			d.path = append(d.path, "."+k)
			if err := d.value(obj[k], ev, fieldTag{}); err != nil {
				return err
			}
			d.path = d.path[:len(d.path)-1]
			m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		v.Set(m)
	case reflect.Struct:
		obj, ok := in.(map[string]any)
		if !ok {
			return d.errorf("want an object, got %s", kindOf(in))
		}
		si := infoOf(t)
		return d.structFields(obj, v, si, len(si.fields))
	default:
		return d.errorf("cannot decode into %s", t)
	}
	return nil
}

func (d *decoder) elements(arr []any, v reflect.Value, tag fieldTag) error {
	for i := range arr {
		d.path = append(d.path, "["+strconv.Itoa(i)+"]")
		if err := d.value(arr[i], v.Index(i), tag); err != nil {
			return err
		}
		d.path = d.path[:len(d.path)-1]
	}
	return nil
}

// structFields decodes the first n fields of si from obj, which must have
// exactly their keys (optional ones may be missing).
func (d *decoder) structFields(obj map[string]any, v reflect.Value, si *structInfo, n int) error {
	fields := si.fields[:n]
	names := si.names[:n]
	var optional []string
	for _, f := range fields {
		if f.omitEmpty {
			optional = append(optional, f.name)
		}
	}
	if err := d.checkKeys(obj, names, optional); err != nil {
		return err
	}
	for _, f := range fields {
		in, ok := obj[f.name]
		if !ok {
			continue
		}
		d.path = append(d.path, "."+f.name)
		if err := d.value(in, v.Field(f.index), f.tag); err != nil {
			return err
		}
		d.path = d.path[:len(d.path)-1]
	}
	return nil
}

// checkKeys reports the first unknown key of obj (in sorted order) and the
// first required name it lacks.
func (d *decoder) checkKeys(obj map[string]any, names, optional []string) error {
	var unknown []string
	for k := range obj {
		if !slices.Contains(names, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return d.errorf("unknown field %q", truncate(unknown[0]))
	}
	for _, name := range names {
		if _, ok := obj[name]; !ok && !slices.Contains(optional, name) {
			return d.errorf("missing field %q", name)
		}
	}
	return nil
}

func (d *decoder) hexString(in any) ([]byte, error) {
	s, ok := in.(string)
	if !ok {
		return nil, d.errorf("want 0x-prefixed hex, got %s", kindOf(in))
	}
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return nil, d.errorf("want 0x-prefixed hex, got %q", truncate(s))
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, d.errorf("want 0x-prefixed hex, got %q: %v", truncate(s), err)
	}
	return b, nil
}

// checkBytes checks a byte list against its tag: a bitlist must end in a
// delimiter bit and hold at most ssz-max bits; a byte list at most ssz-max
// bytes, or exactly ssz-size.
func (d *decoder) checkBytes(b []byte, tag fieldTag) error {
	if tag.bitlist {
		if len(b) == 0 || b[len(b)-1] == 0 {
			return d.errorf("bitlist has no delimiter bit")
		}
		n := uint64(8*(len(b)-1) + bits.Len8(b[len(b)-1]) - 1)
		if m := tag.max(); n > m {
			return d.errorf("bitlist of %d bits exceeds its limit %d", n, m)
		}
		return nil
	}
	if m := tag.max(); uint64(len(b)) > m {
		return d.errorf("%d bytes exceed the limit %d", len(b), m)
	}
	if n := tag.size(); n >= 0 && len(b) != n {
		return d.errorf("want exactly %d bytes, got %d", n, len(b))
	}
	return nil
}

// truncate shortens s for error messages that quote client input.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
