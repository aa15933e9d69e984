package slasher

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/types"
)

// FuzzSlasher feeds arbitrary attestations and headers (epochs, indices,
// roots from the input) to a slasher: it never panics, every error wraps
// one of the package's sentinels, and every attester slashing it returns
// passes process_attester_slashing.
func FuzzSlasher(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x01\x05" +
		"\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x02\x05"))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := newTestSlasher(t, nil, 16)
		for len(in) >= 18 {
			src := types.Epoch(binary.LittleEndian.Uint64(in) % 64)
			tgt := types.Epoch(binary.LittleEndian.Uint64(in[8:]) % 64)
			if in[0]&0x80 != 0 { // sometimes huge
				src, tgt = types.Epoch(binary.LittleEndian.Uint64(in)), types.Epoch(binary.LittleEndian.Uint64(in[8:]))
			}
			root, n := in[16], int(in[17]%8)
			in = in[18:]
			var idx []uint64
			for ; n > 0 && len(in) > 0; n-- {
				idx = append(idx, uint64(in[0]))
				in = in[1:]
			}
			a := att(src, tgt, root, idx...)
			got, err := s.OnAttestations([]*types.IndexedAttestation{a})
			checkSentinel(t, err)
			for _, as := range got {
				if len(SlashedIndices(as)) == 0 {
					t.Fatalf("slashing that slashes nobody: %+v", as)
				}
				checkAttesterSlashing(t, as, SlashedIndices(as))
			}
			ps, err := s.OnProposal(types.ValidatorIndex(root), &types.BeaconBlockHeader{Slot: types.Slot(uint64(src) * 8), BodyRoot: types.Root{byte(tgt)}})
			checkSentinel(t, err)
			if ps != nil && ps.Header1 == ps.Header2 {
				t.Fatalf("proposer slashing of one header: %+v", ps)
			}
		}
	})
}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrOutOfWindow) && !errors.Is(err, ErrUnknownValidator) {
		t.Fatalf("error without a sentinel: %v", err)
	}
}
