package spectest

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestBasicTypesOf(t *testing.T) {
	for _, tc := range []struct{ handler, name, want string }{
		{"uints", "uint_128_random_3", "uint128"},
		{"uints", "uint_8_one_too_high", "uint8"},
		{"uints", "uint_16_last_byte_empty", "uint16"},
		{"boolean", "byte_0x80", "bool"},
		{"basic_vector", "vec_uint256_513_max", "Vector[uint256, 513]"},
		{"basic_vector", "vec_bool_0", "Vector[bool, 0]"},
		{"basic_vector", "vec_uint16_31_random_one_byte_less", "Vector[uint16, 31]"},
		{"bitvector", "bitvec_9_zero_8", "Bitvector[9]"},
		{"bitlist", "bitlist_512_but_513", "Bitlist[512]"},
	} {
		ts, err := basicTypesOf(tc.handler, tc.name)
		if err != nil || len(ts) != 1 || ts[0].String() != tc.want {
			t.Errorf("basicTypesOf(%s, %s) = %v, %v; want %s", tc.handler, tc.name, ts, err, tc.want)
		}
	}
	if ts, err := basicTypesOf("bitlist", "bitlist_no_delimiter_zeroes"); err != nil || len(ts) != len(noLimitBitlists) {
		t.Errorf("no-delimiter bitlist: %v, %v", ts, err)
	}
	for _, bad := range [][2]string{{"uints", "uint_7_max_0"}, {"basic_vector", "vec_int8_3"}, {"bitlist", "bits_3"}, {"other", "x"}} {
		if _, err := basicTypesOf(bad[0], bad[1]); err == nil {
			t.Errorf("basicTypesOf(%s, %s) accepted", bad[0], bad[1])
		}
	}
}

func TestBasicCodec(t *testing.T) {
	u256 := basicType{kind: kindUint, size: 32}
	bl := basicType{kind: kindBitlist, n: 16}
	bv := basicType{kind: kindBitvector, n: 3}
	vb := basicType{kind: kindVector, elem: &basicType{kind: kindBool, size: 1}, n: 3}
	for _, tc := range []struct {
		t       basicType
		in      string // hex
		ok      bool
		rootHex string // "" when not checked
	}{
		// A uint's root is its little-endian bytes padded to 32.
		{u256, "01" + string(bytes.Repeat([]byte("00"), 31)), true, "01" + string(bytes.Repeat([]byte("00"), 31))},
		{u256, "01", false, ""},
		{basicType{kind: kindUint, size: 2}, "3412", true, "3412" + string(bytes.Repeat([]byte("00"), 30))},
		{bv, "05", true, "05" + string(bytes.Repeat([]byte("00"), 31))},
		{bv, "08", false, ""},
		{bv, "", false, ""},
		{bl, "01", true, ""},
		{bl, "ff01", true, ""},
		{bl, "0001", true, ""},
		{bl, "00", false, ""},
		{bl, "ff00", false, ""},
		{bl, "ffff03", false, ""},
		{bl, "ffff01", true, ""},
		{vb, "010001", true, "010001" + string(bytes.Repeat([]byte("00"), 29))},
		{vb, "010201", false, ""},
		{vb, "0100", false, ""},
		{basicType{kind: kindVector, elem: &basicType{kind: kindBool, size: 1}}, "", false, ""},
	} {
		in, _ := hex.DecodeString(tc.in)
		v, err := tc.t.decode(in)
		if (err == nil) != tc.ok {
			t.Errorf("%s.decode(%s): err %v, want ok=%t", tc.t, tc.in, err, tc.ok)
			continue
		}
		if err != nil {
			continue
		}
		if got := v.encode(nil); !bytes.Equal(got, in) {
			t.Errorf("%s: re-encoded %x, want %s", tc.t, got, tc.in)
		}
		root, err := hashBasic(v)
		if err != nil {
			t.Errorf("%s: hash: %v", tc.t, err)
		}
		if tc.rootHex != "" && hex.EncodeToString(root[:]) != tc.rootHex {
			t.Errorf("%s(%s): root %x, want %s", tc.t, tc.in, root, tc.rootHex)
		}
	}
}

// FuzzBasicDecode checks that whatever the strict basic codec accepts is
// canonical: it re-encodes to the same bytes and hashes without error.
func FuzzBasicDecode(f *testing.F) {
	f.Add([]byte{0x01}, uint8(0), uint16(1))
	f.Add([]byte{0xff, 0x01}, uint8(4), uint16(16))
	f.Add([]byte{0x05}, uint8(3), uint16(3))
	f.Add([]byte{0x01, 0x00, 0x01}, uint8(2), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8, n uint16) {
		sizes := []int{1, 2, 4, 8, 16, 32}
		size := sizes[int(sel>>3)%len(sizes)]
		var typ basicType
		switch sel % 5 {
		case 0:
			typ = basicType{kind: kindUint, size: size}
		case 1:
			typ = basicType{kind: kindBool, size: 1}
		case 2:
			elem := basicType{kind: kindUint, size: size}
			if sel&0x80 != 0 {
				elem = basicType{kind: kindBool, size: 1}
			}
			typ = basicType{kind: kindVector, elem: &elem, n: int(n % 600)}
		case 3:
			typ = basicType{kind: kindBitvector, n: int(n % 600)}
		case 4:
			typ = basicType{kind: kindBitlist, n: int(n % 600)}
		}
		v, err := typ.decode(data)
		if err != nil {
			return
		}
		if got := v.encode(nil); !bytes.Equal(got, data) {
			t.Fatalf("%s accepted %x but re-encodes it as %x", typ, data, got)
		}
		if _, err := hashBasic(v); err != nil {
			t.Fatalf("%s: hash %x: %v", typ, data, err)
		}
	})
}

// FuzzContainerDecode checks the same for the ssz_generic containers, whose
// decoders are generated (or hand-written where sszgen cannot generate them).
func FuzzContainerDecode(f *testing.F) {
	for _, seed := range []struct {
		hex string
		sel uint8
	}{
		{"e1", 0},
		{"efecd6ed", 1},
		{"aa81e1e8dd11b4b5b661e1c1a8", 2},
		{"362407000000a4df", 3},
		{"0b000000020106" + "0c000000" + "72" + "01" + "01", 5},
	} {
		b, _ := hex.DecodeString(seed.hex)
		f.Add(b, seed.sel)
	}
	names := []string{"SingleFieldTestStruct", "SmallTestStruct", "FixedTestStruct", "VarTestStruct", "ComplexTestStruct", "BitsStruct"}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		name := names[int(sel)%len(names)]
		v := genericContainers[name]()
		if err := v.UnmarshalSSZ(data); err != nil {
			return
		}
		if b, ok := v.(*BitsStruct); ok && b.validate() != nil {
			return
		}
		got, err := v.MarshalSSZ()
		if err != nil {
			t.Fatalf("%s: decoded %x but cannot encode it: %v", name, data, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%s accepted %x but re-encodes it as %x", name, data, got)
		}
		if v.SizeSSZ() != len(data) {
			t.Fatalf("%s: SizeSSZ %d for %d bytes", name, v.SizeSSZ(), len(data))
		}
		if _, err := v.HashTreeRoot(); err != nil {
			t.Fatalf("%s: hash %x: %v", name, data, err)
		}
		if _, err := genericSigningRoot(v); err != nil {
			t.Fatalf("%s: signing root %x: %v", name, data, err)
		}
	})
}
