package apitest

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"

	"github.com/shardlab/shardlab/beacon/types"
)

// Fill sets the value v points to to random content that respects its
// ssz-max and bitlist tags, so that SSZ containers stay encodable: lists
// get 0 to 3 elements (never nil), bitlists a delimiter bit, integers
// often their extreme values. Unexported fields are left alone.
func Fill(r *rand.Rand, v any) {
	fill(r, reflect.ValueOf(v).Elem(), nil, false)
}

func fill(r *rand.Rand, v reflect.Value, maxes []uint64, bitlist bool) {
	t := v.Type()
	if t == reflect.TypeFor[types.JustificationBits]() {
		v.SetUint(r.Uint64N(16))
		return
	}
	var inner []uint64
	if len(maxes) > 1 {
		inner = maxes[1:]
	}
	switch t.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		switch r.IntN(4) {
		case 0:
			v.SetUint(0)
		case 1:
			v.SetUint(math.MaxUint64 >> (64 - t.Bits()))
		default:
			v.SetUint(r.Uint64() >> (64 - t.Bits()))
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(r, v.Index(i), inner, false)
		}
	case reflect.Slice:
		n := uint64(r.IntN(4))
		if len(maxes) > 0 && n > maxes[0] {
			n = maxes[0]
		}
		if t.Elem().Kind() == reflect.Uint8 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			if bitlist {
				b = append(b, byte(1<<r.IntN(8)))
			}
			v.SetBytes(b)
			return
		}
		s := reflect.MakeSlice(t, int(n), int(n))
		for i := range int(n) {
			fill(r, s.Index(i), inner, false)
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		fill(r, p.Elem(), maxes, bitlist)
		v.Set(p)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			var m []uint64
			if tag := f.Tag.Get("ssz-max"); tag != "" {
				for _, p := range strings.Split(tag, ",") {
					n, err := strconv.ParseUint(p, 10, 64)
					if err != nil {
						n = math.MaxUint64
					}
					m = append(m, n)
				}
			}
			fill(r, v.Field(i), m, f.Tag.Get("ssz") == "bitlist")
		}
	}
}
