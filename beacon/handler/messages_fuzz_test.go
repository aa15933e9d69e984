package handler

import (
	"bytes"
	"testing"

	"github.com/shardlab/shardlab/beacon/types"
)

// roundTrip checks decode -> re-encode == input for every request/response
// container.
func roundTrip(t *testing.T, data []byte) {
	for _, v := range []types.Codec{new(Status), new(BlocksByRangeRequest), new(BlocksByRootRequest),
		new(CrosslinkDataRequest), new(CrosslinkDataResponse)} {
		if err := types.Decode(v, data); err != nil {
			continue
		}
		out, err := v.MarshalSSZ()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("%T: re-encoding differs: %x vs %x (%v)", v, out, data, err)
		}
	}
}

func FuzzMessages(f *testing.F) {
	seeds := []types.Codec{
		&Status{ForkVersion: [4]byte{1}, HeadSlot: 9, Shards: []uint64{1, 2}},
		&BlocksByRangeRequest{StartSlot: 1, Count: 64, Step: 1},
		&BlocksByRootRequest{Roots: [][32]byte{{1}, {2}}},
		&CrosslinkDataRequest{Shard: 3, StartEpoch: 1, EndEpoch: 2},
		&CrosslinkDataResponse{DataRoot: [32]byte{7}, Known: true},
	}
	for _, s := range seeds {
		b, err := s.MarshalSSZ()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(roundTrip)
}
