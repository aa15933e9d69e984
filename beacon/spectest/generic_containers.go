package spectest

//go:generate go tool sszgen --path generic_containers.go --objs SingleFieldTestStruct,SmallTestStruct,FixedTestStruct,BitsStruct --output generic_containers_encoding.go

// The ssz_generic test containers whose SSZ code sszgen generates, exactly as
// it generates the phase 0 containers of beacon/types. VarTestStruct and
// ComplexTestStruct are in generic_varstructs.go.

// SingleFieldTestStruct is {A: byte}.
type SingleFieldTestStruct struct {
	A uint8
}

// SmallTestStruct is {A: uint16, B: uint16}.
type SmallTestStruct struct {
	A uint16
	B uint16
}

// FixedTestStruct is {A: uint8, B: uint64, C: uint32}.
type FixedTestStruct struct {
	A uint8
	B uint64
	C uint32
}

// BitsStruct is {A: Bitlist[5], B: Bitvector[2], C: Bitvector[1],
// D: Bitlist[6], E: Bitvector[8]}. sszgen encodes a bitvector as fixed
// bytes, so the padding bits of B and C are checked by validate.
type BitsStruct struct {
	A []byte  `ssz:"bitlist" ssz-max:"5"`
	B [1]byte `ssz-size:"1"`
	C [1]byte `ssz-size:"1"`
	D []byte  `ssz:"bitlist" ssz-max:"6"`
	E [1]byte `ssz-size:"1"`
}
