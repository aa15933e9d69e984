package spectest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The value.yaml files of the ssz vectors write a container as a mapping of
// its fields in declaration order (snake_case names for the phase 0
// containers, the spec's A, B, ... for the ssz_generic ones), integers as
// decimal numbers, byte vectors, byte lists and bitfields as 0x-hex strings,
// and lists and vectors of other types as sequences. matchYAML checks a
// decoded Go value against such a file, field by field, so a decoder that
// puts a value in the wrong field or misreads it fails even before hashing.

// yamlMatcher is implemented by values that compare themselves with their
// value.yaml form (the ssz_generic basic values).
type yamlMatcher interface {
	matchYAML(n *yaml.Node) error
}

// matchYAML reports the first difference between n (usually a document node
// from value.yaml) and the Go value v.
func matchYAML(n *yaml.Node, v any) error {
	return matchValue(n, reflect.ValueOf(v), "value")
}

func matchValue(n *yaml.Node, v reflect.Value, at string) error {
	n = resolveNode(n)
	if n == nil {
		return fmt.Errorf("%s: empty yaml", at)
	}
	if v.IsValid() && v.CanInterface() {
		if m, ok := v.Interface().(yamlMatcher); ok {
			if err := m.matchYAML(n); err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
			return nil
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return matchValue(n, reflect.Zero(v.Type().Elem()), at)
		}
		return matchValue(n, v.Elem(), at)
	case reflect.Interface:
		return matchValue(n, v.Elem(), at)
	case reflect.Bool:
		want, err := scalarBool(n)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if v.Bool() != want {
			return fmt.Errorf("%s: got %t, want %t", at, v.Bool(), want)
		}
		return nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s: want a number, yaml has a %s", at, kindName(n))
		}
		if v.Kind() == reflect.Uint8 && strings.HasPrefix(n.Value, "0x") {
			// A one-byte bitvector held in a byte (justification_bits).
			return matchBytes(n, []byte{byte(v.Uint())}, at)
		}
		want, err := strconv.ParseUint(n.Value, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: parse %q: %w", at, n.Value, err)
		}
		if v.Uint() != want {
			return fmt.Errorf("%s: got %d, want %d", at, v.Uint(), want)
		}
		return nil
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			for i := range b {
				b[i] = byte(v.Index(i).Uint())
			}
			return matchBytes(n, b, at)
		}
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s: want a sequence, yaml has a %s", at, kindName(n))
		}
		if len(n.Content) != v.Len() {
			return fmt.Errorf("%s: got %d elements, want %d", at, v.Len(), len(n.Content))
		}
		for i, e := range n.Content {
			if err := matchValue(e, v.Index(i), fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		return matchStruct(n, v, at)
	}
	return fmt.Errorf("%s: cannot compare a %s with yaml", at, v.Type())
}

// matchStruct compares the exported fields of v, in order, with the entries of
// the mapping n. Keys match field names ignoring case and underscores
// (custody_bit_0_indices is CustodyBit0Indices).
func matchStruct(n *yaml.Node, v reflect.Value, at string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: want a mapping, yaml has a %s", at, kindName(n))
	}
	t := v.Type()
	var fields []int
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			fields = append(fields, i)
		}
	}
	if len(n.Content) != 2*len(fields) {
		return fmt.Errorf("%s: %s has %d fields, yaml has %d", at, t.Name(), len(fields), len(n.Content)/2)
	}
	for j, i := range fields {
		name := t.Field(i).Name
		k := n.Content[2*j].Value
		if !strings.EqualFold(strings.ReplaceAll(k, "_", ""), name) {
			return fmt.Errorf("%s: field %d is %s, yaml has %s", at, j, name, k)
		}
		if err := matchValue(n.Content[2*j+1], v.Field(i), at+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// matchBytes compares got with a 0x-hex scalar.
func matchBytes(n *yaml.Node, got []byte, at string) error {
	want, err := scalarHex(n)
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s: got 0x%x, want 0x%x", at, got, want)
	}
	return nil
}

func resolveNode(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		case n.Kind == yaml.DocumentNode:
			return nil
		default:
			return n
		}
	}
	return nil
}

func scalarHex(n *yaml.Node) ([]byte, error) {
	if n.Kind != yaml.ScalarNode || !strings.HasPrefix(n.Value, "0x") {
		return nil, fmt.Errorf("want a 0x-hex string, yaml has %s", describe(n))
	}
	b, err := hex.DecodeString(n.Value[2:])
	if err != nil {
		return nil, fmt.Errorf("decode hex %q: %w", n.Value, err)
	}
	return b, nil
}

func scalarBool(n *yaml.Node) (bool, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		switch n.Value {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("want true or false, yaml has %s", describe(n))
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return "scalar"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	}
	return "node"
}

func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}
